"""What the HTTP API serves, with its collaborators passed in: answering (per generator), stored conversations,
readiness, and the background re-index behind the admin endpoints."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from assistant.chain import Assistant
from assistant.conversation import Conversation, Turn, is_follow_up
from assistant.generators import GENERATORS
from assistant.types import Answer
from core.errors import ConfigError, DatabaseUnavailableError, PolicyQAError, ServiceUnavailableError
from serve.answer_book import AnswerBook, Entry, entry_answer
from serve.desk import Desk
from serve.slots import AnswerSlots
from serve.store import ConversationStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Asked:
    """An answered message and where it sits: its conversation and its position in it (0: the first)."""

    answer: Answer
    conversation_id: str | None
    turn: int
    generator: str
    history_left_out: int = 0  # earlier messages of a client's history not replayed (over the limits)
    entry: Entry | None = None  # the 答疑库 entry it was answered from


class UnknownGenerator(ConfigError):
    """A request named a generator the registry does not have, or one clients may not choose."""


class ConversationNotFound(PolicyQAError):
    """No conversation with this id and secret: never started by this service, or started by another client."""


def bounded_history(history: list[str], max_turns: int, max_chars: int) -> list[str]:
    """The part of a client's history that is replayed: its last ``max_turns`` messages, fewer when they hold more
    than ``max_chars`` characters together (the latest kept first; one message alone is cut to the limit)."""
    kept: list[str] = []
    left = max_chars
    for message in reversed(history[-max_turns:] if max_turns else []):
        if left <= 0:
            break
        if len(message) > left:
            if kept:
                break
            message = message[-left:]
        kept.append(message)
        left -= len(message)
    return kept[::-1]


class Service:
    """Answers API questions from one knowledge base, with the settings' generator or another registered one."""

    def __init__(self, assistant: Assistant, conversations: ConversationStore, settings,
                 reindexer: Reindexer | None = None, desk: Desk | None = None, book: AnswerBook | None = None):
        self.assistant = assistant
        self.conversations = conversations
        self.desk = desk  # tickets: a stored conversation's refusals and "转人工" are handed to staff
        self.book = book  # the 答疑库: a question asked the same as a published entry is answered from it
        self.settings = settings
        self.reindexer = reindexer
        self._by_generator: dict[str, Assistant] = {settings.generator: assistant}
        self._lock = threading.Lock()
        # Answering is CPU work under one interpreter lock: a few questions at a time, the others waiting their turn,
        # keeps the slowest answers near the typical ones (dozens at once all slow down together). Heavy work — a
        # replayed history message, a long question — goes through a narrower lane that yields to plain questions.
        self._slots = AnswerSlots(settings.api_answer_concurrency, settings.api_heavy_concurrency,
                                  settings.api_heavy_interval_seconds)

    def choosable(self) -> list[str]:
        """The generators a client may ask for: the settings' own and ``api_generators``."""
        names = [self.settings.generator, *self.settings.api_generators]
        return [name for name in dict.fromkeys(names) if name in GENERATORS]

    def answerer(self, generator: str | None) -> Assistant:
        """The assistant for a generator name (the settings' one when None); UnknownGenerator for another name."""
        name = generator or self.settings.generator
        if name not in self.choosable():
            raise UnknownGenerator(f"unknown generator {name!r}; choose one of: {', '.join(self.choosable())}")
        with self._lock:
            if name not in self._by_generator:  # shares the knowledge base: only the writing differs
                settings = self.settings.model_copy(update={"generator": name})
                self._by_generator[name] = Assistant(self.assistant.kb, settings, vocabulary=self.assistant.vocabulary)
            return self._by_generator[name]

    def ask(self, question: str, conversation_id: str | None = None, history: list[str] | None = None,
            region: str | None = None, generator: str | None = None, conversation_secret: str | None = None,
            contact: str = "") -> Asked:
        """Answer a message: in a stored conversation (``conversation_id`` with the secret it was started with:
        loaded, then the turn appended), or after a history of earlier user messages the client keeps (its latest
        ones within the settings' limits asked again, in order, in a fresh conversation). In a stored conversation
        the answer's text is kept, and a refusal, a "not sure" or the asker's "转人工" (``contact``: how to reach
        them, optional) opens a ticket for staff."""
        assistant = self.answerer(generator)
        name = generator or self.settings.generator
        if conversation_id is not None:
            if not self.conversations.opens(conversation_id, conversation_secret):
                raise ConversationNotFound("no such conversation (a conversation is continued with the "
                                           "conversation_secret it was started with)")
            conversation = self.conversations.load(conversation_id, assistant.kb.by_id)
            position = len(conversation.turns)
            if self.desk is not None and self.desk.wants_person(question):  # "转人工": no policy answer, a ticket
                answer, _ = self.desk.person_asked(conversation, question, contact)
                if self.conversations.append(conversation, position):
                    self.desk.after_answer(conversation_id, position, answer)
                return Asked(answer, conversation_id, position, name)
            answer, entry = self.from_book(question, conversation)
            if answer is None:
                answer = self._one(assistant, question, conversation, region, heavy=self._long(question))
            if self.conversations.append(conversation, position) and self.desk is not None:
                self.desk.after_answer(conversation_id, position, answer, contact)
            return Asked(answer, conversation_id, position, name, entry=entry)
        history = history or []
        replayed = bounded_history(history, self.settings.max_history_turns, self.settings.max_history_chars)
        deadline = time.monotonic() + self.settings.max_answer_seconds
        conversation = Conversation()
        asked = 0
        for earlier in replayed:
            if time.monotonic() > deadline:
                log.warning("history replay stopped after %d of %d messages: over %.0f s", asked, len(replayed),
                            self.settings.max_answer_seconds)
                break
            self._one(assistant, earlier, conversation, region, heavy=True)
            asked += 1
        answer, entry = self.from_book(question, conversation)
        if answer is None:
            answer = self._one(assistant, question, conversation, region, heavy=self._long(question))
        return Asked(answer, None, len(conversation.turns) - 1, name, history_left_out=len(history) - asked,
                     entry=entry)

    def from_book(self, question: str, conversation: Conversation) -> tuple[Answer | None, Entry | None]:
        """The answer from the 答疑库 entry that asks the same (appended to the conversation), or (None, None).
        A follow-up is not matched: it asks something only with what it follows."""
        if self.book is None or (conversation.turns and is_follow_up(question)):
            return None, None
        try:
            match = self.book.match(question[: self.settings.max_question_chars])
        except DatabaseUnavailableError as exc:  # the documents can still answer
            log.warning("答疑库 not searched: %s", exc)
            return None, None
        if match is None:
            return None, None
        answer = entry_answer(question, match, self.assistant.kb.by_id, self.settings.current_date())
        conversation.turns.append(Turn(question, question, answer))
        log.info("answered from 答疑库 entry %d (similarity %.3f)", match.entry.entry_id, match.similarity)
        return answer, match.entry

    def _long(self, question: str) -> bool:
        return len(question) > self.settings.api_long_question_chars

    def _one(self, assistant: Assistant, question: str, conversation: Conversation, region: str | None,
             heavy: bool = False) -> Answer:
        # One answer at a time per slot: a request replaying a history takes a slot per message, so other
        # clients' questions get their turn between its messages instead of waiting for all of them.
        with self._slots.slot(heavy):
            return assistant.ask(question, conversation, region=region)

    def start_conversation(self) -> tuple[str, str]:
        """A new stored conversation: its id and the secret that continues it."""
        return self.conversations.start()

    def readiness(self) -> dict:
        """Whether the index is loaded and its vectors answer a query; raises ServiceUnavailableError when not."""
        kb = self.assistant.kb
        try:
            kb.reload()
            snapshot = kb.snapshot
            count = snapshot.vectors.count(snapshot.generation.number)
            self.conversations.writable()  # a question in a stored conversation must be able to store its turn
        except ServiceUnavailableError:
            raise
        except PolicyQAError as exc:
            raise ServiceUnavailableError(str(exc)) from exc
        return {"generation": snapshot.generation.number, "documents": len(snapshot.docs), "vectors": count}


class Reindexer:
    """Builds the index in a background thread, one build at a time; a request made during a build runs one more
    build after it (the corpus may have changed since that build read it). Questions never wait for it."""

    def __init__(self, build: Callable[[], str], after: Callable[[], None]):
        self._build = build
        self._after = after
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._again = False
        self.last_result = ""
        self.last_error = ""
        self.builds = 0

    def request(self) -> str:
        """Start a build, or queue one after the running build; returns "started" or "queued"."""
        with self._lock:
            if self._thread is not None:
                self._again = True
                return "queued"
            self._thread = threading.Thread(target=self._run, name="reindex", daemon=True)
            self._thread.start()
            return "started"

    @property
    def running(self) -> bool:
        """Whether a build is under way or queued."""
        return self._thread is not None

    def wait(self, timeout: float = 600.0) -> None:
        """Block until no build is running or queued (tests, shutdown), at most ``timeout`` seconds a build."""
        while True:
            thread = self._thread
            if thread is None:
                return
            thread.join(timeout)
            if thread.is_alive():
                return

    def _run(self) -> None:
        while True:
            try:
                self.last_result = self._build()
                self.last_error = ""
                self._after()
            except PolicyQAError as exc:
                log.warning("re-index failed: %s", exc)
                self.last_error = str(exc)
            except Exception as exc:
                log.exception("re-index failed")
                self.last_error = f"{exc.__class__.__name__}: {exc}"
            self.builds += 1
            with self._lock:
                if not self._again:
                    self._thread = None
                    return
                self._again = False

    def status(self) -> dict:
        """For the documents listing."""
        return {"running": self.running, "builds": self.builds, "last_result": self.last_result,
                "last_error": self.last_error}
