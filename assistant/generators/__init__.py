"""Answer generators behind one method, ``answer(query, evidence) -> Draft``; a registry picks one by name from
the settings (``POLICYQA_GENERATOR``). A generator is made per index snapshot: it may use the snapshot's
statistics (the extractive one weighs sentences by the clauses' bigram frequencies)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from assistant.retrieval.snapshot import Snapshot
from assistant.types import Draft, Evidence, Query
from core.errors import ConfigError


class Generator(Protocol):
    """Writes an answer from retrieved clauses, citing each claim ``[n]`` (n: the n-th of ``Draft.sources``)."""

    name: str

    def answer(self, query: Query, evidence: list[Evidence]) -> Draft:
        """The draft answer to ``query`` from ``evidence`` (an empty draft when nothing answers)."""
        ...


def _extractive(settings, snapshot: Snapshot) -> Generator:
    from assistant.generators.extractive import ExtractiveGenerator

    return ExtractiveGenerator(snapshot.gram_df, len(snapshot.clauses))


GENERATORS: dict[str, Callable[..., Generator]] = {
    "extractive": _extractive,
}


def generator_factory(settings) -> Callable[[Snapshot], Generator]:
    """What makes the settings' generator for a snapshot; an unknown name is a ConfigError at once."""
    make = GENERATORS.get(settings.generator)
    if make is None:
        raise ConfigError(
            f"unknown generator {settings.generator!r} (POLICYQA_GENERATOR); choose one of: {', '.join(GENERATORS)}"
        )
    return lambda snapshot: make(settings, snapshot)
