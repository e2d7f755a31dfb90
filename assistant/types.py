"""The answering chain's types: PolicyDoc → Clause (from ``index.types``) → Evidence → Answer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from index.types import STATUS_LABELS, Clause, PolicyDoc, Status

__all__ = ["STATUS_LABELS", "Answer", "Citation", "Clause", "Evidence", "PolicyDoc", "Query", "Status"]


@dataclass(frozen=True)
class Evidence:
    """A retrieved clause with its fused score, rank and the score each retriever gave it."""

    clause: Clause
    score: float
    rank: int
    scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Query:
    """A question as the retriever sees it: ``text`` resolved against the conversation; ``original`` is the
    message as typed, ``context`` what the conversation asked before it."""

    text: str
    original: str
    context: str = ""
    regions: tuple[str, ...] = ()
    doc_ids: tuple[str, ...] | None = None
    statuses: tuple[Status, ...] | None = None
    cited: tuple[str, ...] = ()  # for a follow-up: the clauses the previous answer cited


@dataclass(frozen=True)
class Citation:
    """A numbered source of an answer: the clause and the sentences of it that the answer used."""

    key: int
    clause: Clause
    sentences: tuple[str, ...] = ()


@dataclass(frozen=True)
class Answer:
    """What the assistant says, what it rests on, and what it was built from."""

    question: str
    text: str
    refused: bool
    citations: tuple[Citation, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    resolved_question: str = ""
    traditional: bool = False
    notice: str = ""
    reason: str = ""
    latency_ms: float = 0.0
    today: dt.date | None = None

    def record(self) -> dict:
        """The per-case object of qa/FORMAT.md."""
        return {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "citations": [
                {"doc_id": c.clause.doc.doc_id, "title": c.clause.doc.title, "clause": c.clause.clause_path,
                 "text": c.clause.text, "doc_number": c.clause.doc.doc_number}
                for c in self.citations
            ],
            "retrieved": [
                {"doc_id": e.clause.doc.doc_id, "title": e.clause.doc.title, "clause": e.clause.clause_path,
                 "text": e.clause.text, "score": round(e.score, 4)}
                for e in self.evidence
            ],
            "latency_ms": round(self.latency_ms, 1),
        }
