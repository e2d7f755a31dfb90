"""Who a request comes from, for rate limits and the admin-token throttle: a configured API key, else the address
of the connection, or the address a configured trusted proxy forwarded it for. Any other bearer string, and a
forwarded-for header from anyone but a trusted proxy, are ignored: a client cannot choose to be someone else."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
from collections.abc import Callable, Mapping

from starlette.requests import Request

from core.prompts import render


class ClientIdentity:
    """Turns a request's peer address and headers into one client key (``key:…`` or ``address:…``)."""

    def __init__(self, trusted_proxies: list[str] | tuple[str, ...] = (), api_keys: list[str] | tuple[str, ...] = ()):
        self.trusted = tuple(ipaddress.ip_network(p, strict=False) for p in trusted_proxies)
        self.api_keys = tuple(k.encode() for k in api_keys if k)

    @classmethod
    def from_settings(cls, settings) -> ClientIdentity:
        """The settings' trusted proxies and API keys (the admin token is a known key too)."""
        keys = [getattr(k, "get_secret_value", lambda key=k: str(key))() for k in settings.api_keys]
        if settings.admin_token:
            keys.append(settings.admin_token)
        return cls(settings.trusted_proxies, keys)

    def address(self, peer: str | None, headers: Mapping[str, str]) -> str:
        """The client's address: the peer, or, when the peer is a trusted proxy, the nearest address of the
        X-Forwarded-For chain that is not a trusted proxy itself."""
        peer = peer or "unknown"
        if not self._trusted(peer):
            return peer
        chain = [hop.strip() for hop in (headers.get("x-forwarded-for") or "").split(",") if hop.strip()]
        for hop in reversed(chain):
            if not _is_address(hop):
                return peer  # a forged or garbled chain: the proxy is all we know
            if not self._trusted(hop):
                return hop
        return peer

    def key(self, peer: str | None, headers: Mapping[str, str]) -> str:
        """The client a request counts as: a configured API key it presents, else its address."""
        token = bearer(headers).encode()
        if token and any(hmac.compare_digest(token, known) for known in self.api_keys):
            return "key:" + hashlib.sha256(token).hexdigest()[:16]
        return "address:" + self.address(peer, headers)

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)


def bearer(headers: Mapping[str, str]) -> str:
    """The bearer token of the Authorization header ("" when there is none)."""
    scheme, _, token = (headers.get("authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def token_required(tokens: list[str], identity: ClientIdentity, gate, error: Callable[..., Exception], off: str,
                   who: str) -> Callable:
    """A request check (a FastAPI dependency): the bearer token must be one of ``tokens``, its guesses slowed by
    ``gate`` (``serve.throttle.TokenGate``) per client. No token set: 404 with ``off``; a wait: 429; a wrong or
    missing token: 401 naming ``who`` ("admin", "staff"). ``error(status, code, message, headers)`` makes the API's
    error exception."""

    def check(request: Request) -> None:
        if not tokens:
            raise error(404, "not_found", off)
        client = identity.address(request.client.host if request.client else None, request.headers)
        verdict = gate.check(client, bearer(request.headers), tokens)
        if verdict.wait > 0:
            raise error(429, "rate_limited", render("rate_limited", seconds=math.ceil(verdict.wait)),
                        {"Retry-After": str(math.ceil(verdict.wait))})
        if not verdict.allowed:
            raise error(401, "unauthorized", f"a valid {who} token is needed: Authorization: Bearer <token>",
                        {"WWW-Authenticate": "Bearer"})

    return check


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
