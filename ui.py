"""The service: ``python ui.py`` serves the chat page and the HTTP API from one app on the settings' host and port
(127.0.0.1:7860 by default)."""

from __future__ import annotations

import logging
import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> int:
    """Open the database and the index (built first if there is none), then serve; a setup mistake or a database
    that cannot be reached is one line and exit code 2."""
    from core.errors import PolicyQAError

    try:
        return _serve()
    except PolicyQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _serve() -> int:
    import uvicorn

    from core.settings import load_settings
    from serve.factory import make_app

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    app = make_app(settings)
    print(f"政策在线答疑: http://{settings.host}:{settings.port}  (API: /api/ask, /v1/chat/completions, /docs)")
    # proxy_headers off: uvicorn would take X-Forwarded-For from any loopback peer as the client's address; the
    # app reads it only from POLICYQA_TRUSTED_PROXIES (serve/clients.py).
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", proxy_headers=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
