"""The 答疑库: staff replies published as curated Q&A entries (question, staff answer, the clauses it rests on, the
replying unit, the date), a source of their own beside the policy clauses. A later whole question that asks the same
as a published entry is answered from it, cited as 答疑库 with unit and date and its clauses; a retired entry is
never answered from again.

"Asks the same": the entry's question and the new one are embedded with the knowledge base's embedder (as queries)
and their cosine similarity reaches ``answer_book_min_similarity``, and both ask for the same kinds of answer
(``assistant/rules/answer_kinds.yaml``: "认定条件是什么?" is not "奖励什么时候发?" however alike their words)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import threading
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from assistant.question import wanted_kinds
from assistant.retrieval.asking import asking_part
from assistant.types import Answer, Citation, Note, Part
from core.errors import PolicyQAError
from core.textnorm import to_simplified
from serve.store import entries_table, now, reachable

log = logging.getLogger(__name__)
MAX_ENTRY_CHARS = 10_000


class EntryNotFound(PolicyQAError):
    """No 答疑库 entry with this id."""


class InvalidEntry(PolicyQAError):
    """An entry that cannot be stored as given (empty question or answer, a clause the knowledge base lacks, a
    ticket not answered yet)."""


@dataclass(frozen=True)
class Entry:
    """A curated Q&A entry of the 答疑库."""

    entry_id: int
    ticket_id: int | None
    question: str
    answer: str
    clause_ids: tuple[str, ...]
    unit: str
    published_on: str
    retired: bool
    created_at: str
    updated_at: str

    @property
    def label(self) -> str:
        """How an answer from it is cited: "答疑库（unit，2026年12月3日）"."""
        day = dt.date.fromisoformat(self.published_on)
        return f"答疑库（{self.unit}，{day.year}年{day.month}月{day.day}日）"

    def fields(self) -> dict:
        """JSON-ready."""
        return {"entry_id": self.entry_id, "ticket_id": self.ticket_id, "question": self.question,
                "answer": self.answer, "clause_ids": list(self.clause_ids), "unit": self.unit,
                "published_on": self.published_on, "retired": self.retired, "label": self.label,
                "created_at": self.created_at, "updated_at": self.updated_at}


def _entry(row) -> Entry:
    return Entry(row.entry_id, row.ticket_id, row.question, row.answer, tuple(json.loads(row.clause_ids)), row.unit,
                 row.published_on, bool(row.retired), row.created_at, row.updated_at)


def _checked(question: str, answer: str) -> tuple[str, str]:
    question, answer = question.strip(), answer.strip()
    if not question or not answer:
        raise InvalidEntry("an entry needs a question and an answer")
    if len(question) > MAX_ENTRY_CHARS or len(answer) > MAX_ENTRY_CHARS:
        raise InvalidEntry(f"the question and the answer may have {MAX_ENTRY_CHARS} characters each")
    return question, answer


class EntryStore:
    """Entries by id; published, edited, retired by staff."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def add(self, question: str, answer: str, clause_ids: list[str], unit: str, published_on: dt.date,
            ticket_id: int | None = None) -> tuple[Entry, bool]:
        """Publish an entry; a ticket published before gives its entry back (returns it and whether it is new)."""
        question, answer = _checked(question, answer)
        stamp = now()
        row = dict(ticket_id=ticket_id, question=question, answer=answer,
                   clause_ids=json.dumps(list(dict.fromkeys(clause_ids)), ensure_ascii=False), unit=unit,
                   published_on=published_on.isoformat(), retired=False, created_at=stamp, updated_at=stamp)
        try:
            with reachable(self.engine), self.engine.begin() as connection:
                entry_id = connection.execute(insert(entries_table).values(**row)).inserted_primary_key[0]
        except IntegrityError:  # the ticket was published before
            with reachable(self.engine), self.engine.connect() as connection:
                found = connection.execute(select(entries_table).where(entries_table.c.ticket_id == ticket_id)).first()
            return _entry(found), False
        log.info("答疑库 entry %d published", entry_id)
        return self.get(entry_id), True

    def get(self, entry_id: int) -> Entry:
        """An entry by id; EntryNotFound when there is none."""
        with reachable(self.engine), self.engine.connect() as connection:
            row = connection.execute(select(entries_table).where(entries_table.c.entry_id == entry_id)).first()
        if row is None:
            raise EntryNotFound(f"no 答疑库 entry {entry_id}")
        return _entry(row)

    def all(self, include_retired: bool = True) -> list[Entry]:
        """Entries, oldest first."""
        query = select(entries_table).order_by(entries_table.c.entry_id)
        if not include_retired:
            query = query.where(entries_table.c.retired.is_(False))
        with reachable(self.engine), self.engine.connect() as connection:
            return [_entry(row) for row in connection.execute(query).all()]

    def edit(self, entry_id: int, question: str, answer: str, clause_ids: list[str] | None = None) -> Entry:
        """Change an entry's question, answer and (when given) clauses."""
        question, answer = _checked(question, answer)
        changes = dict(question=question, answer=answer, updated_at=now())
        if clause_ids is not None:
            changes["clause_ids"] = json.dumps(list(dict.fromkeys(clause_ids)), ensure_ascii=False)
        return self._change(entry_id, changes)

    def retire(self, entry_id: int, retired: bool = True) -> Entry:
        """Retire an entry (never answered from again) or bring it back."""
        return self._change(entry_id, dict(retired=retired, updated_at=now()))

    def version(self) -> tuple[int, int]:
        """Changes whenever an entry is added, edited or retired (how many there are, the sum of their revisions),
        in whichever app copy it happened."""
        with reachable(self.engine), self.engine.connect() as connection:
            count, revisions = connection.execute(select(func.count(), func.sum(entries_table.c.revision))).one()
        return count, int(revisions or 0)

    def _change(self, entry_id: int, changes: dict) -> Entry:
        with reachable(self.engine), self.engine.begin() as connection:
            changed = connection.execute(update(entries_table).where(entries_table.c.entry_id == entry_id)
                                         .values(**changes, revision=entries_table.c.revision + 1)).rowcount
        if not changed:
            raise EntryNotFound(f"no 答疑库 entry {entry_id}")
        return self.get(entry_id)


@dataclass(frozen=True)
class BookMatch:
    """The published entry a question asks the same as, and how alike they are."""

    entry: Entry
    similarity: float


class AnswerBook:
    """The published entries as a source: their questions embedded once (again only when the entries change, which
    costs one small query per question to notice), searched by cosine similarity."""

    def __init__(self, entries: EntryStore, embedder, min_similarity: float, max_embed_chars: int = 150):
        self.entries = entries
        self.embedder = embedder
        self.min_similarity = min_similarity
        self.max_embed_chars = max_embed_chars  # a longer question is embedded by its asking part
        self._vectors: dict[str, list[float]] = {}  # entry question → its vector (kept across versions)
        self._published: tuple[Entry, ...] = ()
        self._version: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def published(self) -> tuple[Entry, ...]:
        """The entries not retired, as of now."""
        version = self.entries.version()
        if version != self._version:
            with self._lock:
                published = tuple(self.entries.all(include_retired=False))
                missing = [e.question for e in published if e.question not in self._vectors]
                if missing:
                    vectors = self.embedder.embed_batch([to_simplified(q) for q in missing], "query")
                    self._vectors.update(zip(missing, vectors, strict=True))
                self._published, self._version = published, version
        return self._published

    def match(self, question: str) -> BookMatch | None:
        """The published entry that asks the same as ``question`` (the most alike), or None."""
        published = self.published()
        if not published or not question.strip():
            return None
        simplified = to_simplified(question)
        vector = self.embedder.embed_batch([asking_part(simplified, self.max_embed_chars)], "query")[0]
        wants = {kind.name for kind in wanted_kinds(simplified)}
        best: BookMatch | None = None
        for entry in published:
            if {kind.name for kind in wanted_kinds(to_simplified(entry.question))} != wants:
                continue
            similarity = _cosine(vector, self._vectors[entry.question])
            if similarity >= self.min_similarity and (best is None or similarity > best.similarity):
                best = BookMatch(entry, similarity)
        return best


def _cosine(a: list[float], b: list[float]) -> float:
    norm = math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))
    return sum(x * y for x, y in zip(a, b, strict=True)) / norm if norm else 0.0


def entry_answer(question: str, match: BookMatch, clauses: dict, today: dt.date) -> Answer:
    """The answer from an entry: its answer, cited as 答疑库 with unit and date, and the clauses it rests on (those
    the knowledge base still holds)."""
    entry = match.entry
    cited = [clauses[c] for c in entry.clause_ids if c in clauses]
    markers = "".join(f"[{i}]" for i in range(1, len(cited) + 1))
    return Answer(question, False, (Part(f"{entry.label}：{entry.answer}{markers}"),),
                  (Note("answer_book", f"本答复引自{entry.label}，为工作人员对同类问题的答复。"),),
                  tuple(Citation(i, clause) for i, clause in enumerate(cited, 1)), resolved_question=question,
                  reason="", today=today)
