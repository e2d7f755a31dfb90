"""Slowing down guesses of the admin token: after a few failed attempts a client must wait, twice as long after
each further failure, and repeated failures are logged. The clock is passed in, so the decisions are tested
without sleeping."""

from __future__ import annotations

import logging
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
