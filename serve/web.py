"""The public chat page (Gradio): SME owners ask, each answer keeps its own sources, a welcome states what the
knowledge base covers, answers can be regenerated and rated with a reason, and the conversation survives a reload.
No staff or admin element is on it: the helpdesk draft and the admin handlers (``Page.draft``, ``login``,
``feedback_rows``, ``document_rows``, ``reindex``) are kept for the staff page, which mounts them elsewhere.
Everything shown comes from ``assistant``; this module only lays it out and wires the events."""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from assistant.chain import Assistant
from assistant.conversation import Conversation
from assistant.generators import LLM_GENERATORS
from assistant.generators.llm import streaming_to
from assistant.types import STATUS_LABELS, Answer
from core.errors import DatabaseUnavailableError, PolicyQAError
from core.prompts import render
from serve.clients import ClientIdentity
from serve.feedback import FeedbackStore
from serve.presenter import (
    PAGE_CSS,
    answer_message,
    chat_message,
    helpdesk_draft,
    literal_markdown,
    printable,
    restored_message,
    sources_panel,
    stream_chunks,
    user_message,
    welcome,
)
from serve.ratelimit import RateLimiter
from serve.throttle import TokenGate

log = logging.getLogger(__name__)
ALL_REGIONS = "全部地区"
# Why an answer was rated, offered after the thumb (the reason is optional).
LIKE_REASONS = ("回答准确", "出处清楚", "简洁易懂")
DISLIKE_REASONS = ("没有回答我的问题", "信息不完整", "引用的条款不对", "政策已过期或不适用", "看不懂")
# Where the browser keeps the conversation's id and secret (localStorage, via gr.BrowserState). The encryption key
# is served in the page's configuration, so it guards nothing: a fixed key only keeps a stored value readable after
# a restart and by every copy of the app; the conversation secret is what keeps a conversation its starter's.
BROWSER_STORAGE_KEY = "policyqa-conversation"
BROWSER_STORAGE_CODE = "policyqa-page-v1"
# A stored conversation's messages as (role, text), role "user", "assistant" or "staff"; given the id and secret.
StoredMessages = Callable[[str, str], list[tuple[str, str]]]


def example_questions() -> list[str]:
    """The example questions offered on the welcome (``prompts/example_questions.txt``, one a line)."""
    return [line.strip() for line in render("example_questions").splitlines() if line.strip()]


@dataclass
class Rated:
    """An answer shown in the chat, as it can be rated: its id for the feedback store and the answer itself."""

    answer_id: str
    answer: Answer


@dataclass
class Session:
    """One browser session's conversation and the answers shown in it (never shared between sessions).
    ``secret``: the stored conversation's secret (empty when the conversation is not stored); ``stored_turns``:
    how many of its turns the store holds."""

    conversation: Conversation = field(default_factory=Conversation)
    secret: str = ""
    stored_turns: int = 0
    admin: bool = False
    by_message: dict[int, Rated] = field(default_factory=dict)  # chat message index → the answer shown there
    rated: Rated | None = None  # the answer the feedback dialog is about
    rating: int = 0
    last_question: str = ""  # the latest message as asked (what regenerate asks again)

    def saved(self) -> dict:
        """What the browser keeps to continue this conversation after a reload (empty: nothing to keep; an empty
        value, not None, because gradio leaves the browser's value as it was for None)."""
        if not self.secret:
            return {}
        return {"conversation_id": self.conversation.id, "conversation_secret": self.secret}


class Page:
    """The handlers behind the page, with their collaborators passed in."""

    def __init__(self, assistant: Assistant, feedback: FeedbackStore, settings, reindex=None, stream_delay: float = 0.02,
                 gate: TokenGate | None = None, limiter: RateLimiter | None = None,
                 identity: ClientIdentity | None = None, conversations=None,
                 stored_messages: StoredMessages | None = None):
        self.assistant = assistant
        # The service's ConversationStore: a page conversation is stored like an API one (a server-issued id and
        # secret, kept by the browser), so it survives a reload. None: conversations live in the session only.
        self.conversations = conversations
        # A stored conversation's messages (answers and staff replies), shown again after a reload; None: only the
        # conversation itself is restored (follow-ups continue it) and a line says so.
        self.stored_messages = stored_messages
        self.feedback = feedback
        self.settings = settings
        self.reindex_fn = reindex
        self.stream_delay = stream_delay
        self.gate = gate or TokenGate(settings.login_guesses_per_minute)  # token guesses: shared with the API
        # The page's questions count against the same allowance as the API's (its Gradio API is callable directly).
        self._limiter = limiter
        self._identity = identity
        self._reindexing = threading.Lock()  # one re-index at a time; questions never wait for it

    def warm_up(self) -> None:
        """Load the models and indexes before the first visitor, so the first answer is as fast as the rest."""
        self._ask("专精特新企业有哪些支持政策?", Conversation(), None)

    def _ask(self, question: str, conversation: Conversation, region: str | None) -> Answer:
        # No lock: each question holds the index snapshot it started with (see Assistant.pinned).
        return self.assistant.ask(question, conversation, region=region)

    def _ask_streaming(self, question: str, conversation: Conversation, region: str | None):
        """Ask in a worker thread with the LLM's tokens streamed: yields the text written so far as it grows, then
        the finished, guarded Answer (which may differ: the guard may remove keys or swap in the extractive
        answer)."""
        tokens: queue.Queue[str | None] = queue.Queue()
        outcome: dict = {}

        def work() -> None:
            try:
                with streaming_to(tokens.put):
                    outcome["answer"] = self._ask(question, conversation, region)
            except Exception as exc:  # noqa: BLE001 — handed to the page's handler, which shows a plain message
                outcome["error"] = exc
            finally:
                tokens.put(None)

        threading.Thread(target=work, name="answer-stream", daemon=True).start()
        written = ""
        while (token := tokens.get()) is not None:
            written += token
            yield written
        if "error" in outcome:
            raise outcome["error"]
        yield outcome["answer"]

    def regions(self) -> list[str]:
        """Choices of the region filter."""
        return [ALL_REGIONS] + [name for name, _ in self.assistant.kb.regions.regions()]

    @property
    def limiter(self) -> RateLimiter:
        """The allowance the page's questions count against (the API's, when the factory passes it)."""
        if self._limiter is None:
            self._limiter = RateLimiter(self.settings.api_requests_per_minute)
        return self._limiter

    @property
    def identity(self) -> ClientIdentity:
        """Who a request comes from (the API's reading, when the factory passes it)."""
        if self._identity is None:
            self._identity = ClientIdentity.from_settings(self.settings)
        return self._identity

    def client(self, request) -> str:
        """Who a page request comes from (``serve.clients``): a configured API key, else the address."""
        client = getattr(request, "client", None)
        headers = getattr(request, "headers", None) or {}
        return self.identity.key(getattr(client, "host", None), headers)

    def _over_limit(self, client: str | None) -> str:
        """The message for a client over its allowance ("" when it may ask)."""
        wait = self.limiter.take(client or "address:unknown")
        return render("rate_limited", seconds=max(1, math.ceil(wait))) if wait > 0 else ""

    def welcome(self) -> str:
        """What the knowledge base covers, from the index as it is now (a re-index shows on the next page load)."""
        return welcome(list(self.assistant.kb.docs), self.settings.current_date())

    def examples(self) -> list[str]:
        """The example questions the knowledge base can take: one naming a place no indexed document covers is left
        out (after a re-index that dropped the place's documents, it would only be declined)."""
        regions = self.assistant.kb.regions
        return [question for question in example_questions() if not regions.match(question).uncovered]

    def on_load(self, saved: dict | None):
        """A page load: the welcome and the examples from the live index, the region choices, and the conversation
        the browser kept (see ``restore``); returns (welcome, examples, regions, chat, session, status)."""
        history, session, status = self.restore(saved)
        return self.welcome(), self.examples(), self.regions(), history, session, status

    def restore(self, saved: dict | None) -> tuple[list, Session, str]:
        """The conversation the browser kept (its id and secret), continued after a reload: the stored turns become the
        conversation's history, so a follow-up follows them. Its messages are shown again when ``stored_messages``
        is given; otherwise a line says the conversation goes on. (history, session, status)."""
        saved = saved if isinstance(saved, dict) else {}  # what a browser sends back may be anything
        conversation_id, secret = saved.get("conversation_id"), saved.get("conversation_secret")
        if self.conversations is None or not isinstance(conversation_id, str) or not isinstance(secret, str):
            return [], Session(), ""
        try:
            if not self.conversations.opens(conversation_id, secret):
                return [], Session(), ""  # not this server's, or its secret is wrong: a new conversation
            conversation = self.conversations.load(conversation_id, self.assistant.kb.by_id)
            messages = self.stored_messages(conversation_id, secret) if self.stored_messages else []
        except DatabaseUnavailableError as exc:
            log.warning("the kept conversation could not be restored: %s", exc)
            return [], Session(), ""
        session = Session(conversation=conversation, secret=secret, stored_turns=len(conversation.turns))
        history = [restored_message(role, text) for role, text in messages]
        if history or not conversation.turns:
            return history, session, ""
        last = conversation.turns[-1].question
        last = literal_markdown(printable(last if len(last) <= 30 else last[:30] + "…"))  # the status is Markdown
        return history, session, render("conversation_restored", turns=len(conversation.turns), last=last)

    def respond(self, message: str, history: list, session: Session | None, region: str, client: str | None = None):
        """Answer a chat message, showing the answer progressively; yields (textbox, chat, session, status). The final
        message carries the answer's own sources (``presenter.answer_message``)."""
        session = session or Session()
        history = list(history or [])
        message = printable(message or "")[: self.settings.max_question_chars * 2]  # the chain cuts it, with a notice
        if not message.strip():
            yield "", history, session, "请输入您想咨询的问题。"
            return
        if refused := self._over_limit(client):
            yield message, history, session, refused
            return
        history.append({"role": "user", "content": user_message(message)})
        history.append({"role": "assistant", "content": "…"})
        session.last_question = message
        yield "", history, session, ""
        self._start_stored(session)
        try:
            region = None if region in (None, ALL_REGIONS) else region
            answer = None
            if self.settings.generator in LLM_GENERATORS:  # the LLM's words as they come; checked when done
                for item in self._ask_streaming(message, session.conversation, region):
                    if isinstance(item, Answer):
                        answer = item
                    else:
                        history[-1] = {"role": "assistant", "content": item + " …（核对中）"}
                        yield "", history, session, ""
            else:
                answer = self._ask(message, session.conversation, region)
        except Exception:
            log.exception("answering failed")
            history[-1] = {"role": "assistant", "content": "⚠️ " + render("unavailable")}  # as the API says it
            yield "", history, session, ""
            return
        self._store_turn(session)
        shown = Rated(uuid.uuid4().hex, answer)
        session.by_message[len(history) - 1] = shown
        for partial in stream_chunks(chat_message(answer)):
            history[-1] = {"role": "assistant", "content": partial}
            yield "", history, session, ""
            time.sleep(self.stream_delay)
        history[-1] = {"role": "assistant", "content": answer_message(answer, "a" + shown.answer_id[:10])}
        yield "", history, session, ""

    def regenerate(self, history: list, session: Session | None, region: str, client: str | None = None):
        """Answer the last question again, in place of its answer (the conversation forgets the replaced answer);
        yields what ``respond`` yields."""
        history = list(history or [])
        if session is None or not session.last_question or len(history) < 2:
            yield "", history, session or Session(), "没有可以重新生成的回答。"
            return
        if session.by_message.pop(len(history) - 1, None) is not None:  # answered (not failed): forget its turn
            session.conversation.turns.pop()
        yield from self.respond(session.last_question, history[:-2], session, region, client)

    def _start_stored(self, session: Session) -> None:
        """Give a new conversation a server-issued id and secret (kept by the browser); without a store, or with the
        database down, the conversation goes on in the session only."""
        if self.conversations is None or session.secret or session.conversation.turns:
            return
        try:
            conversation_id, session.secret = self.conversations.start()
        except DatabaseUnavailableError as exc:
            log.warning("conversation kept in the session only: %s", exc)
            return
        session.conversation = Conversation(id=conversation_id)

    def _store_turn(self, session: Session) -> None:
        """Store the conversation's new last turn. A regenerated turn replaces one the store already holds: the store
        keeps the first (it has no way to replace a turn), the session the new one."""
        position = len(session.conversation.turns) - 1
        if not session.secret or position < session.stored_turns:
            return
        try:
            if self.conversations.append(session.conversation, position):
                session.stored_turns = position + 1
        except DatabaseUnavailableError as exc:
            log.warning("turn %d of conversation %s not stored: %s", position, session.conversation.id, exc)

    def new_conversation(self, session: Session | None):
        """Forget the conversation (the admin login of the session stays); the browser forgets it too.
        Returns (chat, session, status, feedback status, kept conversation)."""
        fresh = Session(admin=bool(session and session.admin))
        return [], fresh, "", "", {}

    def rate_message(self, index, liked, session: Session | None) -> tuple[str, bool, tuple[str, ...]]:
        """The thumb on an answer (the chat's own buttons), stored at once; returns (confirmation, whether the reason
        dialog opens, the reasons it offers)."""
        position = index[0] if isinstance(index, list | tuple) else index
        shown = session.by_message.get(position) if session else None
        if shown is None:
            return "这条消息不能评价。", False, ()
        if liked in (None, ""):
            session.rated = None
            return "已取消评价（之前的记录保留）。", False, ()
        rating = 1 if liked is True or liked == "Like" else -1
        outcome = self._store(session, shown, rating, "")
        session.rated, session.rating = shown, rating
        thanks = "已记录：有帮助。" if rating > 0 else "已记录：没帮助。"
        if outcome == "updated":
            thanks = "已更新您的评价：" + ("有帮助。" if rating > 0 else "没帮助。")
        return thanks + "可以告诉我们原因（可选）：", True, LIKE_REASONS if rating > 0 else DISLIKE_REASONS

    def give_reason(self, reason: str | None, comment: str, session: Session | None) -> str:
        """The optional reason for the thumb just given, added to its feedback row; returns the confirmation."""
        if session is None or session.rated is None:
            return "请先点赞或点踩，再填写原因。"
        said = "；".join(part for part in ((reason or "").strip(), printable(comment or "").strip()) if part)
        if not said:
            return "好的，已记录您的评价。"
        self._store(session, session.rated, session.rating, said)
        session.rated = None
        return "感谢您的反馈，原因已记录。"

    def _store(self, session: Session, shown: Rated, rating: int, comment: str) -> str:
        answer = shown.answer
        return self.feedback.record(
            shown.answer_id, session.conversation.id, answer.question, answer.text,
            [c.clause.clause_id for c in answer.citations], rating, comment,
        )

    def draft(self, question: str, client: str | None = None):
        """The helpdesk's draft reply and its sources panel."""
        question = printable(question or "")[: self.settings.max_question_chars * 2]
        if not question.strip():
            return "", sources_panel(None), "请先粘贴企业的问题。"
        if refused := self._over_limit(client):
            return "", sources_panel(None), refused
        answer = self.assistant.ask(question, Conversation(), audience="helpdesk")
        return helpdesk_draft(answer), sources_panel(answer), ""

    def login(self, token: str, session: Session | None, client: str = "unknown"):
        """Open the admin view when the token matches the configured one; guesses are slowed down by the service's
        ``TokenGate`` (per address and token start, and capped service-wide), never compared while they wait."""
        import gradio as gr

        session = session or Session()
        expected = self.settings.admin_token or ""
        verdict = self.gate.check(client, token or "", [expected] if expected else [])
        session.admin = verdict.allowed
        if verdict.wait > 0:
            return session, gr.update(visible=False), f"尝试次数过多，请 {math.ceil(verdict.wait)} 秒后再试。", [], []
        if not session.admin:
            return session, gr.update(visible=False), "口令不正确。", [], []
        return session, gr.update(visible=True), "", self.feedback_rows(), self.document_rows()

    def feedback_rows(self) -> list[list]:
        """Feedback for the admin table."""
        return [[f.updated_at, "赞" if f.rating > 0 else "踩", f.question, f.comment, "，".join(f.clause_ids)]
                for f in self.feedback.all()]

    def document_rows(self) -> list[list]:
        """Indexed documents, their status and clause counts, for the admin table."""
        kb = self.assistant.kb
        today = self.settings.current_date()
        counts = kb.generation.clause_counts()
        return [[d.title, d.doc_number or "", d.region or "", STATUS_LABELS[d.status(today)], counts.get(d.doc_id, 0), d.source]
                for d in kb.docs]

    def reindex(self, session: Session | None):
        """Rebuild the index from the corpus folder (admin only)."""
        if session is None or not session.admin:
            return "请先登录管理视图。", []
        if self.reindex_fn is None:
            return "重新索引不可用。", self.document_rows()
        if not self._reindexing.acquire(blocking=False):
            return "正在重新建立索引，请稍候。", self.document_rows()
        try:
            try:
                summary = self.reindex_fn()
            except PolicyQAError as exc:  # e.g. another build is running, or the corpus has nothing to index
                log.warning("re-index refused: %s", exc)
                return f"索引未更新：{exc}", self.document_rows()
            self.assistant.refresh(wait=True)  # questions go on with the old generation meanwhile
        finally:
            self._reindexing.release()
        return summary, self.document_rows()


# After an answer arrives: its first line in view (the chat would otherwise stay scrolled to its end, the sources).
SHOW_ANSWER_JS = """() => { setTimeout(() => {
  const answers = document.querySelectorAll('#chat [data-testid="bot"]');
  if (answers.length) answers[answers.length - 1].scrollIntoView({block: "start"});
}, 150); }"""
# After a reload that shows the kept conversation: the same, once the chat has drawn the restored messages and
# scrolled itself to their end (it does so after the load's outputs arrive; until then there is nothing to show).
SHOW_RESTORED_JS = """() => {
  let tries = 0;
  const wait = setInterval(() => {
    const answers = document.querySelectorAll('#chat [data-testid="bot"]');
    if (!answers.length && ++tries < 30) return;
    clearInterval(wait);
    if (answers.length) setTimeout(() => answers[answers.length - 1].scrollIntoView({block: "start"}), 400);
  }, 100);
}"""
# On load: a click on [n] in an answer opens that answer's source n and shows it; a copied answer is its text, the
# sources as one line each (the chat's copy button would otherwise copy the message's HTML).
PAGE_JS = """() => {
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a.cite");
    if (!link) return;
    const source = document.getElementById(link.getAttribute("href").slice(1));
    if (!source) return;
    event.preventDefault();
    source.open = true;
    source.scrollIntoView({block: "nearest"});
    source.classList.add("flash");
    setTimeout(() => source.classList.remove("flash"), 1600);
  });
  const clipboard = navigator.clipboard;
  if (!clipboard) return;
  const write = clipboard.writeText.bind(clipboard);
  clipboard.writeText = (text) => {
    if (typeof text !== "string" || !/class="(answer-sources|cite|next-step)/.test(text)) return write(text);
    const doc = new DOMParser().parseFromString(text, "text/html");
    doc.querySelectorAll("details.source").forEach((d) => {
      d.replaceWith(doc.createTextNode("\\n" + d.querySelector("summary").textContent.trim()));
    });
    doc.querySelectorAll(".sources-title, .next-step").forEach((t) => {
      t.replaceWith(doc.createTextNode("\\n\\n" + t.textContent.trim()));
    });
    return write(doc.body.textContent.replace(/\\*\\*/g, "").replace(/\\n{3,}/g, "\\n\\n").trim());
  };
}"""


def build_app(page: Page):
    """The public Gradio Blocks app: the chat only (no staff or admin element)."""
    import gradio as gr

    with gr.Blocks(title="政策在线答疑", analytics_enabled=False) as app:
        session = gr.State(None)
        kept = gr.BrowserState({}, storage_key=BROWSER_STORAGE_KEY, secret=BROWSER_STORAGE_CODE)
        gr.Markdown("## 政策在线答疑\n回答只依据知识库中的政策文件原文，并注明出处；没有依据时会如实说明。",
                    elem_id="page-title")
        # The chat grows with its messages up to 60 % of the window (not a fixed box): under a short answer the
        # feedback confirmation stays near the thumb clicked.
        chat = gr.Chatbot(show_label=False, height=None, min_height="40vh", max_height="60vh", elem_id="chat",
                          feedback_options=("Like", "Dislike"),
                          buttons=["copy"], latex_delimiters=[],  # nothing in a question or a clause is a formula
                          examples=[{"text": q} for q in example_questions()])
        feedback_status = gr.Markdown(elem_id="feedback-status")
        with gr.Group(visible=False, elem_id="feedback-dialog") as dialog:
            reason = gr.Radio([], label="原因（可选）", elem_id="feedback-reason")
            comment = gr.Textbox(label="补充说明（可选）", elem_id="feedback-comment", lines=1)
            with gr.Row():
                give = gr.Button("提交", variant="primary", size="sm", elem_id="feedback-submit")
                skip = gr.Button("不用了", size="sm", elem_id="feedback-skip")
        with gr.Row(equal_height=True, elem_id="ask-row"):
            question = gr.Textbox(placeholder="请输入您想咨询的政策问题",
                                  show_label=False, elem_id="question", lines=1, scale=5, min_width=180)
            send = gr.Button("发送", variant="primary", elem_id="send", scale=1, min_width=72)
        status = gr.Markdown(elem_id="chat-status")
        with gr.Row(elem_id="chat-options"):
            region = gr.Dropdown(page.regions(), value=ALL_REGIONS, label="地区", elem_id="region", min_width=140)
            new = gr.Button("新对话", elem_id="new-conversation", min_width=100)

        outputs = [question, chat, session, status]
        # Questions are answered side by side, up to the settings' limit (gradio's default is one at a time).
        answering = dict(concurrency_id="answer", concurrency_limit=page.settings.answer_concurrency)

        def respond(message, history, state, place, request):
            yield from page.respond(message, history, state, place, client=page.client(request))

        def ask_example(history, state, place, chosen, request):
            yield from page.respond(chosen.value["text"], history, state, place, client=page.client(request))

        def regenerate(history, state, place, request):
            yield from page.regenerate(history, state, place, client=page.client(request))

        # gradio passes the request and the event's data by these annotations
        respond.__annotations__ = {"request": gr.Request}
        ask_example.__annotations__ = {"chosen": gr.SelectData, "request": gr.Request}
        regenerate.__annotations__ = {"request": gr.Request}

        def answered(event) -> None:
            """After an answer: the browser keeps the conversation's id and secret, and the answer is shown."""
            event.then(lambda state: state.saved() if state else {}, [session], [kept], api_visibility="private") \
                 .then(None, js=SHOW_ANSWER_JS, api_visibility="private")

        answered(send.click(respond, [question, chat, session, region], outputs, **answering))
        answered(question.submit(respond, [question, chat, session, region], outputs, api_visibility="private", **answering))
        answered(chat.example_select(ask_example, [chat, session, region], outputs, api_visibility="private", **answering))
        answered(chat.retry(regenerate, [chat, session, region], outputs, api_visibility="private", **answering))

        closed = gr.update(visible=False)
        forget = [chat, session, status, feedback_status, kept]
        new.click(page.new_conversation, [session], forget).then(lambda: closed, None, [dialog], api_visibility="private")
        # The chat's own clear button starts a new conversation too (the history must not linger).
        chat.clear(page.new_conversation, [session], forget).then(lambda: closed, None, [dialog], api_visibility="private")

        def on_like(data, state):
            said, opens, reasons = page.rate_message(data.index, data.liked, state)
            return said, gr.update(visible=opens), gr.update(choices=list(reasons), value=None), ""

        on_like.__annotations__ = {"data": gr.LikeData}
        chat.like(on_like, [session], [feedback_status, dialog, reason, comment], api_visibility="private")
        give.click(lambda r, c, s: (page.give_reason(r, c, s), closed), [reason, comment, session],
                   [feedback_status, dialog], api_visibility="private")
        skip.click(lambda: ("好的，已记录您的评价。", closed), None, [feedback_status, dialog], api_visibility="private")

        def on_load(saved):
            text, examples, places, history, fresh, said = page.on_load(saved)
            return (gr.update(value=history, placeholder=text, examples=[{"text": q} for q in examples]),
                    gr.update(choices=places), fresh, said, fresh.saved())

        # A reload showing the kept conversation: its last message (a staff reply, say) from its first line, as after
        # an answer (the chat would otherwise stay scrolled to its end: on a phone, the reply's closing lines).
        app.load(on_load, [kept], [chat, region, session, status, kept], api_visibility="private") \
           .then(None, js=SHOW_RESTORED_JS, api_visibility="private")
    return app


def serve_options(settings) -> dict:
    """How the page is served: loopback by default, local fonts only, no SSR node server, no footer links."""
    import gradio as gr

    theme = gr.themes.Default(font=["system-ui", "PingFang SC", "Microsoft YaHei", "sans-serif"], font_mono=["monospace"])
    return dict(server_name=settings.host, server_port=settings.port, theme=theme, css=PAGE_CSS, js=PAGE_JS,
                ssr_mode=False, show_error=False, footer_links=[])


def launch(page: Page, **kwargs):
    """Serve the page on the settings' host and port; nothing is fetched from outside the machine."""
    return build_app(page).launch(**serve_options(page.settings), **kwargs)
