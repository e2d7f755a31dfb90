"""The desk's HTTP routes: an asker's stored conversation (read it back with staff replies, hand it to a person,
rate an answer, delete it) and the staff's tickets (queue, one ticket, status, draft, reply), behind the staff
token. Registered on the API app by ``serve.api.build_api``; errors in the API's JSON shape."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Path, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.prompts import render
from core.textnorm import clean_input
from serve.answer_book import EntryNotFound, InvalidEntry
from serve.clients import ClientIdentity, token_required
from serve.desk import Desk, NoSuchConversation, NoSuchTurn
from serve.throttle import TokenGate
from serve.tickets import STATUSES, ConversationGone, InvalidTicketChange, TicketNotFound

# A ticket's or entry's id in a path: a database row id (a larger number would overflow SQLite's INTEGER: 404).
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Conversation-Secret"


class HandoffRequest(BaseModel):
    """The asker asks for a person about a turn of their conversation."""

    model_config = ConfigDict(extra="forbid")
    conversation_secret: str = Field(..., max_length=100)
    turn: int | None = Field(None, ge=0, description="The turn handed over (default: the latest).")
    contact: str = Field("", max_length=200, description="How staff may reach the asker (phone, mail), optional.")

    _clean = field_validator("contact")(lambda value: clean_input(value))


class RatingRequest(BaseModel):
    """Thumbs up (1) or down (-1) on a turn's answer; a thumbs-down hands the turn to staff."""

    model_config = ConfigDict(extra="forbid")
    conversation_secret: str = Field(..., max_length=100)
    turn: int = Field(..., ge=0)
    rating: int = Field(..., description="1: useful; -1: not useful (opens a ticket).")
    comment: str = Field("", max_length=2000)

    _clean = field_validator("comment")(lambda value: clean_input(value))

    @field_validator("rating")
    @classmethod
    def _thumb(cls, value: int) -> int:
        if value not in (1, -1):
            raise ValueError("rating must be 1 (useful) or -1 (not useful)")
        return value


class StatusRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str = Field(..., description="open or in_progress (answered is reached by sending the reply).")


class DraftRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    draft: str = Field(..., max_length=10_000)

    _clean = field_validator("draft")(lambda value: clean_input(value))


class ReplyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reply: str = Field(..., min_length=1, max_length=10_000)

    _clean = field_validator("reply")(lambda value: clean_input(value))


class PublishRequest(BaseModel):
    """Publish an answered ticket as a 答疑库 entry; what is not given comes from the ticket."""

    model_config = ConfigDict(extra="forbid")
    question: str | None = Field(None, max_length=10_000)
    answer: str | None = Field(None, max_length=10_000)
    clause_ids: list[str] | None = Field(None, max_length=20, description="The clauses the answer rests on.")

    _clean = field_validator("question", "answer")(lambda value: value and clean_input(value))


class EntryRequest(BaseModel):
    """An edited 答疑库 entry."""

    model_config = ConfigDict(extra="forbid")
    question: str = Field(..., min_length=1, max_length=10_000)
    answer: str = Field(..., min_length=1, max_length=10_000)
    clause_ids: list[str] | None = Field(None, max_length=20)

    _clean = field_validator("question", "answer")(lambda value: clean_input(value))


class RetireRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    retired: bool = Field(True, description="true: never answered from again; false: published again.")


def register(app: FastAPI, desk: Desk, settings, api_error, rate_limited, identity: ClientIdentity,
             gate: TokenGate) -> None:
    """Add the desk's routes to ``app`` (before its catch-all for unknown API paths). ``api_error`` makes the API's
    error exception; ``rate_limited`` is the API's per-client allowance."""

    staff = token_required([t for t in (settings.staff_token, settings.admin_token) if t], identity, gate, api_error,
                           "the staff desk is off: set POLICYQA_STAFF_TOKEN to open it", "staff")

    def asker(call):
        try:
            return call()
        except (NoSuchConversation, NoSuchTurn, TicketNotFound, EntryNotFound) as exc:
            raise api_error(404, "not_found", str(exc)) from None
        except (InvalidTicketChange, InvalidEntry) as exc:
            raise api_error(400, "bad_request", str(exc)) from None
        except ConversationGone as exc:
            raise api_error(409, "conversation_gone", str(exc)) from None

    @app.get("/api/conversations/{conversation_id}", tags=["conversations"], dependencies=[Depends(rate_limited)],
             summary="A stored conversation's messages, staff replies marked 工作人员已答复")
    def get_conversation(conversation_id: str,
                         secret: str | None = Header(None, alias=SECRET_HEADER, max_length=100)) -> dict:
        """Needs the conversation's secret in the ``X-Conversation-Secret`` header (404 without it)."""
        return asker(lambda: desk.conversation(conversation_id, secret).fields())

    @app.delete("/api/conversations/{conversation_id}", tags=["conversations"], dependencies=[Depends(rate_limited)],
                summary="Delete a stored conversation (its tickets stay with staff; no reply can reach it)")
    def delete_conversation(conversation_id: str,
                            secret: str | None = Header(None, alias=SECRET_HEADER, max_length=100)) -> dict:
        asker(lambda: desk.delete_conversation(conversation_id, secret))
        return {"conversation_id": conversation_id, "deleted": True}

    @app.post("/api/conversations/{conversation_id}/handoff", tags=["conversations"],
              dependencies=[Depends(rate_limited)], summary="Ask for a person about a turn (opens its ticket once)")
    def handoff(conversation_id: str, body: HandoffRequest) -> dict:
        ticket = asker(lambda: desk.hand_off(conversation_id, body.conversation_secret, body.turn, body.contact))
        return {"ticket_id": ticket.ticket_id, "turn": ticket.turn, "status": ticket.status,
                "message": render("handoff_opened")}

    @app.post("/api/conversations/{conversation_id}/feedback", tags=["conversations"],
              dependencies=[Depends(rate_limited)], summary="Rate a turn's answer; a thumbs-down opens its ticket")
    def feedback(conversation_id: str, body: RatingRequest) -> dict:
        outcome, ticket = asker(lambda: desk.rate(conversation_id, body.conversation_secret, body.turn, body.rating,
                                                  body.comment))
        return {"feedback": outcome, "ticket_id": ticket.ticket_id if ticket else None}

    @app.get("/api/tickets", tags=["staff"], dependencies=[Depends(staff)],
             summary="The ticket queue, oldest first, with the counts per status")
    def tickets(status: str | None = Query(None, description=f"one of {', '.join(STATUSES)}"),
                search: str = Query("", max_length=100)) -> dict:
        queue = asker(lambda: desk.tickets.queue(status, clean_input(search)))
        return {"counts": desk.tickets.counts(), "tickets": [t.fields() for t in queue]}

    @app.get("/api/tickets/{ticket_id}", tags=["staff"], dependencies=[Depends(staff)],
             summary="A ticket, its conversation and a draft reply")
    def ticket(ticket_id: RowId) -> dict:
        found, view = asker(lambda: desk.staff_view(ticket_id))
        return {"ticket": found.fields(), "conversation": view.fields(), "draft": desk.draft(found)}

    @app.post("/api/tickets/{ticket_id}/status", tags=["staff"], dependencies=[Depends(staff)],
              summary="Mark a ticket open or in progress")
    def status(ticket_id: RowId, body: StatusRequest) -> dict:
        return asker(lambda: desk.tickets.set_status(ticket_id, body.status)).fields()

    @app.put("/api/tickets/{ticket_id}/draft", tags=["staff"], dependencies=[Depends(staff)],
             summary="Keep staff's unsent text on the ticket")
    def draft(ticket_id: RowId, body: DraftRequest) -> dict:
        return asker(lambda: desk.tickets.save_draft(ticket_id, body.draft)).fields()

    @app.post("/api/tickets/{ticket_id}/reply", tags=["staff"], dependencies=[Depends(staff)],
              summary="Send the reply into the asker's conversation (once) and mark the ticket answered")
    def reply(ticket_id: RowId, body: ReplyRequest) -> dict:
        sent = asker(lambda: desk.reply(ticket_id, body.reply))
        return {"ticket": sent.ticket.fields(), "delivered": sent.delivered}

    @app.post("/api/tickets/{ticket_id}/publish", tags=["staff"], dependencies=[Depends(staff)],
              summary="Publish an answered ticket's reply as a 答疑库 entry (once a ticket)")
    def publish(ticket_id: RowId, body: PublishRequest) -> dict:
        entry, created = asker(lambda: desk.publish(ticket_id, body.question, body.answer, body.clause_ids))
        return {"entry": entry.fields(), "created": created}

    @app.get("/api/entries", tags=["staff"], dependencies=[Depends(staff)], summary="The 答疑库 entries")
    def entries() -> dict:
        return {"entries": [e.fields() for e in asker(desk.all_entries)]}

    @app.put("/api/entries/{entry_id}", tags=["staff"], dependencies=[Depends(staff)], summary="Edit a 答疑库 entry")
    def edit_entry(entry_id: RowId, body: EntryRequest) -> dict:
        return asker(lambda: desk.edit_entry(entry_id, body.question, body.answer, body.clause_ids)).fields()

    @app.post("/api/entries/{entry_id}/retire", tags=["staff"], dependencies=[Depends(staff)],
              summary="Retire a 答疑库 entry (never cited again), or publish it again")
    def retire_entry(entry_id: RowId, body: RetireRequest) -> dict:
        return asker(lambda: desk.retire_entry(entry_id, body.retired)).fields()
