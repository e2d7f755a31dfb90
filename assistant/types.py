"""The answering chain's types: PolicyDoc → Clause (from ``core.types``) → Evidence → Draft → Answer; and
``render_text``, the one plain-text rendering of an answer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.textnorm import to_simplified, to_traditional
from core.types import STATUS_LABELS, Clause, PolicyDoc, Status

if TYPE_CHECKING:
    from assistant.decide import Decision

__all__ = [
    "REPHRASE_REASONS", "STATUS_LABELS", "Answer", "Citation", "Clause", "Draft", "Evidence", "GuardReport", "Note", "Part",
    "PolicyDoc", "Query",
    "Status", "Timings", "answer_lines", "render_text", "source_line",
]


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
    whole: bool = False  # quote the best clause whole ("具体有哪些?" after it was quoted in part)
    # The sentences of the message that ask, in the policies' words, when others only describe the asker
    # ("我们…已经拿了20万，…还有没有奖励可拿?" asks about 奖励).
    asked: str = ""
    # Who the answer is for: "owner" (the chat) or "helpdesk" (a staff member drafting a formal reply).
    audience: str = "owner"


@dataclass(frozen=True)
class Citation:
    """A numbered source of an answer: the clause and the sentences of it that the answer used."""

    key: int
    clause: Clause
    sentences: tuple[str, ...] = ()


@dataclass(frozen=True)
class GuardReport:
    """What the guard decided about an LLM's answer before anyone saw it: whether it passed, the citation keys
    it removed (they mapped to no clause given to the model), the figures no cited clause states, whether the
    answer was written a second time, and whether the extractive answer was shown instead (``error``: why, when
    the model could not be asked at all)."""

    passed: bool
    removed_keys: tuple[int, ...] = ()
    unsupported_numbers: tuple[str, ...] = ()
    regenerated: bool = False
    fallback: bool = False
    error: str = ""
    failures: tuple[str, ...] = ()  # what was wrong with each failing try, as named to the model
    cited_by_code: bool = False  # the model wrote no marker: each sentence got the clause that states it

    def fields(self) -> dict:
        """JSON-ready."""
        return {"passed": self.passed, "removed_keys": list(self.removed_keys),
                "unsupported_numbers": list(self.unsupported_numbers), "regenerated": self.regenerated,
                "fallback": self.fallback, "error": self.error, "failures": list(self.failures),
                "cited_by_code": self.cited_by_code}

    @staticmethod
    def merged(reports: list[GuardReport]) -> GuardReport | None:
        """One report for an answer written in several parts (None when no part was checked)."""
        if not reports:
            return None
        return GuardReport(
            passed=all(r.passed for r in reports),
            removed_keys=tuple(k for r in reports for k in r.removed_keys),
            unsupported_numbers=tuple(dict.fromkeys(n for r in reports for n in r.unsupported_numbers)),
            regenerated=any(r.regenerated for r in reports),
            fallback=any(r.fallback for r in reports),
            error="; ".join(dict.fromkeys(r.error for r in reports if r.error)),
            failures=tuple(f for r in reports for f in r.failures),
            cited_by_code=any(r.cited_by_code for r in reports),
        )


@dataclass(frozen=True)
class Draft:
    """A generator's answer: text with [n] markers (numbered within the draft) and the clause each marker stands
    for, with the sentences of it that the text quotes. ``guard``: an LLM generator's guard decisions."""

    text: str
    sources: tuple[Clause, ...]
    sentences: tuple[tuple[str, ...], ...]
    guard: GuardReport | None = None

    @property
    def quoted(self) -> str:
        """Every sentence the draft quotes, joined by spaces."""
        return " ".join(s for sentences in self.sentences for s in sentences)


@dataclass(frozen=True)
class Part:
    """One part of an answer's body: its sentences with [n] markers (the answer's citation keys). ``label`` names
    the region or document the part answers for; it is empty when the answer has a single part."""

    text: str
    label: str = ""


# Kinds of note: the question was cut (shown before the body), a named place the knowledge base does not cover, a
# covered place whose documents do not speak to the question, a cited policy's status (shown after the body).
# ``llm_fallback``: the LLM's answer failed the guard (or the model could not be reached) and the extractive one is shown.
NOTE_KINDS = ("truncated", "region_missing", "region_no_basis", "status", "llm_fallback")


@dataclass(frozen=True)
class Note:
    """Something an answer says about itself rather than about policy (see ``NOTE_KINDS``)."""

    kind: str
    text: str


# Why a question may be declined without saying anything about the knowledge base: it has to be asked differently.
# Each is said by its own template: a question in English must be put in Chinese; "这个文件还有效吗?" when no answer
# of the conversation cited a document must say which document it means.
REPHRASE_REASONS = {"not_chinese": "english_question", "no_reference": "no_reference"}


@dataclass(frozen=True)
class Timings:
    """Where one question's time went, in milliseconds."""

    retrieval_ms: float = 0.0
    generation_ms: float = 0.0
    total_ms: float = 0.0


@dataclass(frozen=True)
class Answer:
    """What the assistant says, what it rests on, and what it was built from. The body, notes and citations are
    kept apart; ``text`` is their one plain-text rendering (``render_text``)."""

    question: str
    refused: bool
    body: tuple[Part, ...] = ()
    notes: tuple[Note, ...] = ()
    citations: tuple[Citation, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    resolved_question: str = ""
    traditional: bool = False
    reason: str = ""  # why the question was declined (empty when answered)
    timings: Timings = Timings()
    today: dt.date | None = None
    guard: GuardReport | None = None  # the LLM guard's decisions (None: no LLM wrote this answer)
    rewritten_question: str = ""  # what the LLM rewrote a follow-up into before retrieval (empty: not rewritten)
    # The decision on the first ranking (``assistant.decide``; None when a rule declined before retrieval).
    decision: Decision | None = None
    # "Not sure": the closest clauses, possibly related; never citations (the answer stays refused).
    related: tuple[Evidence, ...] = ()

    @property
    def text(self) -> str:
        """The answer as plain text (what the chat shows and FORMAT.md records)."""
        return render_text(self)

    @property
    def latency_ms(self) -> float:
        """How long the question took."""
        return self.timings.total_ms

    @property
    def script(self) -> str:
        """The script the answer is shown in: ``traditional`` for a traditional asker; ``simplified`` when it cites a
        traditional document to a simplified asker; empty when nothing is converted. The body and notes are already
        in it; the citations keep their clauses exactly as written."""
        if self.traditional:
            return "traditional"
        return "simplified" if any(c.clause.doc.traditional for c in self.citations) else ""

    def fields(self) -> dict:
        """The answer's parts as JSON-ready data (for the command line's ``--json``, beside ``record()``)."""
        return {
            "body": [{"label": p.label, "text": p.text} for p in self.body],
            "notes": [{"kind": n.kind, "text": n.text} for n in self.notes],
            "sources": [
                {"key": c.key, "clause_id": c.clause.clause_id, "reference": c.clause.reference,
                 "sentences": list(c.sentences)}
                for c in self.citations
            ],
            "reason": self.reason,
            "timings": {name: round(value, 1) for name, value in vars(self.timings).items()},
            **self._llm_fields(),
            **self._decision_fields(),
        }

    def _llm_fields(self) -> dict:
        """The guard's decisions and the rewritten follow-up, when an LLM took part."""
        out: dict = {}
        if self.guard is not None:
            out["guard"] = self.guard.fields()
        if self.rewritten_question:
            out["rewritten_question"] = self.rewritten_question
        return out

    def _decision_fields(self) -> dict:
        """The decision taken and the possibly related clauses of a "not sure" answer."""
        out: dict = {}
        if self.decision is not None:
            out["decision"] = self.decision.record()
        if self.related:
            out["related"] = [{"doc_id": e.clause.doc.doc_id, "title": e.clause.doc.title, "clause": e.clause.clause_path,
                               "reference": e.clause.reference, "text": e.clause.text} for e in self.related]
        return out

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
            "reason": self.reason,
            **self._llm_fields(),
            **self._decision_fields(),
        }


def source_line(key: int, clause: Clause) -> str:
    """A numbered source: title, 文号 and clause path."""
    return f"[{key}] {clause.reference}"


def in_script(text: str, script: str) -> str:
    """The text in an answer's script (see ``Answer.script``)."""
    if script == "traditional":
        return to_traditional(text)
    return to_simplified(text) if script == "simplified" else text


def answer_lines(answer: Answer) -> list[str]:
    """The lines of an answer without its sources: a refusal's sentence alone; otherwise the truncation notice
    and the LLM fallback's note, the body (each part after its label) and the other notes."""
    parts = [f"{p.label}：{p.text}" if p.label else p.text for p in answer.body]
    if answer.refused:
        return parts
    leading = ("truncated", "llm_fallback")
    first = [n.text for n in answer.notes if n.kind in leading]
    return first + parts + [n.text for n in answer.notes if n.kind not in leading]


def render_text(answer: Answer) -> str:
    """The answer as plain text: its lines, then "来源：" and one line per citation (when it cites any)."""
    lines = answer_lines(answer)
    if answer.refused or not answer.citations:
        return "\n".join(lines)
    sources = [in_script(line, answer.script) for line in ["来源：", *(source_line(c.key, c.clause) for c in answer.citations)]]
    return "\n".join(lines + sources)
