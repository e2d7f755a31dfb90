"""The service's database through SQLAlchemy: conversations (so any app copy can answer a conversation's next
message), what was said in them (answers and staff replies), tickets handed to staff, and feedback. SQLite in the data directory by default; PostgreSQL by URL when several copies run."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, IntegrityError, InterfaceError, OperationalError

from assistant.conversation import Conversation, Turn
from assistant.types import Answer, Citation
from core.errors import DatabaseUnavailableError

log = logging.getLogger(__name__)
metadata = MetaData()

# The same columns the page's SQLite feedback table always had, so an existing data directory keeps its feedback.
feedback_table = Table(
    "feedback", metadata,
    Column("answer_id", String(64), primary_key=True),
    Column("conversation_id", String(64)),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("clause_ids", Text, nullable=False),
    Column("rating", Integer, nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
)

# One row a message: what a follow-up needs from the history (its resolved question and what its answer cited).
turns_table = Table(
    "conversation_turns", metadata,
    Column("conversation_id", String(64), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("question", Text, nullable=False),
    Column("resolved", Text, nullable=False),
    Column("refused", Boolean, nullable=False),
    Column("clause_ids", Text, nullable=False),  # JSON list, in citation order
    Column("traditional", Boolean, nullable=False),
    Column("created_at", String(32), nullable=False),
)


# One row a conversation the server started: a message continues it only with the secret its starter was given.
conversations_table = Table(
    "conversations", metadata,
    Column("conversation_id", String(64), primary_key=True),
    Column("secret_sha256", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
)


# What was said in a conversation besides the asker's messages (those are in conversation_turns): the assistant's
# answer to each turn, and a staff member's reply to a turn handed over (one of each a turn: a reply sent twice is
# stored once). A table of its own, so a data directory of an older version gains it by create_all.
messages_table = Table(
    "conversation_messages", metadata,
    Column("conversation_id", String(64), primary_key=True),
    Column("turn", Integer, primary_key=True),
    Column("role", String(16), primary_key=True),  # "assistant" or "staff"
    Column("text", Text, nullable=False),
    Column("refused", Boolean, nullable=False, server_default=text("false")),
    Column("clause_ids", Text, nullable=False, server_default="[]"),  # JSON list: cited, else possibly related
    Column("unit", Text, nullable=False, server_default=""),  # the replying unit (staff)
    Column("created_at", String(32), nullable=False),
)

# A conversation turn handed to a person: one ticket a turn, however often it is asked for.
tickets_table = Table(
    "tickets", metadata,
    Column("ticket_id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(64), nullable=False, index=True),
    Column("turn", Integer, nullable=False),
    Column("reason", String(32), nullable=False),  # serve.handoff.TICKET_REASONS
    Column("question", Text, nullable=False),
    Column("attempt", Text, nullable=False),  # the assistant's answer to it
    Column("clause_ids", Text, nullable=False),  # JSON list: the closest clauses
    Column("contact", Text, nullable=False, server_default=""),
    Column("status", String(16), nullable=False),  # open | in_progress | answered
    Column("draft", Text, nullable=False, server_default=""),  # staff's text kept before it is sent
    Column("reply", Text, nullable=False, server_default=""),
    Column("unit", Text, nullable=False, server_default=""),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Column("replied_at", String(32), nullable=False, server_default=""),
    UniqueConstraint("conversation_id", "turn", name="one_ticket_a_turn"),
)


# The 答疑库: staff answers published as curated Q&A entries, answered from when a later question asks the same.
entries_table = Table(
    "qa_entries", metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", Integer, nullable=True, unique=True),  # the ticket it was published from (one entry a ticket)
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("clause_ids", Text, nullable=False),  # JSON list: the clauses the answer rests on
    Column("unit", Text, nullable=False),
    Column("published_on", String(10), nullable=False),  # the date it states, local (YYYY-MM-DD)
    Column("retired", Boolean, nullable=False, server_default=text("false")),
    Column("revision", Integer, nullable=False, server_default=text("1")),  # +1 a change: how copies notice it
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
)


def database_url(settings) -> str:
    """The settings' database: ``database_url``, or SQLite in the data directory."""
    if settings.database_url:
        return settings.database_url
    return f"sqlite:///{Path(settings.data_dir) / 'feedback.sqlite'}"


def open_database(url: str) -> Engine:
    """An engine on the database with the tables created; DatabaseUnavailableError (naming the host, never the
    password) when it cannot be reached."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 10, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                               connect_args=_connect_timeout(url))
    try:
        with engine.begin() as connection:
            connection.execute(text("SELECT 1"))
        metadata.create_all(engine)
    except OperationalError as exc:
        engine.dispose()
        where = engine.url.render_as_string(hide_password=True)
        raise DatabaseUnavailableError(f"the database {where} cannot be reached: {exc.orig}") from None
    except DatabaseError as exc:  # e.g. a damaged SQLite file: "file is not a database"
        engine.dispose()
        where = engine.url.render_as_string(hide_password=True)
        raise DatabaseUnavailableError(
            f"the database {where} cannot be used: {exc.orig} (a damaged file: move it away, a new one is created)"
        ) from None
    return engine


def _connect_timeout(url: str) -> dict:
    return {"connect_timeout": 5} if url.startswith("postgresql+psycopg") else {}


def _sqlite_pragmas(connection, _record) -> None:
    # Several threads write (answers, feedback): WAL lets readers go on while one writes.
    connection.execute("PRAGMA journal_mode=WAL")


def now() -> str:
    """A timestamp for rows (UTC, seconds)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@contextmanager
def reachable(engine: Engine):
    """Turn a database that stopped answering into DatabaseUnavailableError (the API's 503); the pool reconnects
    by itself when it is back."""
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        where = engine.url.render_as_string(hide_password=True)
        raise DatabaseUnavailableError(f"the database {where} does not answer: {exc.orig}") from None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class Message:
    """One message of a stored conversation as the asker sees it again: theirs (``user``), the assistant's answer,
    or a staff member's reply (``staff``, with the replying unit)."""

    turn: int
    role: str
    text: str
    created_at: str
    refused: bool = False
    clause_ids: tuple[str, ...] = ()
    unit: str = ""

    def fields(self) -> dict:
        """JSON-ready."""
        return {"turn": self.turn, "role": self.role, "text": self.text, "created_at": self.created_at,
                "refused": self.refused, "clause_ids": list(self.clause_ids), "unit": self.unit}


class ConversationStore:
    """Conversations by id: started by the server (an id and a secret for the client that started it), loaded
    before a message is answered, its turn appended after."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def start(self) -> tuple[str, str]:
        """A new conversation: its id and the secret that continues it (only its digest is stored)."""
        conversation_id, secret = uuid.uuid4().hex, secrets.token_urlsafe(24)
        with reachable(self.engine), self.engine.begin() as connection:
            connection.execute(insert(conversations_table).values(
                conversation_id=conversation_id, secret_sha256=_digest(secret), created_at=now()))
        return conversation_id, secret

    def opens(self, conversation_id: str, secret: str | None) -> bool:
        """Whether this secret continues this conversation (False for an id the server never issued)."""
        with reachable(self.engine), self.engine.connect() as connection:
            stored = connection.execute(
                select(conversations_table.c.secret_sha256)
                .where(conversations_table.c.conversation_id == conversation_id)
            ).scalar()
        return stored is not None and hmac.compare_digest(stored, _digest(secret or ""))

    def writable(self) -> None:
        """Raise DatabaseUnavailableError when a turn could not be stored now (the database does not answer, or
        refuses writes: a read-only file or data directory). Nothing is left written."""
        with reachable(self.engine), self.engine.connect() as connection:
            transaction = connection.begin()
            try:
                connection.execute(insert(conversations_table).values(
                    conversation_id="~readiness-probe", secret_sha256="", created_at=now()))
            except IntegrityError:
                pass  # a probe row left by a crash: the database took the write
            finally:
                transaction.rollback()

    def load(self, conversation_id: str, clauses) -> Conversation:
        """The conversation as stored (a new one under this id when there is none). ``clauses`` maps clause ids
        to clauses (the current index generation); a clause that no longer exists is left out of the history."""
        with reachable(self.engine), self.engine.connect() as connection:
            rows = connection.execute(
                select(turns_table).where(turns_table.c.conversation_id == conversation_id)
                .order_by(turns_table.c.position)
            ).all()
        conversation = Conversation(id=conversation_id)
        for row in rows:
            cited = [clauses[c] for c in json.loads(row.clause_ids) if c in clauses]
            answer = Answer(row.question, row.refused, resolved_question=row.resolved,
                            citations=tuple(Citation(i, clause) for i, clause in enumerate(cited, 1)))
            conversation.turns.append(Turn(row.question, row.resolved, answer))
            conversation.traditional = row.traditional
        return conversation

    def append(self, conversation: Conversation, position: int) -> bool:
        """Store the conversation's last turn as turn ``position``; False when that turn was stored meanwhile
        (the same conversation asked twice at once: the first one stays)."""
        turn = conversation.turns[-1]
        answer = turn.answer
        row = dict(
            conversation_id=conversation.id, position=position, question=turn.question, resolved=turn.resolved,
            refused=bool(answer and answer.refused),
            clause_ids=json.dumps([c.clause.clause_id for c in answer.citations] if answer else [], ensure_ascii=False),
            traditional=conversation.traditional, created_at=now(),
        )
        try:
            with reachable(self.engine), self.engine.begin() as connection:
                connection.execute(insert(turns_table).values(**row))
        except IntegrityError:
            log.warning("conversation %s: turn %d was stored by another request first", conversation.id, position)
            return False
        return True

    def exists(self, conversation_id: str) -> bool:
        """Whether the server started this conversation and it has not been deleted."""
        with reachable(self.engine), self.engine.connect() as connection:
            return connection.execute(
                select(conversations_table.c.conversation_id)
                .where(conversations_table.c.conversation_id == conversation_id)
            ).first() is not None

    def record_answer(self, conversation_id: str, turn: int, answer: Answer, clause_ids: list[str]) -> None:
        """Keep the answer's text to turn ``turn``, so a reloaded page can show the conversation as it was."""
        row = dict(conversation_id=conversation_id, turn=turn, role="assistant", text=answer.text,
                   refused=answer.refused, clause_ids=json.dumps(clause_ids, ensure_ascii=False), unit="",
                   created_at=now())
        try:
            with reachable(self.engine), self.engine.begin() as connection:
                connection.execute(insert(messages_table).values(**row))
        except IntegrityError:
            log.warning("conversation %s: the answer to turn %d was stored before", conversation_id, turn)

    def messages(self, conversation_id: str) -> list[Message]:
        """The conversation's messages in order: each turn's question, its answer (when stored: turns of an older
        version have none) and a staff reply to it."""
        with reachable(self.engine), self.engine.connect() as connection:
            turns = connection.execute(
                select(turns_table).where(turns_table.c.conversation_id == conversation_id)
                .order_by(turns_table.c.position)
            ).all()
            said = connection.execute(
                select(messages_table).where(messages_table.c.conversation_id == conversation_id)
            ).all()
        by_turn: dict[int, dict[str, Message]] = {}
        for row in said:
            by_turn.setdefault(row.turn, {})[row.role] = Message(
                row.turn, row.role, row.text, row.created_at, bool(row.refused), tuple(json.loads(row.clause_ids)),
                row.unit)
        out: list[Message] = []
        for row in turns:
            out.append(Message(row.position, "user", row.question, row.created_at))
            out.extend(by_turn.get(row.position, {})[role] for role in ("assistant", "staff")
                       if role in by_turn.get(row.position, {}))
        return out

    def delete(self, conversation_id: str) -> bool:
        """Delete the conversation, its turns and messages (its tickets stay, for the staff's record); False when
        there was none."""
        with reachable(self.engine), self.engine.begin() as connection:
            gone = connection.execute(delete(conversations_table)
                                      .where(conversations_table.c.conversation_id == conversation_id)).rowcount
            connection.execute(delete(turns_table).where(turns_table.c.conversation_id == conversation_id))
            connection.execute(delete(messages_table).where(messages_table.c.conversation_id == conversation_id))
        return bool(gone)
