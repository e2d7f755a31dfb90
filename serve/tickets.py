"""Tickets: conversation turns handed to staff, kept in the service's database (``serve.store``). One ticket a turn
(asking again changes nothing but a contact left meanwhile); a reply is sent once, into the asker's conversation."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from core.errors import PolicyQAError
from serve.store import conversations_table, messages_table, now, reachable, tickets_table

log = logging.getLogger(__name__)
STATUSES = ("open", "in_progress", "answered")
STATUS_LABELS = {"open": "待处理", "in_progress": "处理中", "answered": "已答复"}
MAX_CONTACT_CHARS = 200
MAX_REPLY_CHARS = 10_000


class TicketNotFound(PolicyQAError):
    """No ticket with this id."""


class ConversationGone(PolicyQAError):
    """The ticket's conversation was deleted by its asker (or never stored): a reply cannot reach them."""


class InvalidTicketChange(PolicyQAError):
    """A change a ticket cannot take (an unknown status, an empty reply, a status change of an answered ticket)."""


@dataclass(frozen=True)
class Ticket:
    """A conversation turn handed to staff: the question, the assistant's attempt and its closest clauses, the
    asker's contact (optional), where it stands, and the reply once sent."""

    ticket_id: int
    conversation_id: str
    turn: int
    reason: str
    question: str
    attempt: str
    clause_ids: tuple[str, ...]
    contact: str
    status: str
    draft: str
    reply: str
    unit: str
    created_at: str
    updated_at: str
    replied_at: str

    def fields(self) -> dict:
        """JSON-ready."""
        return {"ticket_id": self.ticket_id, "conversation_id": self.conversation_id, "turn": self.turn,
                "reason": self.reason, "question": self.question, "attempt": self.attempt,
                "clause_ids": list(self.clause_ids), "contact": self.contact, "status": self.status,
                "draft": self.draft, "reply": self.reply, "unit": self.unit, "created_at": self.created_at,
                "updated_at": self.updated_at, "replied_at": self.replied_at}


@dataclass(frozen=True)
class Sent:
    """The outcome of sending a reply: the ticket as it now is, and whether this call delivered it (False: it had
    been sent before, and nothing was sent again)."""

    ticket: Ticket
    delivered: bool


def _ticket(row) -> Ticket:
    return Ticket(row.ticket_id, row.conversation_id, row.turn, row.reason, row.question, row.attempt,
                  tuple(json.loads(row.clause_ids)), row.contact, row.status, row.draft, row.reply, row.unit,
                  row.created_at, row.updated_at, row.replied_at)


class TicketStore:
    """Tickets by id and by conversation turn."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def open(self, conversation_id: str, turn: int, reason: str, question: str, attempt: str,
             clause_ids: list[str], contact: str = "") -> tuple[Ticket, bool]:
        """The ticket of this turn, opened now or before (then only a contact given now is added); returns it and
        whether it was opened by this call."""
        contact = contact.strip()[:MAX_CONTACT_CHARS]
        stamp = now()
        row = dict(conversation_id=conversation_id, turn=turn, reason=reason, question=question, attempt=attempt,
                   clause_ids=json.dumps(clause_ids, ensure_ascii=False), contact=contact, status="open",
                   draft="", reply="", unit="", created_at=stamp, updated_at=stamp, replied_at="")
        try:
            with reachable(self.engine), self.engine.begin() as connection:
                connection.execute(insert(tickets_table).values(**row))
            log.info("ticket opened: conversation %s turn %d (%s)", conversation_id, turn, reason)
            return self.for_turn(conversation_id, turn), True
        except IntegrityError:
            pass  # handed over before: the same ticket
        if contact:
            table = tickets_table
            with reachable(self.engine), self.engine.begin() as connection:
                connection.execute(update(table).where(table.c.conversation_id == conversation_id,
                                                       table.c.turn == turn).values(contact=contact, updated_at=stamp))
        return self.for_turn(conversation_id, turn), False

    def for_turn(self, conversation_id: str, turn: int) -> Ticket | None:
        """The ticket of a conversation turn, if any."""
        table = tickets_table
        with reachable(self.engine), self.engine.connect() as connection:
            row = connection.execute(select(table).where(table.c.conversation_id == conversation_id,
                                                         table.c.turn == turn)).first()
        return _ticket(row) if row else None

    def get(self, ticket_id: int) -> Ticket:
        """A ticket by id; TicketNotFound when there is none."""
        with reachable(self.engine), self.engine.connect() as connection:
            row = connection.execute(select(tickets_table).where(tickets_table.c.ticket_id == ticket_id)).first()
        if row is None:
            raise TicketNotFound(f"no ticket {ticket_id}")
        return _ticket(row)

    def queue(self, status: str | None = None, search: str = "", limit: int = 200) -> list[Ticket]:
        """Tickets oldest first, of one status (None: all), whose question, attempt, reply or contact contains
        ``search``."""
        table = tickets_table
        query = select(table).order_by(table.c.created_at, table.c.ticket_id).limit(limit)
        if status:
            query = query.where(table.c.status == _status(status))
        if search.strip():
            pattern = "%" + search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(or_(*(column.like(pattern, escape="\\") for column in
                                      (table.c.question, table.c.attempt, table.c.reply, table.c.contact))))
        with reachable(self.engine), self.engine.connect() as connection:
            return [_ticket(row) for row in connection.execute(query).all()]

    def counts(self) -> dict[str, int]:
        """How many tickets stand in each status."""
        table = tickets_table
        with reachable(self.engine), self.engine.connect() as connection:
            rows = connection.execute(select(table.c.status, func.count()).group_by(table.c.status)).all()
        found = {status: count for status, count in rows}
        return {status: found.get(status, 0) for status in STATUSES}

    def set_status(self, ticket_id: int, status: str) -> Ticket:
        """Move a ticket between open and in progress (answered is reached by sending a reply, and left never)."""
        status = _status(status)
        if status == "answered":
            raise InvalidTicketChange("a ticket is answered by sending its reply")
        table = tickets_table
        with reachable(self.engine), self.engine.begin() as connection:
            changed = connection.execute(update(table).where(table.c.ticket_id == ticket_id,
                                                             table.c.status != "answered")
                                         .values(status=status, updated_at=now())).rowcount
        if not changed:
            ticket = self.get(ticket_id)  # TicketNotFound when there is none
            raise InvalidTicketChange(f"ticket {ticket.ticket_id} is answered already; its status stays")
        return self.get(ticket_id)

    def save_draft(self, ticket_id: int, draft: str) -> Ticket:
        """Keep staff's text on the ticket (a reply not sent yet is never lost)."""
        table = tickets_table
        with reachable(self.engine), self.engine.begin() as connection:
            changed = connection.execute(update(table).where(table.c.ticket_id == ticket_id)
                                         .values(draft=draft[:MAX_REPLY_CHARS], updated_at=now())).rowcount
        if not changed:
            raise TicketNotFound(f"no ticket {ticket_id}")
        return self.get(ticket_id)

    def send(self, ticket_id: int, reply: str, unit: str) -> Sent:
        """Store the reply as the staff message of the ticket's turn in the asker's conversation and mark the ticket
        answered, in one transaction. Sent twice, the second call delivers nothing (``delivered`` False). The
        conversation deleted: ConversationGone, with the reply kept as the ticket's draft."""
        reply = reply.strip()
        if not reply:
            raise InvalidTicketChange("the reply is empty")
        if len(reply) > MAX_REPLY_CHARS:
            raise InvalidTicketChange(f"the reply is longer than {MAX_REPLY_CHARS} characters")
        ticket = self.get(ticket_id)
        if ticket.status == "answered":
            return Sent(ticket, False)
        stamp = now()
        table = tickets_table
        try:
            with reachable(self.engine), self.engine.begin() as connection:
                alive = connection.execute(
                    select(conversations_table.c.conversation_id)
                    .where(conversations_table.c.conversation_id == ticket.conversation_id)).first()
                if alive is None:
                    raise ConversationGone(
                        "the asker's conversation has been deleted (or was never stored): the reply cannot reach "
                        "them; it is kept as the ticket's draft")
                connection.execute(insert(messages_table).values(
                    conversation_id=ticket.conversation_id, turn=ticket.turn, role="staff", text=reply,
                    refused=False, clause_ids="[]", unit=unit, created_at=stamp))
                connection.execute(update(table).where(table.c.ticket_id == ticket_id).values(
                    status="answered", reply=reply, unit=unit, draft=reply, replied_at=stamp, updated_at=stamp))
        except ConversationGone:
            self.save_draft(ticket_id, reply)
            raise
        except IntegrityError:  # another request sent it first: this one sends nothing
            log.warning("ticket %d: its reply was sent by another request first", ticket_id)
            return Sent(self.get(ticket_id), False)
        log.info("ticket %d answered (conversation %s turn %d)", ticket_id, ticket.conversation_id, ticket.turn)
        return Sent(self.get(ticket_id), True)


def _status(status: str) -> str:
    if status not in STATUSES:
        raise InvalidTicketChange(f"unknown status {status[:40]!r}; one of: {', '.join(STATUSES)}")
    return status
