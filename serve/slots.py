"""The API's answering slots: a few questions answered at a time, heavy work (a replayed history message, a long
question) in a narrower lane that yields to plain questions. The clock is passed in, so the decisions are tested
without sleeping."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class AnswerSlots:
    """``total`` answers at a time, at most ``heavy`` of them heavy work. While plain questions wait for a slot, heavy
    work starts at most once every ``heavy_interval`` seconds, so clients sending the largest requests over and over
    take the cores only when nobody else needs them, and still go on (never starved)."""

    def __init__(self, total: int, heavy: int, heavy_interval: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self.total = total
        self.heavy = min(heavy, total)
        self.heavy_interval = heavy_interval
        self.clock = clock
        self._changed = threading.Condition()
        self._busy = 0
        self._heavy_busy = 0
        self._plain_waiting = 0
        self._last_heavy: float | None = None

    @contextmanager
    def slot(self, heavy: bool = False) -> Iterator[None]:
        """Hold a slot while answering (blocks until one is free for this kind of work)."""
        with self._changed:
            if heavy:
                while (wait := self._heavy_wait()) != 0.0:
                    self._changed.wait(timeout=wait if wait > 0 else None)
                self._heavy_busy += 1
                self._last_heavy = self.clock()
            else:
                self._plain_waiting += 1
                while self._busy >= self.total:
                    self._changed.wait()
                self._plain_waiting -= 1
            self._busy += 1
        try:
            yield
        finally:
            with self._changed:
                self._busy -= 1
                if heavy:
                    self._heavy_busy -= 1
                self._changed.notify_all()

    def _heavy_wait(self) -> float:
        """0 when heavy work may start now; else how long to wait (-1: until a slot is freed)."""
        if self._busy >= self.total or self._heavy_busy >= self.heavy:
            return -1.0
        if not self._plain_waiting or self._last_heavy is None:
            return 0.0
        return max(0.0, self._last_heavy + self.heavy_interval - self.clock())
