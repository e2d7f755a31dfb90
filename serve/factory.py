"""Builds the assistant from settings: the one place where collaborators are wired together."""

from __future__ import annotations

from assistant.chain import Assistant
from assistant.retrieval.knowledge import KnowledgeBase
from index.embeddings import make_embedder


def make_assistant(settings) -> Assistant:
    """An assistant over the settings' index, with the settings' embedder (loaded lazily)."""
    return Assistant(KnowledgeBase.open(settings, make_embedder(settings)), settings)
