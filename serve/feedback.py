"""Feedback on answers (thumbs up/down and a comment), kept in SQLite under the data directory."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    answer_id TEXT PRIMARY KEY,
    conversation_id TEXT,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    clause_ids TEXT NOT NULL,
    rating INTEGER NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
)
"""


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
    """Feedback rows by answer: a second click on the same answer updates it rather than adding a row."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(str(self.path), timeout=10)

    def record(self, answer_id: str, conversation_id: str, question: str, answer: str,
               clause_ids: list[str], rating: int, comment: str = "") -> str:
        """Store feedback; returns "created" or "updated"."""
        if rating not in (1, -1):
            raise ValueError("rating must be 1 (useful) or -1 (not useful)")
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self._lock, self._connect() as db:
            exists = db.execute("SELECT 1 FROM feedback WHERE answer_id = ?", (answer_id,)).fetchone()
            if exists:
                # A second click changes the rating; an empty comment keeps the one given before.
                db.execute("UPDATE feedback SET rating = ?, comment = COALESCE(NULLIF(?, ''), comment), updated_at = ? "
                           "WHERE answer_id = ?",
                           (rating, comment.strip()[:2000], now, answer_id))
                return "updated"
            db.execute(
                "INSERT INTO feedback VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (answer_id, conversation_id, question, answer, json.dumps(clause_ids, ensure_ascii=False), rating,
                 comment.strip()[:2000], now, now),
            )
            return "created"

    def all(self) -> list[Feedback]:
        """Every feedback row, newest first."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM feedback ORDER BY updated_at DESC").fetchall()
        return [Feedback(r[0], r[1], r[2], r[3], tuple(json.loads(r[4])), r[5], r[6], r[7], r[8]) for r in rows]
