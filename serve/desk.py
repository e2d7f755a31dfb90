"""The 在线答疑 desk's service: what hands a conversation turn to staff (a refusal, a "not sure", a thumbs-down, the
asker's "转人工"), what staff see of a ticket (its conversation, a draft), and the reply sent back into the asker's
conversation (and announced to a portal's webhook). The API and the staff page call it; nothing here renders HTML."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from assistant.conversation import Conversation, Turn
from assistant.types import Answer, Part
from core.errors import PolicyQAError, ServiceUnavailableError
from core.prompts import render
from serve.answer_book import Entry, EntryStore, InvalidEntry
from serve.feedback import FeedbackStore
from serve.handoff import asks_for_person, closest_clause_ids, handoff_reason
from serve.store import ConversationStore, Message
from serve.tickets import Sent, Ticket, TicketStore
from serve.webhook import post_json

log = logging.getLogger(__name__)
# The 答疑库's answer to a question in a conversation (appended to it), with its entry; (None, None) when no entry
# asks the same.
FromBook = Callable[[str, Conversation], tuple[Answer | None, Entry | None]]


_PATH_GOES_ON = r"(?![0-9０-９一二三四五六七八九十（(、.．第条款项])"

class NoSuchConversation(PolicyQAError):
    """No conversation with this id and secret (never started, deleted, or another client's)."""


class NoSuchTurn(PolicyQAError):
    """The conversation has no such turn."""


def local_time(stamp: str, timezone: str) -> str:
    """A stored UTC timestamp as the desk shows it: local date and minute ("2026-12-03 23:59")."""
    if not stamp:
        return ""
    return dt.datetime.fromisoformat(stamp).astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def local_date(stamp: str, timezone: str) -> str:
    """A stored UTC timestamp's local date as a reply states it ("2026年12月3日")."""
    day = dt.datetime.fromisoformat(stamp).astimezone(ZoneInfo(timezone)).date()
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass(frozen=True)
class ConversationView:
    """A stored conversation as its asker sees it on return: every message in order, staff replies marked."""

    conversation_id: str
    messages: tuple[Message, ...]
    timezone: str

    @property
    def replied(self) -> bool:
        """Whether staff have replied to any of its turns."""
        return any(m.role == "staff" for m in self.messages)

    def fields(self) -> dict:
        """JSON-ready: each message with its local time, a staff reply with its label "工作人员已答复（unit，date）"."""
        out = []
        for message in self.messages:
            item = {**message.fields(), "local_time": local_time(message.created_at, self.timezone)}
            if message.role == "staff":
                item["label"] = self.staff_label(message)
            out.append(item)
        return {"conversation_id": self.conversation_id, "replied": self.replied, "messages": out}

    def staff_label(self, message: Message) -> str:
        """The line a staff reply is shown under."""
        return f"工作人员已答复（{message.unit}，{local_date(message.created_at, self.timezone)}）"

    def staff_text(self, message: Message) -> str:
        """A staff reply as one text: its label and the reply (``prompts/staff_replied.txt``)."""
        return render("staff_replied", unit=message.unit, date=local_date(message.created_at, self.timezone),
                      reply=message.text)


class Desk:
    """Tickets and replies, with their collaborators passed in: the stores, the settings, the drafter (an answer →
    a reply text) and how a webhook is called."""

    def __init__(self, conversations: ConversationStore, tickets: TicketStore, feedback: FeedbackStore, settings,
                 drafter: Callable[[str], str] | None = None,
                 notify: Callable[[str, dict, float], bool] = post_json,
                 entries: EntryStore | None = None, clauses: Callable[[], dict] | None = None):
        self.conversations = conversations
        self.tickets = tickets
        self.feedback = feedback
        self.settings = settings
        self.drafter = drafter
        self.notify = notify
        self.entries = entries  # the 答疑库
        self.clauses = clauses or dict  # clause id → clause, of the current index generation

    # The asker's side ---------------------------------------------------------------------------------------

    def after_answer(self, conversation_id: str, turn: int, answer: Answer, contact: str = "") -> Ticket | None:
        """Keep an answered turn's text in the conversation; a refusal or a "not sure" opens its ticket (with the
        asker's contact, when they left one)."""
        clause_ids = closest_clause_ids(answer)
        self.conversations.record_answer(conversation_id, turn, answer, clause_ids)
        reason = handoff_reason(answer)
        if reason is None:
            return None
        ticket, _ = self.tickets.open(conversation_id, turn, reason, answer.question, answer.text, clause_ids,
                                      contact)
        return ticket

    def wants_person(self, message: str) -> bool:
        """Whether a message asks for a person rather than a policy answer (``serve/rules/handoff.yaml``)."""
        return asks_for_person(message)

    def person_asked(self, conversation: Conversation, message: str, contact: str = "") -> tuple[Answer, Ticket]:
        """The asker typed "转人工": the turn it follows (or, first thing in a conversation, this one) is handed to
        staff. Returns the answer the asker sees (appended to the conversation, which the caller stores: it keeps
        the question it follows for the next follow-up) and the ticket."""
        answer = self.handoff_answer(conversation, message)
        return answer, self.hand_over_last(conversation, message, contact)

    def handoff_answer(self, conversation: Conversation, message: str) -> Answer:
        """What the asker sees after "转人工", appended to the conversation as its turn (keeping the question it
        follows as the one a next follow-up follows)."""
        previous = conversation.turns[-1] if conversation.turns else None
        answer = Answer(message, True, (Part(render("handoff_opened")),), reason="handoff",
                        resolved_question=previous.resolved if previous else message,
                        today=self.settings.current_date())
        conversation.turns.append(Turn(message, answer.resolved_question, answer))
        return answer

    def hand_over_last(self, conversation: Conversation, message: str, contact: str = "") -> Ticket:
        """After ``handoff_answer``: the ticket of the turn the "转人工" follows (or of the "转人工" itself, first
        thing in a conversation)."""
        position = len(conversation.turns) - 1
        if position == 0:
            ticket, _ = self.tickets.open(conversation.id, position, "asked_for_person", message, "", [], contact)
            return ticket
        return self._hand_over(conversation.id, position - 1, "asked_for_person", contact)

    def hand_off(self, conversation_id: str, secret: str | None, turn: int | None = None, contact: str = "") -> Ticket:
        """The asker asks for a person about a turn (default: the latest), optionally leaving a contact."""
        self._opened(conversation_id, secret)
        return self._hand_over(conversation_id, turn, "asked_for_person", contact)

    def rate(self, conversation_id: str, secret: str | None, turn: int, rating: int,
             comment: str = "") -> tuple[str, Ticket | None]:
        """Feedback on a turn's answer (stored like the page's); a thumbs-down opens the turn's ticket."""
        self._opened(conversation_id, secret)
        question, answer = self._turn(conversation_id, turn)
        outcome = self.feedback.record(f"{conversation_id}:{turn}", conversation_id, question.text,
                                       answer.text if answer else "", list(answer.clause_ids) if answer else [],
                                       rating, comment)
        ticket = self._hand_over(conversation_id, turn, "thumbs_down") if rating < 0 else None
        return outcome, ticket

    def rated_on_page(self, conversation_id: str, question: str, rating: int) -> Ticket | None:
        """A thumbs-down given on the chat page: opens the ticket of the conversation's latest turn that asked this
        question (None for a thumbs-up, or a conversation the store does not hold: the page kept it in the session
        only, e.g. with the database down)."""
        if rating >= 0:
            return None
        turn = next((m.turn for m in reversed(self.conversations.messages(conversation_id))
                     if m.role == "user" and m.text == question), None)
        if turn is None:
            log.warning("thumbs-down on conversation %s: no stored turn asked it, no ticket", conversation_id)
            return None
        return self._hand_over(conversation_id, turn, "thumbs_down")

    def page_messages(self, conversation_id: str, secret: str) -> list[tuple[str, str]]:
        """A stored conversation's messages as the chat page shows them again after a reload: (role, text), a staff
        reply's text opening with "工作人员已答复（unit，date）"."""
        view = self.conversation(conversation_id, secret)
        return [(m.role, view.staff_text(m) if m.role == "staff" else m.text) for m in view.messages]

    def conversation(self, conversation_id: str, secret: str | None) -> ConversationView:
        """The stored conversation for its asker (the public page calls this on reload, the API on ``GET``): every
        message, staff replies marked. NoSuchConversation without the right secret."""
        self._opened(conversation_id, secret)
        return ConversationView(conversation_id, tuple(self.conversations.messages(conversation_id)),
                                self.settings.timezone)

    def delete_conversation(self, conversation_id: str, secret: str | None) -> None:
        """The asker deletes their conversation (its tickets stay for staff; a reply can no longer be sent)."""
        self._opened(conversation_id, secret)
        self.conversations.delete(conversation_id)

    # The staff side ------------------------------------------------------------------------------------------

    def staff_view(self, ticket_id: int) -> tuple[Ticket, ConversationView]:
        """A ticket and its whole conversation (empty when the asker deleted it)."""
        ticket = self.tickets.get(ticket_id)
        messages = tuple(self.conversations.messages(ticket.conversation_id))
        return ticket, ConversationView(ticket.conversation_id, messages, self.settings.timezone)

    def draft(self, ticket: Ticket) -> str:
        """The reply staff start from: the text saved on the ticket, else the drafter's for its question."""
        if ticket.draft:
            return ticket.draft
        if self.drafter is None:
            return ""
        return self.drafter(ticket.question)

    def reply(self, ticket_id: int, text: str) -> Sent:
        """Send staff's reply into the asker's conversation (once: a second send delivers nothing) and announce it
        to the webhook when one is set; the webhook failing is logged, the reply stays sent."""
        sent = self.tickets.send(ticket_id, text, self.settings.reply_unit)
        if sent.delivered and self.settings.reply_webhook:
            ticket = sent.ticket
            payload = {"event": "reply_sent", "ticket_id": ticket.ticket_id, "conversation_id": ticket.conversation_id,
                       "turn": ticket.turn, "question": ticket.question, "reply": ticket.reply, "unit": ticket.unit,
                       "replied_at": ticket.replied_at, "contact": ticket.contact}
            if not self.notify(self.settings.reply_webhook, payload, self.settings.reply_webhook_timeout_seconds):
                log.warning("ticket %d: the reply is sent, the webhook was not told", ticket.ticket_id)
        return sent

    # The 答疑库 ---------------------------------------------------------------------------------------------------

    def publish(self, ticket_id: int, question: str | None = None, answer: str | None = None,
                clause_ids: list[str] | None = None) -> tuple[Entry, bool]:
        """Publish an answered ticket's reply as a 答疑库 entry: its question, its reply and, unless given otherwise,
        the clauses the reply names (its 政策依据 list as staff sent it: the clauses it rests on, not the assistant's
        closest ones); a ticket published before gives its entry back. Returns the entry and whether it is new."""
        ticket = self.tickets.get(ticket_id)
        if ticket.status != "answered":
            raise InvalidEntry(f"ticket {ticket_id} has no reply sent yet: send it before publishing it")
        answer = answer or ticket.reply
        clause_ids = self._known(self.named_clauses(answer) if clause_ids is None else clause_ids)
        return self._entries().add(question or ticket.question, answer, clause_ids,
                                   ticket.unit or self.settings.reply_unit, self.settings.current_date(), ticket_id)

    def edit_entry(self, entry_id: int, question: str, answer: str, clause_ids: list[str] | None = None) -> Entry:
        """Change a 答疑库 entry."""
        return self._entries().edit(entry_id, question, answer, None if clause_ids is None else self._known(clause_ids))

    def entry(self, entry_id: int) -> Entry:
        """A 答疑库 entry by id."""
        return self._entries().get(entry_id)

    def all_entries(self) -> list[Entry]:
        """Every 答疑库 entry, retired ones too, oldest first."""
        return self._entries().all()

    def retire_entry(self, entry_id: int, retired: bool = True) -> Entry:
        """Retire a 答疑库 entry (never answered from again), or bring it back."""
        return self._entries().retire(entry_id, retired)

    def _entries(self) -> EntryStore:
        if self.entries is None:
            raise InvalidEntry("the 答疑库 is not set up in this app")
        return self.entries

    def named_clauses(self, text: str) -> list[str]:
        """The clauses a reply names by their reference (《title》（文号）path, as its 政策依据 lists them), in the
        order it names them."""
        found = []
        for clause_id, clause in self.clauses().items():
            # "…二、（二）" is not named by "…二、（二）9": the path must end where the reference ends.
            named = clause.reference in text and re.search(re.escape(clause.reference) + _PATH_GOES_ON, text)
            if named:
                found.append((named.start(), clause_id))
        return [clause_id for _, clause_id in sorted(found)]

    def _known(self, clause_ids) -> list[str]:
        known = self.clauses()
        unknown = [c for c in clause_ids if c not in known]
        if unknown:
            raise InvalidEntry(f"no such clause in the knowledge base: {', '.join(unknown[:5])}")
        return list(clause_ids)

    # ----------------------------------------------------------------------------------------------------------

    def _opened(self, conversation_id: str, secret: str | None) -> None:
        if not self.conversations.opens(conversation_id, secret):
            raise NoSuchConversation("no such conversation (it is opened with the conversation_secret it was "
                                     "started with)")

    def _turn(self, conversation_id: str, turn: int | None) -> tuple[Message, Message | None]:
        """A turn's question and its stored answer (None for a turn stored by an older version)."""
        messages = self.conversations.messages(conversation_id)
        turns = [m.turn for m in messages if m.role == "user"]
        if not turns:
            raise NoSuchTurn("the conversation has no message yet")
        turn = turns[-1] if turn is None else turn
        question = next((m for m in messages if m.role == "user" and m.turn == turn), None)
        if question is None:
            raise NoSuchTurn(f"the conversation has no turn {turn} (its turns: 0–{turns[-1]})")
        answer = next((m for m in messages if m.role == "assistant" and m.turn == turn), None)
        return question, answer

    def _hand_over(self, conversation_id: str, turn: int | None, reason: str, contact: str = "") -> Ticket:
        question, answer = self._turn(conversation_id, turn)
        ticket, _ = self.tickets.open(conversation_id, question.turn, reason, question.text,
                                      answer.text if answer else "", list(answer.clause_ids) if answer else [],
                                      contact)
        return ticket


class PageConversations(ConversationStore):
    """The conversation store as the chat page uses it: each stored turn is also told to the desk (its answer's text
    kept, a refusal or a "not sure" handed to staff), as the API's turns are by ``Service.ask``."""

    def __init__(self, engine, desk: Desk):
        super().__init__(engine)
        self.desk = desk

    def append(self, conversation: Conversation, position: int) -> bool:
        """Store the turn (``ConversationStore.append``), then tell the desk."""
        stored = super().append(conversation, position)
        answer = conversation.turns[-1].answer
        if stored and answer is not None:
            self.desk.after_answer(conversation.id, position, answer)
        return stored


class PageFeedback(FeedbackStore):
    """The feedback store as the chat page uses it: a thumbs-down also hands the rated turn to staff."""

    def __init__(self, engine, desk: Desk):
        super().__init__(engine)
        self.desk = desk

    def record(self, answer_id: str, conversation_id: str, question: str, answer: str, clause_ids: list[str],
               rating: int, comment: str = "") -> str:
        """Store the feedback (``FeedbackStore.record``); a thumbs-down opens the turn's ticket."""
        outcome = super().record(answer_id, conversation_id, question, answer, clause_ids, rating, comment)
        if rating < 0:
            self.desk.rated_on_page(conversation_id, question, rating)
        return outcome


class PageAssistant:
    """The assistant as the chat page asks it: a message asking for a person ("转人工") hands the conversation's
    previous turn to staff instead of being answered from the documents; a question asking the same as a published
    答疑库 entry is answered from it (``from_book``, the API's ``Service.from_book``); everything else is the
    assistant's."""

    def __init__(self, assistant, desk: Desk, from_book: FromBook | None = None):
        self._assistant = assistant
        self.desk = desk
        self.from_book = from_book

    def __getattr__(self, name: str):
        return getattr(self._assistant, name)  # kb, refresh, settings …: the page reads them as the assistant's

    def ask(self, question: str, conversation: Conversation | None = None, **options) -> Answer:
        """Answer a message (``Assistant.ask``), or hand the conversation over when it asks for a person."""
        if conversation is None or not self.desk.wants_person(question):
            if conversation is not None and self.from_book is not None:
                answer, _ = self.from_book(question, conversation)
                if answer is not None:
                    return answer
            return self._assistant.ask(question, conversation, **options)
        answer = self.desk.handoff_answer(conversation, question)
        try:
            self.desk.hand_over_last(conversation, question)
        except (NoSuchTurn, ServiceUnavailableError) as exc:  # kept in the session only, or the database is down
            log.warning("conversation %s not handed over: %s", conversation.id, exc)
        return answer
