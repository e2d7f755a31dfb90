"""The reply webhook: a JSON notice POSTed to a portal when a staff reply is sent (the portal tells the asker by SMS
or mail). Its failure is logged and never undoes the reply, which is stored before the call."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

log = logging.getLogger(__name__)


def post_json(url: str, payload: dict, timeout: float) -> bool:
    """POST ``payload`` as JSON; True when the portal answered 2xx, False (logged) otherwise."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if 200 <= response.status < 300:
                return True
            log.warning("reply webhook answered %d for ticket %s", response.status, payload.get("ticket_id"))
    except urllib.error.HTTPError as exc:
        log.warning("reply webhook answered %d for ticket %s", exc.code, payload.get("ticket_id"))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log.warning("reply webhook failed for ticket %s: %s", payload.get("ticket_id"), getattr(exc, "reason", exc))
    return False
