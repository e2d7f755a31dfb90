"""Slowing down guesses of the admin and staff tokens: after a few failed attempts a bucket of guesses must wait,
twice as long after each further failure, and repeated failures are logged; ``TokenGate`` keys the buckets so that
a third party cannot lock a token's holder out, and caps guesses service-wide. The clock is passed in, so the
decisions are tested without sleeping."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Failures:
    """A client's failed attempts in a row and when the last one happened."""

    count: int
    last: float


class LoginThrottle:
    """Per-client failure counts and the wait they impose (a wait is refused, never slept, so no worker is held)."""

    def __init__(self, free_attempts: int = 3, base_delay: float = 1.0, max_delay: float = 600.0,
                 forget_after: float = 3600.0, max_clients: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.free_attempts = free_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.forget_after = forget_after
        self.max_clients = max_clients
        self.clock = clock
        self._failures: dict[str, Failures] = {}
        self._lock = threading.Lock()

    def delay(self, count: int) -> float:
        """The wait after ``count`` failures in a row: none for the first few, then doubling up to the cap."""
        if count < self.free_attempts:
            return 0.0
        return min(self.max_delay, self.base_delay * 2 ** (count - self.free_attempts))

    def wait(self, client: str) -> float:
        """Seconds before this client may try again (0: now)."""
        with self._lock:
            failures = self._current(client, self.clock())
        if failures is None:
            return 0.0
        return max(0.0, failures.last + self.delay(failures.count) - self.clock())

    def failed(self, client: str) -> float:
        """Record a failed attempt; returns the wait it imposes. Logged once failures start to cost a wait."""
        now = self.clock()
        with self._lock:
            previous = self._current(client, now)
            failures = Failures((previous.count if previous else 0) + 1, now)
            self._failures[client] = failures
            self._bound(now)
        wait = self.delay(failures.count)
        if failures.count >= self.free_attempts:
            log.warning("admin login: %d failed attempts in a row from %s; next attempt allowed in %.0f s",
                        failures.count, client, wait)
        return wait

    def succeeded(self, client: str) -> None:
        """Forget a client's failures."""
        with self._lock:
            self._failures.pop(client, None)

    def clients(self) -> int:
        """How many clients have failures on record."""
        return len(self._failures)

    def _current(self, client: str, now: float) -> Failures | None:
        failures = self._failures.get(client)
        if failures is not None and now - failures.last > self.forget_after:
            del self._failures[client]
            return None
        return failures

    def _bound(self, now: float) -> None:
        """Keep memory bounded: drop forgotten clients, then the quietest ones."""
        if len(self._failures) <= self.max_clients:
            return
        for client in [c for c, f in self._failures.items() if now - f.last > self.forget_after]:
            del self._failures[client]
        for client, _ in sorted(self._failures.items(), key=lambda item: item[1].last)[: len(self._failures) - self.max_clients]:
            del self._failures[client]


@dataclass(frozen=True)
class Verdict:
    """What a presented token gets: ``allowed`` (it is a configured token), else the seconds before that client may
    try again with such a token (0: a plain wrong token, 401)."""

    allowed: bool
    wait: float = 0.0


class TokenGate:
    """Checks admin and staff tokens so that guessing stays slow and nobody else can lock a token's holder out.

    Wrong guesses are counted per (address, digest of the token's first few characters): an attacker behind the
    admin's address (the same NAT) slows down only the buckets of the tokens it sends, not the bucket of the admin's
    token, whose first characters it does not know. A bucket slowed down is refused before its token is compared.
    Since an attacker could open fresh buckets by varying those characters, wrong guesses are also capped
    service-wide (``guesses_per_minute``): over the cap, only a bucket that has presented a right token since the
    service started is compared at once; any other waits (429 with the seconds to wait) until the cap allows
    another guess. Tokens are compared in constant time."""

    PREFIX_CHARS = 4

    def __init__(self, guesses_per_minute: int = 60, free_attempts: int = 10, clock: Callable[[], float] = time.monotonic,
                 max_known: int = 1000):
        self.clock = clock
        self.buckets = LoginThrottle(free_attempts=free_attempts, clock=clock)
        self.per_second = guesses_per_minute / 60.0
        self.capacity = float(max(1, guesses_per_minute))
        self._budget, self._updated = self.capacity, clock()
        self._known: dict[str, float] = {}  # buckets a right token came from: passed over the cap
        self.max_known = max_known
        self._salt = os.urandom(16)
        self._lock = threading.Lock()

    def bucket(self, address: str, token: str) -> str:
        """The throttle's key for a token from an address: the address and a salted digest of the token's start
        (the digest, not the characters, is kept in memory and logs)."""
        digest = hmac.new(self._salt, token[: self.PREFIX_CHARS].encode(), hashlib.sha256).hexdigest()[:12]
        return f"{address}#{digest}"

    def check(self, address: str, token: str, expected: list[str] | tuple[str, ...]) -> Verdict:
        """Whether ``token`` (from ``address``) is one of the ``expected`` tokens, or how long to wait first.
        An empty token is no guess: refused, never counted."""
        if not token:
            return Verdict(False)
        bucket = self.bucket(address, token)
        wait = self.buckets.wait(bucket)
        if wait > 0:
            return Verdict(False, wait)
        with self._lock:  # a guess's place under the service-wide cap is taken before its token is compared
            known = bucket in self._known or self.per_second <= 0
            if not known:
                self._refill()
                if self._budget < 1.0:
                    return Verdict(False, (1.0 - self._budget) / self.per_second)
                self._budget -= 1.0
        right = False
        for candidate in expected:  # every candidate compared, in constant time
            right |= hmac.compare_digest(token.encode(), candidate.encode())
        if not right:
            self.buckets.failed(bucket)
            return Verdict(False)
        self.buckets.succeeded(bucket)
        with self._lock:
            if not known:
                self._budget += 1.0  # a right token is no guess
            self._known[bucket] = self.clock()
            if len(self._known) > self.max_known:
                del self._known[min(self._known, key=self._known.get)]
        return Verdict(True)

    def _refill(self) -> None:
        now = self.clock()
        self._budget = min(self.capacity, self._budget + (now - self._updated) * self.per_second)
        self._updated = now
