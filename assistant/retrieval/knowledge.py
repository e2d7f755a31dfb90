"""The knowledge base as the assistant sees it: the published index, searchable three ways and fused.

Systems: ``bm25`` (clause text, jieba words + bigrams), ``dense`` (the vector store, our embedder), ``doc`` (BM25 of the
whole document, credited to each of its clauses) and ``cover`` (the IDF-weighted share of the question's
character bigrams that the clause contains, computed for the candidates the first two bring). The hybrid is a
weighted sum of the normalised scores; the weights were tuned on the ncppolicies dev ids (scripts/tune_fusion.py).
"""

from __future__ import annotations

import copy
import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from assistant.retrieval.asking import asking_part
from assistant.retrieval.fusion import max_normalize, min_max_normalize, ranked, weighted_sum
from assistant.retrieval.lexical import bigrams
from assistant.retrieval.snapshot import Snapshot
from assistant.timing import Stopwatch
from assistant.types import Evidence, Status
from index.build import open_index
from index.embeddings import Embedder
from index.store import IndexStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetrievalConfig:
    """How the hybrid weighs its systems, and how many candidates each contributes (tuned on bench dev ids)."""

    weights: dict[str, float] = field(default_factory=lambda: {"bm25": 0.1, "dense": 0.1, "doc": 0.3, "cover": 0.5})
    candidates: int = 60
    # Characters of a query the dense search embeds at most: a longer one is embedded by its asking part
    # (assistant/retrieval/asking.py); BM25 and the coverage still read all of it.
    max_embed_chars: int = 150


BM25_ONLY = RetrievalConfig(weights={"bm25": 1.0})
DENSE_ONLY = RetrievalConfig(weights={"dense": 1.0})


class _FromSnapshot:
    """An attribute of the knowledge base read from its current snapshot (kb.clauses, kb.bm25 …)."""

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, knowledge: KnowledgeBase | None, owner=None):
        if knowledge is None:
            return self
        return getattr(knowledge.snapshot, self.name)


QUERY_VECTOR_CACHE = 256  # recent query texts whose vectors are kept


class KnowledgeBase:
    """Searchable clauses of one published index generation (reloads when a new one is published).

    Everything searched lives in one immutable ``Snapshot``, replaced by a single assignment when a new generation
    is loaded. A question uses ``pinned()``, a view held at one snapshot, so all its searches see one generation.
    """

    generation = _FromSnapshot()
    clauses = _FromSnapshot()
    by_id = _FromSnapshot()
    position = _FromSnapshot()
    docs = _FromSnapshot()
    docs_by_id = _FromSnapshot()
    doc_position = _FromSnapshot()
    texts = _FromSnapshot()
    bm25 = _FromSnapshot()
    doc_bm25 = _FromSnapshot()
    grams = _FromSnapshot()
    gram_df = _FromSnapshot()
    vectors = _FromSnapshot()
    regions = _FromSnapshot()

    def __init__(self, store: IndexStore, embedder: Embedder, today_fn, config: RetrievalConfig | None = None):
        self.store = store
        self.embedder = embedder
        self.today = today_fn
        self.config = config or RetrievalConfig()
        self.snapshot: Snapshot | None = None
        self._pinned = False
        self._stopwatch: Stopwatch | None = None  # set on a question's pinned view
        self._loading = threading.Lock()
        # One question searches the same text several times (per document, wider, per period word): its query
        # vector is embedded once. Shared by the pinned views of this knowledge base.
        self._query_vectors: OrderedDict[str, list[float]] = OrderedDict()
        self._query_vectors_lock = threading.Lock()
        self.reload()

    @classmethod
    def open(cls, settings, embedder: Embedder, config: RetrievalConfig | None = None) -> KnowledgeBase:
        """The knowledge base of the settings' data directory."""
        config = config or RetrievalConfig(max_embed_chars=settings.max_embed_query_chars)
        return cls(open_index(settings), embedder, settings.current_date, config)

    def pinned(self, stopwatch: Stopwatch | None = None) -> KnowledgeBase:
        """This knowledge base held at its current snapshot: it never reloads, so every search made through it
        (one question's) sees the same generation. Its searches count as ``stopwatch``'s retrieval phase."""
        view = copy.copy(self)
        view._pinned = True
        view._stopwatch = stopwatch
        return view

    def reload(self, wait: bool = False) -> bool:
        """Load the published generation if it is not the one in memory; True when something changed.

        Cheap when nothing changed (the store stats its pointer file). While another thread loads, the caller goes
        on with the current snapshot instead of waiting, unless ``wait`` (or nothing is loaded yet)."""
        if self._pinned:
            return False
        number = self.store.current_number()
        if number is None:
            self.store.require_current()  # raises the actionable "no index" error
        if self.snapshot is not None and number == self.snapshot.generation.number:
            return False
        if not self._loading.acquire(blocking=wait or self.snapshot is None):
            return False
        try:
            generation = self.store.require_current()
            if self.snapshot is not None and generation.number == self.snapshot.generation.number:
                return False
            if generation.embedder != self.embedder.name:
                log.warning("index was built with %s but the assistant embeds queries with %s: rebuild the index",
                            generation.embedder, self.embedder.name)
            self.snapshot = Snapshot.load(generation, self.store)
            return True
        finally:
            self._loading.release()

    def allowed(self, doc_ids: Iterable[str] | None, statuses: Iterable[Status] | None) -> set[str] | None:
        """Documents a search may return, or None for all."""
        if doc_ids is None and statuses is None:
            return None
        allowed = set(doc_ids) if doc_ids is not None else {doc.doc_id for doc in self.docs}
        if statuses is not None:
            wanted = set(statuses)
            today = self.today()
            allowed = {d for d in allowed if self.docs_by_id[d].status(today) in wanted}
        return allowed

    def system_scores(self, query: str, allowed: set[str] | None, systems: Iterable[str]) -> dict[str, dict[str, float]]:
        """Raw scores of each system for its candidate clauses."""
        wanted = set(systems)
        mask = None
        if allowed is not None:
            mask = np.array([clause.doc.doc_id in allowed for clause in self.clauses], dtype=bool)
        out: dict[str, dict[str, float]] = {}
        top = self.config.candidates
        if "bm25" in wanted:
            out["bm25"] = self._top(self.bm25.scores(query), mask, top)
        if "doc" in wanted:
            doc_scores = self.doc_bm25.scores(query)
            per_clause = np.array([doc_scores[self.doc_position[c.doc.doc_id]] for c in self.clauses], dtype=np.float32)
            out["doc"] = self._top(per_clause, mask, top * 3)
        if "dense" in wanted:
            out["dense"] = self._dense(query, allowed, top)
        if "cover" in wanted:
            candidates = set(out.get("bm25", {})) | set(out.get("dense", {}))
            out["cover"] = self.coverage(query, candidates)
        return out

    def coverage(self, query: str, clause_ids: Iterable[str]) -> dict[str, float]:
        """IDF-weighted share of the query's character bigrams found in each clause (0..1)."""
        n = len(self.clauses)
        idf = {g: math.log((n + 1) / (self.gram_df[g] + 0.5)) for g in set(bigrams(query)) if g in self.gram_df}
        total = sum(idf.values())
        if not total:
            return dict.fromkeys(clause_ids, 0.0)
        return {cid: sum(w for g, w in idf.items() if g in self.grams[self.position[cid]]) / total for cid in clause_ids}

    def _top(self, scores: np.ndarray, mask: np.ndarray | None, top: int) -> dict[str, float]:
        if mask is not None:
            scores = np.where(mask, scores, -1.0)
        order = np.argsort(-scores, kind="stable")[:top]
        return {self.clauses[i].clause_id: float(scores[i]) for i in order if scores[i] > 0}

    def _dense(self, query: str, allowed: set[str] | None, top: int) -> dict[str, float]:
        if allowed is not None and not allowed:
            return {}
        vector = self._query_vector(query)
        hits = self.vectors.query(self.generation.number, vector, min(top, len(self.clauses)), doc_ids=allowed)
        return {hit.clause_id: hit.similarity for hit in hits}

    def _query_vector(self, query: str) -> list[float]:
        """The query's embedding (of its asking part when it is long), from a small cache of recent queries."""
        query = asking_part(query, self.config.max_embed_chars)
        with self._query_vectors_lock:
            cached = self._query_vectors.get(query)
            if cached is not None:
                self._query_vectors.move_to_end(query)
                return cached
        (vector,) = self.embedder.embed_batch([query], kind="query")
        with self._query_vectors_lock:
            self._query_vectors[query] = vector
            while len(self._query_vectors) > QUERY_VECTOR_CACHE:
                self._query_vectors.popitem(last=False)
        return vector

    def forget_query_vectors(self) -> None:
        """Empty the query-vector cache (benchmarks time a question as asked for the first time)."""
        with self._query_vectors_lock:
            self._query_vectors.clear()

    def search(
        self,
        query: str,
        k: int = 8,
        doc_ids: Iterable[str] | None = None,
        statuses: Iterable[Status] | None = None,
        config: RetrievalConfig | None = None,
    ) -> list[Evidence]:
        """The ``k`` best clauses for a query, fused across the systems the config weighs."""
        if self._stopwatch is not None:
            with self._stopwatch.phase("retrieval"):
                return self._search(query, k, doc_ids, statuses, config)
        return self._search(query, k, doc_ids, statuses, config)

    def _search(self, query: str, k: int, doc_ids, statuses, config: RetrievalConfig | None) -> list[Evidence]:
        config = config or self.config
        systems = [name for name, weight in config.weights.items() if weight]
        raw = self.system_scores(query, self.allowed(doc_ids, statuses), systems)
        normalised = {
            "bm25": max_normalize(raw.get("bm25", {})),
            "doc": max_normalize(raw.get("doc", {})),
            "dense": min_max_normalize(raw.get("dense", {})) if len(raw.get("dense", {})) > 1 else raw.get("dense", {}),
            "cover": raw.get("cover", {}),
        }
        candidates = set().union(*(raw[name].keys() for name in systems if name not in ("doc", "cover")))
        if not candidates:
            candidates = set(raw.get("doc", {}))
        fused = weighted_sum({name: {c: normalised[name].get(c, 0.0) for c in candidates} for name in systems}, config.weights)
        return [
            Evidence(self.by_id[cid], score, rank, {name: raw[name].get(cid, 0.0) for name in systems})
            for rank, (cid, score) in enumerate(self._distinct(ranked(fused), k), 1)
        ]

    def _distinct(self, order: list[tuple[str, float]], k: int) -> list[tuple[str, float]]:
        """The first ``k`` of a ranking without repeats: a clause of a document that is an exact copy of the
        document of one ranked above it (the same notice stored twice) tells the reader nothing more and takes a
        place. A copy that differs at all (a reprint with another paragraph, another script) is kept."""
        seen: set[tuple[str, str]] = set()
        kept: list[tuple[str, float]] = []
        for cid, score in order:
            clause = self.by_id[cid]
            key = (clause.doc.text, clause.text)
            if key in seen:
                continue
            seen.add(key)
            kept.append((cid, score))
            if len(kept) == k:
                break
        return kept
