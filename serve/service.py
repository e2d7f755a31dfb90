"""What the HTTP API serves, with its collaborators passed in: answering (per generator), stored conversations,
readiness, and the background re-index behind the admin endpoints."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from assistant.chain import Assistant
from assistant.conversation import Conversation
from assistant.generators import GENERATORS
from assistant.types import Answer
from core.errors import ConfigError, PolicyQAError, ServiceUnavailableError
from serve.store import ConversationStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Asked:
    """An answered message and where it sits: its conversation and its position in it (0: the first)."""

    answer: Answer
    conversation_id: str | None
    turn: int
    generator: str


class UnknownGenerator(ConfigError):
    """A request named a generator the registry does not have."""


class Service:
    """Answers API questions from one knowledge base, with the settings' generator or another registered one."""

    def __init__(self, assistant: Assistant, conversations: ConversationStore, settings,
                 reindexer: Reindexer | None = None):
        self.assistant = assistant
        self.conversations = conversations
        self.settings = settings
        self.reindexer = reindexer
        self._by_generator: dict[str, Assistant] = {settings.generator: assistant}
        self._lock = threading.Lock()
        # Answering is CPU work under one interpreter lock: a few questions at a time, the others waiting their turn,
        # keeps the slowest answers near the typical ones (dozens at once all slow down together).
        self._answering = threading.BoundedSemaphore(settings.api_answer_concurrency)

    def answerer(self, generator: str | None) -> Assistant:
        """The assistant for a generator name (the settings' one when None); UnknownGenerator for another name."""
        name = generator or self.settings.generator
        if name not in GENERATORS:
            raise UnknownGenerator(f"unknown generator {name!r}; choose one of: {', '.join(GENERATORS)}")
        with self._lock:
            if name not in self._by_generator:  # shares the knowledge base: only the writing differs
                settings = self.settings.model_copy(update={"generator": name})
                self._by_generator[name] = Assistant(self.assistant.kb, settings, vocabulary=self.assistant.vocabulary)
            return self._by_generator[name]

    def ask(self, question: str, conversation_id: str | None = None, history: list[str] | None = None,
            region: str | None = None, generator: str | None = None) -> Asked:
        """Answer a message: in a stored conversation (``conversation_id``: loaded, then the turn appended), or after
        a history of earlier user messages the client keeps (asked again, in order, in a fresh conversation)."""
        assistant = self.answerer(generator)
        with self._answering:
            return self._ask(assistant, generator or self.settings.generator, question, conversation_id, history, region)

    def _ask(self, assistant: Assistant, name: str, question: str, conversation_id: str | None,
             history: list[str] | None, region: str | None) -> Asked:
        if conversation_id is not None:
            conversation = self.conversations.load(conversation_id, assistant.kb.by_id)
            position = len(conversation.turns)
            answer = assistant.ask(question, conversation, region=region)
            self.conversations.append(conversation, position)
            return Asked(answer, conversation_id, position, name)
        conversation = Conversation()
        for earlier in history or []:
            assistant.ask(earlier, conversation, region=region)
        answer = assistant.ask(question, conversation, region=region)
        return Asked(answer, None, len(conversation.turns) - 1, name)

    def new_conversation_id(self) -> str:
        """An id for a conversation the client did not name."""
        return uuid.uuid4().hex

    def readiness(self) -> dict:
        """Whether the index is loaded and its vectors answer a query; raises ServiceUnavailableError when not."""
        kb = self.assistant.kb
        try:
            kb.reload()
            snapshot = kb.snapshot
            count = snapshot.vectors.count(snapshot.generation.number)
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
