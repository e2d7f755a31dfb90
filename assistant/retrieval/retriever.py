"""The hybrid search as a LangChain retriever, so an LLM chain can reuse it unchanged."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.retrieval.knowledge import KnowledgeBase
from assistant.types import Evidence


def to_document(evidence: Evidence, today) -> Document:
    """A retrieved clause as a LangChain Document, with full provenance in its metadata."""
    clause = evidence.clause
    return Document(
        page_content=clause.text,
        id=clause.clause_id,
        metadata={
            "clause_id": clause.clause_id,
            "doc_id": clause.doc.doc_id,
            "title": clause.doc.title,
            "doc_number": clause.doc.doc_number,
            "issuer": clause.doc.issuer,
            "clause_path": clause.clause_path,
            "headings": list(clause.headings),
            "span": list(clause.span),
            "status": clause.doc.status(today),
            "citation": clause.name,
            "score": evidence.score,
            "rank": evidence.rank,
            **{f"score_{name}": value for name, value in evidence.scores.items()},
        },
    )


class PolicyRetriever(BaseRetriever):
    """Hybrid clause retrieval (BM25 + dense + document BM25), optionally restricted to documents or statuses."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    knowledge: KnowledgeBase
    k: int = 8
    doc_ids: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **_: Any) -> list[Document]:
        evidence = self.knowledge.search(query, self.k, doc_ids=self.doc_ids, statuses=self.statuses)
        today = self.knowledge.today()
        return [to_document(item, today) for item in evidence]
