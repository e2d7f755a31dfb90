"""Where clause vectors live, behind one small interface: add, query, drop a generation, list generations.

Every index generation has its own set of vectors, so a build can write the next one beside the one being
searched. A query names its generation and filters by our documents (``doc_ids``), never in a backend's filter
language. Implementations: ``ChromaVectors`` (an embedded, persistent Chroma, or a Chroma server over HTTP) and
``InMemoryVectors`` (numpy, for tests). ``make_vector_store`` picks one from the settings.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import weakref
from collections.abc import Collection, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple, Protocol, runtime_checkable
from urllib.parse import urlsplit

import numpy as np

from core.errors import ConfigError, GenerationMissingError, VectorStoreUnavailableError

log = logging.getLogger(__name__)
COLLECTION_PREFIX = "clauses-gen"
# Chroma refuses larger batches than its max_batch_size (5461 in 1.x); 1000 stays well under it.
ADD_BATCH = 1000


class VectorHit(NamedTuple):
    """One search result: a clause and its cosine similarity to the query (1 = same direction)."""

    clause_id: str
    similarity: float


@runtime_checkable
class VectorStore(Protocol):
    """Clause vectors by index generation. Every metadata row carries the clause's ``doc_id``."""

    def add(self, generation: int, ids: Sequence[str], vectors: Sequence[Sequence[float]],
            metadatas: Sequence[Mapping[str, str]]) -> None:
        """Add vectors to a generation, creating it if it does not exist."""

    def query(self, generation: int, vector: Sequence[float], k: int,
              doc_ids: Collection[str] | None = None) -> list[VectorHit]:
        """The ``k`` nearest clauses of a generation, nearest first; only those of ``doc_ids`` when given (an empty
        collection matches nothing). Raises GenerationMissingError for a generation the store does not hold."""

    def count(self, generation: int) -> int:
        """How many vectors a generation holds (GenerationMissingError when it does not exist)."""

    def drop(self, generation: int) -> None:
        """Delete a generation's vectors; dropping one that does not exist does nothing."""

    def generations(self) -> list[int]:
        """The generations the store holds, in increasing order."""

    def close(self) -> None:
        """Release the connection (the store reopens on next use)."""


def collection_name(generation: int) -> str:
    """The Chroma collection of a generation (the name every index since the first one used)."""
    return f"{COLLECTION_PREFIX}{generation}"


def _missing(generation: int, where: str) -> GenerationMissingError:
    return GenerationMissingError(
        f"generation {generation} has no vectors in {where} (dropped, or never built): run `python -m index build --force`"
    )


class InMemoryVectors:
    """Vectors in numpy arrays, exact cosine search; nothing persists. For tests and throwaway indexes."""

    def __init__(self) -> None:
        self._generations: dict[int, tuple[list[str], list[str], np.ndarray]] = {}

    def add(self, generation, ids, vectors, metadatas) -> None:
        """Add vectors to a generation (normalised, so a dot product is the cosine)."""
        matrix = np.asarray(vectors, dtype=np.float32).reshape(len(ids), -1)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix = matrix / np.where(norms == 0, 1.0, norms)
        old_ids, old_docs, old_matrix = self._generations.get(generation, ([], [], matrix[:0]))
        self._generations[generation] = (
            old_ids + list(ids), old_docs + [row["doc_id"] for row in metadatas], np.vstack([old_matrix, matrix])
        )

    def query(self, generation, vector, k, doc_ids=None) -> list[VectorHit]:
        """Exact nearest neighbours by cosine similarity."""
        ids, docs, matrix = self._get(generation)
        if k <= 0 or (doc_ids is not None and not doc_ids):
            return []
        query = np.asarray(vector, dtype=np.float32)
        query = query / (np.linalg.norm(query) or 1.0)
        scores = matrix @ query
        candidates = np.arange(len(ids))
        if doc_ids is not None:
            wanted = set(doc_ids)
            candidates = np.array([i for i, doc in enumerate(docs) if doc in wanted], dtype=int)
        order = candidates[np.argsort(-scores[candidates], kind="stable")][:k]
        return [VectorHit(ids[i], float(scores[i])) for i in order]

    def count(self, generation) -> int:
        """Vectors in a generation."""
        return len(self._get(generation)[0])

    def drop(self, generation) -> None:
        """Forget a generation."""
        self._generations.pop(generation, None)

    def generations(self) -> list[int]:
        """Generations held, in increasing order."""
        return sorted(self._generations)

    def close(self) -> None:
        """Nothing to release."""

    def _get(self, generation):
        try:
            return self._generations[generation]
        except KeyError:
            raise _missing(generation, "memory") from None


class ChromaVectors:
    """Generations as Chroma collections ``clauses-gen<n>`` (cosine space): embedded and persistent in ``path``,
    or on a Chroma server at ``url``. The client is opened on first use.

    Embedded Chroma writes to its folder whenever a client opens it, even only to search, so it cannot open a
    folder it may not write. When ``path`` is not writable (``read_only`` None means: find out), the folder is
    copied to a temporary one and searched there; a generation published after the copy was made is found by
    copying again."""

    def __init__(self, path: Path | None = None, *, url: str | None = None, read_only: bool | None = None):
        if (path is None) == (url is None):
            raise ValueError("ChromaVectors needs exactly one of path or url")
        self.path = Path(path) if path is not None else None
        self.url = url
        self.read_only = read_only
        self._client = None
        self._copy: tempfile.TemporaryDirectory | None = None
        self._collections: dict[int, object] = {}

    @property
    def where(self) -> str:
        """Where the vectors live, for messages."""
        return self.url or str(self.path)

    def add(self, generation, ids, vectors, metadatas) -> None:
        """Add vectors in batches to the generation's collection (created in cosine space if absent)."""
        with self._reachable():
            self._add(generation, ids, vectors, metadatas)

    def _add(self, generation, ids, vectors, metadatas) -> None:
        collection = self._open().get_or_create_collection(
            collection_name(generation), embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )
        self._collections[generation] = collection
        for start in range(0, len(ids), ADD_BATCH):
            end = start + ADD_BATCH
            collection.add(
                ids=list(ids[start:end]),
                embeddings=[list(map(float, v)) for v in vectors[start:end]],
                metadatas=[dict(m) for m in metadatas[start:end]],
            )

    def query(self, generation, vector, k, doc_ids=None) -> list[VectorHit]:
        """Nearest clauses by cosine distance, turned into similarity (1 − distance)."""
        if k <= 0 or (doc_ids is not None and not doc_ids):
            return []
        where = {"doc_id": {"$in": sorted(doc_ids)}} if doc_ids is not None else None
        result = self._with_collection(
            generation,
            lambda c: c.query(query_embeddings=[list(map(float, vector))], n_results=k, where=where,
                              include=["distances"]),
        )
        return [VectorHit(cid, 1.0 - float(dist)) for cid, dist in zip(result["ids"][0], result["distances"][0], strict=True)]

    def count(self, generation) -> int:
        """Vectors in a generation."""
        return self._with_collection(generation, lambda c: c.count())

    def drop(self, generation) -> None:
        """Delete a generation's collection, if it exists."""
        from chromadb.errors import NotFoundError

        self._collections.pop(generation, None)
        with self._reachable():
            try:
                self._open().delete_collection(collection_name(generation))
            except NotFoundError:  # absent: nothing to drop
                pass

    def generations(self) -> list[int]:
        """Generations whose collection exists."""
        numbers = []
        with self._reachable():
            collections = self._open().list_collections()
        for collection in collections:
            name = getattr(collection, "name", collection)
            suffix = name.removeprefix(COLLECTION_PREFIX)
            if name.startswith(COLLECTION_PREFIX) and suffix.isdigit():
                numbers.append(int(suffix))
        return sorted(numbers)

    def close(self) -> None:
        """Forget the client (Chroma keeps one system per folder in the process; the next use reopens it)."""
        self._client = None
        self._collections.clear()
        if self._copy is not None:
            self._copy.cleanup()
            self._copy = None

    def _with_collection(self, generation: int, use):
        """Run ``use`` on the generation's collection; GenerationMissingError when the store does not hold it,
        VectorStoreUnavailableError when the Chroma server does not answer."""
        with self._reachable():
            return self._on_collection(generation, use)

    @contextmanager
    def _reachable(self):
        """Turn a Chroma server that does not answer into VectorStoreUnavailableError (the handles are dropped,
        so the next call connects afresh: the store recovers by itself when the server is back)."""
        if self.url is None:
            yield
            return
        import httpx

        try:
            yield
        except (httpx.TransportError, ConnectionError) as exc:
            self.close()
            raise VectorStoreUnavailableError(f"the Chroma server at {self.url} does not answer: {exc}") from exc
        except ValueError as exc:
            if "connect" not in str(exc).lower():
                raise
            self.close()
            raise VectorStoreUnavailableError(f"the Chroma server at {self.url} does not answer: {exc}") from exc

    def _on_collection(self, generation: int, use):
        from chromadb.errors import NotFoundError

        try:
            return use(self._collection(generation))
        except NotFoundError:
            pass  # dropped since its handle was taken, absent, or published after the read-only copy was made
        self._collections.pop(generation, None)
        if self._copy is not None:
            log.info("generation %s is not in the read-only copy of %s: copying again", generation, self.path)
            self.close()
        try:
            return use(self._collection(generation))
        except NotFoundError as exc:
            raise _missing(generation, self.where) from exc

    def _collection(self, generation: int):
        collection = self._collections.get(generation)
        if collection is None:
            collection = self._open().get_collection(collection_name(generation), embedding_function=None)
            self._collections[generation] = collection
        return collection

    def _open(self):
        if self._client is None:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            settings = ChromaSettings(anonymized_telemetry=False)
            if self.url is not None:
                parts = urlsplit(self.url)
                self._client = chromadb.HttpClient(
                    host=parts.hostname or "127.0.0.1", port=parts.port or (443 if parts.scheme == "https" else 8000),
                    ssl=parts.scheme == "https", settings=settings,
                )
            else:
                self._client = chromadb.PersistentClient(path=str(self._folder()), settings=settings)
        return self._client

    def _folder(self) -> Path:
        """The folder the embedded client opens: ``path``, or a fresh copy of it when it is not writable."""
        assert self.path is not None
        read_only = self.read_only if self.read_only is not None else not _writable(self.path)
        if not read_only:
            self.path.mkdir(parents=True, exist_ok=True)
            return self.path
        if not (self.path / "chroma.sqlite3").exists():
            raise ConfigError(f"no vectors in {self.path}, and it is not writable: build the index elsewhere first")
        self._copy = tempfile.TemporaryDirectory(prefix="policyqa-chroma-")
        _copies.add(self._copy)
        copy = Path(self._copy.name) / "chroma"
        shutil.copytree(self.path, copy, copy_function=shutil.copyfile)  # contents, not the read-only modes
        for folder in [copy, *(p for p in copy.rglob("*") if p.is_dir())]:
            folder.chmod(0o700)
        log.info("%s is not writable and Chroma writes whenever it opens a folder: searching a copy in %s",
                 self.path, copy)
        return copy


# Every read-only copy still on disk. A TemporaryDirectory is removed at interpreter exit, but a server stopped by
# SIGTERM does not get there (uvicorn re-raises the signal once it has shut down): the app removes them on shutdown.
_copies: weakref.WeakSet = weakref.WeakSet()


def remove_read_only_copies() -> int:
    """Remove the temporary copies of read-only indexes this process made; returns how many there were."""
    copies = list(_copies)
    for copy in copies:
        copy.cleanup()
    _copies.clear()
    return len(copies)


def _writable(path: Path) -> bool:
    """Whether Chroma may write its folder (or create it). A folder or database file that nobody may write is
    read-only even for root, whom permission checks let through; a read-only mount stops root too."""
    probe = path
    while not probe.exists():
        probe = probe.parent
    targets = [probe] if probe != path else [path, *([path / "chroma.sqlite3"] if (path / "chroma.sqlite3").exists() else [])]
    return all(os.access(target, os.W_OK) and target.stat().st_mode & 0o222 for target in targets)


def make_vector_store(settings, index_root: Path) -> VectorStore:
    """The vector store named by ``settings.vector_store``: embedded Chroma in ``index_root/chroma`` (the default)
    or a Chroma server at ``settings.vector_store_url``."""
    if settings.vector_store == "chroma":
        return ChromaVectors(Path(index_root) / "chroma")
    if settings.vector_store == "chroma-http":
        if not settings.vector_store_url:
            raise ConfigError("POLICYQA_VECTOR_STORE=chroma-http needs POLICYQA_VECTOR_STORE_URL (e.g. http://127.0.0.1:8000)")
        return ChromaVectors(url=settings.vector_store_url)
    raise ConfigError(f"unknown vector store {settings.vector_store!r} (POLICYQA_VECTOR_STORE: chroma or chroma-http)")
