"""Feedback on answers (thumbs up/down and a comment), kept in the service's database (``serve.store``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from serve.store import feedback_table, now, open_database


@dataclass(frozen=True)
class Feedback:
    """One person's judgement of one answer."""

    answer_id: str
    conversation_id: str
    question: str
    answer: str
    clause_ids: tuple[str, ...]
    rating: int
    comment: str
    created_at: str
    updated_at: str


class FeedbackStore:
    """Feedback rows by answer: a second click on the same answer updates it rather than adding a row.
    ``target`` is the database's engine, or the path of a SQLite file (created when absent)."""

    def __init__(self, target: Engine | Path | str):
        if isinstance(target, Engine):
            self.engine = target
            self.path = Path(target.url.database) if target.url.get_backend_name() == "sqlite" else None
        else:
            self.path = Path(target)
            self.engine = open_database(f"sqlite:///{self.path}")

    def record(self, answer_id: str, conversation_id: str, question: str, answer: str,
               clause_ids: list[str], rating: int, comment: str = "") -> str:
        """Store feedback; returns "created" or "updated"."""
        if rating not in (1, -1):
            raise ValueError("rating must be 1 (useful) or -1 (not useful)")
        stamp = now()
        comment = comment.strip()[:2000]
        table = feedback_table
        row = dict(answer_id=answer_id, conversation_id=conversation_id, question=question, answer=answer,
                   clause_ids=json.dumps(clause_ids, ensure_ascii=False), rating=rating, comment=comment,
                   created_at=stamp, updated_at=stamp)
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(table).values(**row))
            return "created"
        except IntegrityError:
            pass  # rated before: a second click changes the rating; an empty comment keeps the one given before
        changes = dict(rating=rating, updated_at=stamp, **({"comment": comment} if comment else {}))
        with self.engine.begin() as connection:
            connection.execute(update(table).where(table.c.answer_id == answer_id).values(**changes))
        return "updated"

    def all(self) -> list[Feedback]:
        """Every feedback row, newest first."""
        table = feedback_table
        with self.engine.connect() as connection:
            rows = connection.execute(select(table).order_by(table.c.updated_at.desc())).all()
        return [Feedback(r.answer_id, r.conversation_id, r.question, r.answer, tuple(json.loads(r.clause_ids)),
                         r.rating, r.comment, r.created_at, r.updated_at) for r in rows]
