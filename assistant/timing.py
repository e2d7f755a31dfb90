"""Where one question's time goes: a stopwatch per question, and a generator that reports to it."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from assistant.types import Draft, Evidence, Query, Timings


class Stopwatch:
    """Milliseconds spent per phase of one question (each question has its own; never shared)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.spent: dict[str, float] = defaultdict(float)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Count the time spent inside the block towards ``name``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.spent[name] += (time.perf_counter() - start) * 1000

    def timings(self) -> Timings:
        """Retrieval, generation and the total so far."""
        total = (time.perf_counter() - self.started) * 1000
        return Timings(self.spent["retrieval"], self.spent["generation"], total)


class TimedGenerator:
    """A generator whose answers are timed as the question's generation phase."""

    def __init__(self, generator, stopwatch: Stopwatch) -> None:
        self.generator = generator
        self.name = generator.name
        self.stopwatch = stopwatch

    def answer(self, query: Query, evidence: list[Evidence]) -> Draft:
        with self.stopwatch.phase("generation"):
            return self.generator.answer(query, evidence)
