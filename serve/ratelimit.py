"""Per-client rate limits on the API: a token bucket per client (its bearer token, else its address). A client
over its limit is refused at once with the seconds to wait (never slept, so no worker is held). The clock is
passed in, so the decisions are tested without sleeping."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Bucket:
    """A client's tokens and when they were last counted."""

    tokens: float
    updated: float


class RateLimiter:
    """``per_minute`` requests a client, with bursts up to ``burst``; ``per_minute`` 0 means no limit."""

    def __init__(self, per_minute: int, burst: int | None = None, max_clients: int = 10_000,
                 clock: Callable[[], float] = time.monotonic):
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(1, per_minute))
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: dict[str, Bucket] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """Spend one request of this client's allowance: 0 when allowed, else the seconds until it would be."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(client)
            if bucket is None:
                if len(self._buckets) >= self.max_clients:
                    self._forget_full(now)
                bucket = self._buckets[client] = Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        """Keep memory bounded: drop clients whose allowance has refilled (they lose nothing), else the quietest."""
        for client in [c for c, b in self._buckets.items() if b.tokens + (now - b.updated) * self.rate >= self.burst]:
            del self._buckets[client]
        if len(self._buckets) >= self.max_clients:
            quietest = min(self._buckets, key=lambda c: self._buckets[c].updated)
            del self._buckets[quietest]
