"""One published index generation as the assistant searches it: loaded whole, never changed, swapped whole.

A question reads the knowledge base's snapshot once and searches only it, so a re-index that publishes a new
generation meanwhile can neither mix two generations into one answer nor make a question wait."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from assistant.regions import RegionResolver
from assistant.retrieval.lexical import BM25Index, bigrams
from assistant.types import Clause, PolicyDoc
from index.gazetteer import default_gazetteer
from index.store import Generation, IndexStore
from index.vectors import VectorStore


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The clauses of one generation and everything searched over them, all in clause order."""

    generation: Generation
    clauses: tuple[Clause, ...]
    by_id: Mapping[str, Clause]
    position: Mapping[str, int]
    docs: tuple[PolicyDoc, ...]
    docs_by_id: Mapping[str, PolicyDoc]
    doc_position: Mapping[str, int]
    texts: tuple[str, ...]  # what is searched, in clause order
    bm25: BM25Index
    doc_bm25: BM25Index
    grams: tuple[frozenset[str], ...]
    gram_df: Mapping[str, int]
    vectors: VectorStore  # searched at this generation's number
    regions: RegionResolver

    def next_part(self, clause: Clause) -> Clause | None:
        """The next part of a clause the index cut in parts (None for its last part or an uncut clause)."""
        if clause.part >= clause.parts or clause.clause_id not in self.position:
            return None
        after = self.position[clause.clause_id] + 1
        following = self.clauses[after] if after < len(self.clauses) else None
        same = following is not None and following.doc.doc_id == clause.doc.doc_id \
            and following.clause_path == clause.clause_path and following.part == clause.part + 1
        return following if same else None

    @staticmethod
    def load(generation: Generation, store: IndexStore) -> Snapshot:
        """Build the searchable snapshot of a generation (BM25 indexes, bigram counts, its vectors)."""
        store.vectors.count(generation.number)  # opens the store now, and fails now if the vectors are missing
        clauses = tuple(generation.clauses)
        docs = tuple(generation.docs)
        texts = tuple(clause.indexed_text() for clause in clauses)
        grams = tuple(frozenset(bigrams(text)) for text in texts)
        gram_df: dict[str, int] = {}
        for clause_grams in grams:
            for gram in clause_grams:
                gram_df[gram] = gram_df.get(gram, 0) + 1
        return Snapshot(
            generation=generation,
            clauses=clauses,
            by_id=MappingProxyType({clause.clause_id: clause for clause in clauses}),
            position=MappingProxyType({clause.clause_id: i for i, clause in enumerate(clauses)}),
            docs=docs,
            docs_by_id=MappingProxyType({doc.doc_id: doc for doc in docs}),
            doc_position=MappingProxyType({doc.doc_id: i for i, doc in enumerate(docs)}),
            texts=texts,
            bm25=BM25Index(list(texts)),
            doc_bm25=BM25Index([f"{doc.title}\n{doc.text}" for doc in docs]),
            grams=grams,
            gram_df=MappingProxyType(gram_df),
            vectors=store.vectors,
            regions=RegionResolver(list(docs), default_gazetteer()),
        )
