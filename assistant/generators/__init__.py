"""Answer generators behind one method, ``answer(query, evidence) -> Draft``; a registry picks one by name from
the settings (``POLICYQA_GENERATOR``). A generator is made per index snapshot: it may use the snapshot's
statistics (the extractive one weighs sentences by the clauses' bigram frequencies). What must not be made per
snapshot (a loaded LLM) is kept in ``shared``, one per factory."""

from __future__ import annotations

import threading
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


def _extractive(settings, snapshot: Snapshot, shared: dict) -> Generator:
    from assistant.generators.extractive import ExtractiveGenerator

    return ExtractiveGenerator(snapshot.gram_df, len(snapshot.clauses), next_part=snapshot.next_part)


def _llm(name: str, make_model: Callable, settings, snapshot: Snapshot, shared: dict, lock: bool) -> Generator:
    """An LLM generator over the chat model made once per factory, with the extractive one as its fallback."""
    from assistant.generators.llm import LLMGenerator

    if "chat_model" not in shared:
        shared["chat_model"] = make_model(settings)
        shared["lock"] = threading.Lock() if lock else None
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else ""
    return LLMGenerator(name, shared["chat_model"], _extractive(settings, snapshot, shared),
                        context_clauses=settings.llm_context_clauses, clause_chars=settings.llm_clause_chars,
                        lock=shared["lock"], secrets=(key,))


def _llamacpp(settings, snapshot: Snapshot, shared: dict) -> Generator:
    from assistant.generators.chat_models import local_chat_model

    return _llm("llamacpp", local_chat_model, settings, snapshot, shared, lock=True)


def _openai(settings, snapshot: Snapshot, shared: dict) -> Generator:
    from assistant.generators.chat_models import openai_chat_model

    return _llm("openai", openai_chat_model, settings, snapshot, shared, lock=False)


GENERATORS: dict[str, Callable[..., Generator]] = {
    "extractive": _extractive,
    "llamacpp": _llamacpp,  # a local GGUF model (make setup-llm model)
    "openai": _openai,  # any OpenAI-compatible endpoint (POLICYQA_LLM_BASE_URL)
}
# The generators that write with an LLM (and so may rewrite follow-ups and stream).
LLM_GENERATORS = frozenset({"llamacpp", "openai"})


def generator_factory(settings) -> Callable[[Snapshot], Generator]:
    """What makes the settings' generator for a snapshot; an unknown name is a ConfigError at once."""
    make = GENERATORS.get(settings.generator)
    if make is None:
        raise ConfigError(
            f"unknown generator {settings.generator!r} (POLICYQA_GENERATOR); choose one of: {', '.join(GENERATORS)}"
        )
    shared: dict = {}  # what every snapshot's generator shares: a loaded model
    return lambda snapshot: make(settings, snapshot, shared)
