"""The chat page (Gradio): SME owners' chat, the helpdesk's draft replies, feedback and a small admin view.
Everything shown comes from ``assistant``; this module only lays it out and wires the events."""

from __future__ import annotations

import hmac
import logging
import math
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field

from assistant.chain import Assistant
from assistant.conversation import Conversation
from assistant.generators import LLM_GENERATORS
from assistant.generators.llm import streaming_to
from assistant.types import STATUS_LABELS, Answer
from core.errors import PolicyQAError
from core.prompts import render
from serve.clients import ClientIdentity
from serve.feedback import FeedbackStore
from serve.presenter import (
    PAGE_CSS,
    chat_message,
    helpdesk_draft,
    printable,
    sources_panel,
    stream_chunks,
    user_message,
)
from serve.ratelimit import RateLimiter
from serve.throttle import LoginThrottle

log = logging.getLogger(__name__)
ALL_REGIONS = "全部地区"
EXAMPLES = [
    "吉林省对专精特新企业的专利保险费有补助吗?",
    "日照市对达到考核目标的区县最高奖励多少?",
    "江門的專精特新企業用電用能有什麼保障?",
    "重庆鼓励银行创新哪些专属产品来降低专精特新企业融资成本?",
]


@dataclass
class Session:
    """One browser session's conversation and its latest answer (never shared between sessions)."""

    conversation: Conversation = field(default_factory=Conversation)
    answer_id: str | None = None
    answer: Answer | None = None
    admin: bool = False
    by_message: dict[int, tuple[str, Answer]] = field(default_factory=dict)  # chat message index → answer


class Page:
    """The handlers behind the page, with their collaborators passed in."""

    def __init__(self, assistant: Assistant, feedback: FeedbackStore, settings, reindex=None, stream_delay: float = 0.02,
                 throttle: LoginThrottle | None = None, limiter: RateLimiter | None = None,
                 identity: ClientIdentity | None = None):
        self.assistant = assistant
        self.feedback = feedback
        self.settings = settings
        self.reindex_fn = reindex
        self.stream_delay = stream_delay
        self.throttle = throttle or LoginThrottle()
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

    def respond(self, message: str, history: list, session: Session | None, region: str, client: str | None = None):
        """Answer a chat message, showing the answer progressively; yields (textbox, chat, sources, session, status)."""
        session = session or Session()
        history = list(history or [])
        message = printable(message or "")[: self.settings.max_question_chars * 2]  # the chain cuts it, with a notice
        if not message.strip():
            yield "", history, sources_panel(session.answer), session, "请输入您想咨询的问题。"
            return
        if refused := self._over_limit(client):
            yield message, history, sources_panel(session.answer), session, refused
            return
        history.append({"role": "user", "content": user_message(message)})
        history.append({"role": "assistant", "content": "…"})
        yield "", history, sources_panel(session.answer), session, ""
        try:
            region = None if region in (None, ALL_REGIONS) else region
            answer = None
            if self.settings.generator in LLM_GENERATORS:  # the LLM's words as they come; checked when done
                for item in self._ask_streaming(message, session.conversation, region):
                    if isinstance(item, Answer):
                        answer = item
                    else:
                        history[-1] = {"role": "assistant", "content": item + " …（核对中）"}
                        yield "", history, sources_panel(None), session, ""
            else:
                answer = self._ask(message, session.conversation, region)
        except Exception:
            log.exception("answering failed")
            history[-1] = {"role": "assistant", "content": "⚠️ " + render("unavailable")}  # as the API says it
            yield "", history, sources_panel(None), session, ""
            return
        session.answer, session.answer_id = answer, uuid.uuid4().hex
        session.by_message[len(history) - 1] = (session.answer_id, answer)
        for partial in stream_chunks(chat_message(answer)):
            history[-1] = {"role": "assistant", "content": partial}
            yield "", history, sources_panel(None), session, ""
            time.sleep(self.stream_delay)
        yield "", history, sources_panel(answer), session, ""

    def new_conversation(self, session: Session | None):
        """Forget the conversation (the admin login of the session stays)."""
        fresh = Session(admin=bool(session and session.admin))
        return [], sources_panel(None), fresh, "", ""

    def rate(self, rating: int, comment: str, session: Session | None) -> tuple[str, str]:
        """Store thumbs up/down for the latest answer; returns (status message, comment box)."""
        if session is None or session.answer is None or session.answer_id is None:
            return "请先提问，再评价回答。", comment
        return self._store(session, session.answer_id, session.answer, rating, comment)

    def rate_message(self, index, liked, comment: str, session: Session | None) -> tuple[str, str]:
        """Thumbs on any answer of the conversation (the chat's own buttons)."""
        position = index[0] if isinstance(index, list | tuple) else index
        entry = session.by_message.get(position) if session else None
        if entry is None:
            return "这条消息不能评价。", comment
        if liked in (None, ""):
            return "已取消评价（之前的记录保留）。", comment
        rating = 1 if liked is True or liked == "Like" else -1
        return self._store(session, entry[0], entry[1], rating, comment)

    def _store(self, session: Session, answer_id: str, answer: Answer, rating: int, comment: str) -> tuple[str, str]:
        outcome = self.feedback.record(
            answer_id, session.conversation.id, answer.question, answer.text,
            [c.clause.clause_id for c in answer.citations], rating, comment or "",
        )
        if outcome == "updated":
            return "已更新您对这条回答的评价。", ""
        return "感谢您的反馈，已记录。", ""

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
        """Open the admin view when the token matches the configured one; a client that keeps guessing wrong
        must wait longer and longer before its next attempt is even compared."""
        import gradio as gr

        session = session or Session()
        wait = self.throttle.wait(client)
        if wait > 0:
            session.admin = False
            return session, gr.update(visible=False), f"尝试次数过多，请 {math.ceil(wait)} 秒后再试。", [], []
        expected = self.settings.admin_token or ""
        session.admin = bool(expected) and hmac.compare_digest((token or "").encode(), expected.encode())
        if not session.admin:
            self.throttle.failed(client)
            return session, gr.update(visible=False), "口令不正确。", [], []
        self.throttle.succeeded(client)
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


def build_app(page: Page):
    """The Gradio Blocks app."""
    import gradio as gr

    with gr.Blocks(title="政策在线答疑", analytics_enabled=False) as app:
        session = gr.State(None)
        gr.Markdown("## 政策在线答疑\n回答只依据知识库中的政策文件原文，并注明出处；没有依据时会如实说明。")
        with gr.Tab("企业咨询", elem_id="tab-chat"):
            with gr.Row():
                with gr.Column(scale=3):
                    region = gr.Dropdown(page.regions(), value=ALL_REGIONS, label="地区", elem_id="region")
                    chat = gr.Chatbot(label="对话（每条回答都可以点赞或点踩）", height=460, elem_id="chat",
                                      feedback_options=("Like", "Dislike"), buttons=["copy"],
                                      latex_delimiters=[])  # nothing in a question or a clause is a formula
                    question = gr.Textbox(placeholder="请输入您的问题，例如：吉林省对专精特新企业的专利保险费有补助吗？",
                                          show_label=False, elem_id="question", lines=1)
                    with gr.Row():
                        send = gr.Button("发送", variant="primary", elem_id="send")
                        new = gr.Button("新对话", elem_id="new-conversation")
                    status = gr.Markdown(elem_id="chat-status")
                    gr.Examples(EXAMPLES, inputs=question, label="示例问题")
                    with gr.Row():
                        thumbs_up = gr.Button("👍 有帮助", elem_id="thumbs-up", size="sm")
                        thumbs_down = gr.Button("👎 没帮助", elem_id="thumbs-down", size="sm")
                    comment = gr.Textbox(label="意见（可选）", elem_id="feedback-comment", lines=1)
                    feedback_status = gr.Markdown(elem_id="feedback-status")
                with gr.Column(scale=2):
                    gr.Markdown("### 引用的政策条款")
                    sources = gr.HTML(page_sources_placeholder(), elem_id="sources")
            outputs = [question, chat, sources, session, status]
            # Questions are answered side by side, up to the settings' limit (gradio's default is one at a time).
            answering = dict(concurrency_id="answer", concurrency_limit=page.settings.answer_concurrency)

            def respond(message, history, state, place, request):
                yield from page.respond(message, history, state, place, client=page.client(request))

            respond.__annotations__ = {"request": gr.Request}  # gradio passes the request by this annotation
            send.click(respond, [question, chat, session, region], outputs, **answering)
            question.submit(respond, [question, chat, session, region], outputs, **answering)
            new.click(page.new_conversation, [session], [chat, sources, session, status, feedback_status])
            # The chat's own clear button starts a new conversation too (the history must not linger).
            chat.clear(page.new_conversation, [session], [chat, sources, session, status, feedback_status])
            thumbs_up.click(lambda c, s: page.rate(1, c, s), [comment, session], [feedback_status, comment])
            thumbs_down.click(lambda c, s: page.rate(-1, c, s), [comment, session], [feedback_status, comment])

            def on_like(data, text, state):
                return page.rate_message(data.index, data.liked, text, state)

            on_like.__annotations__ = {"data": gr.LikeData}  # gradio passes the event data by this annotation
            chat.like(on_like, [comment, session], [feedback_status, comment])
        with gr.Tab("工作人员答复", elem_id="tab-helpdesk"):
            with gr.Row():
                with gr.Column(scale=3):
                    hd_question = gr.Textbox(label="企业来函问题", lines=4, elem_id="helpdesk-question")
                    hd_go = gr.Button("生成答复草稿", variant="primary", elem_id="helpdesk-generate")
                    hd_status = gr.Markdown(elem_id="helpdesk-status")
                    hd_draft = gr.Textbox(label="答复草稿（可直接修改后复制）", lines=18, interactive=True,
                                          buttons=["copy"], elem_id="helpdesk-draft")
                with gr.Column(scale=2):
                    gr.Markdown("### 政策依据（逐条核对）")
                    hd_sources = gr.HTML(page_sources_placeholder(), elem_id="helpdesk-sources")
            def draft(text, request):
                return page.draft(text, client=page.client(request))

            draft.__annotations__ = {"request": gr.Request}
            hd_go.click(draft, [hd_question], [hd_draft, hd_sources, hd_status], api_name="draft", **answering)
        if page.settings.admin_token:
            with gr.Tab("管理", elem_id="tab-admin"):
                token = gr.Textbox(label="管理口令", type="password", elem_id="admin-token")
                enter = gr.Button("进入", elem_id="admin-enter")
                admin_status = gr.Markdown(elem_id="admin-status")
                with gr.Group(visible=False) as admin_area:
                    gr.Markdown("#### 用户反馈")
                    feedback_table = gr.Dataframe(headers=["时间", "评价", "问题", "意见", "引用条款"], elem_id="feedback-table")
                    gr.Markdown("#### 已索引的政策文件")
                    docs_table = gr.Dataframe(headers=["标题", "文号", "地区", "状态", "条款数", "文件"], elem_id="docs-table")
                    rebuild = gr.Button("重新建立索引", elem_id="admin-reindex")

                def on_login(text, state, request):
                    return page.login(text, state, page.identity.address(
                        getattr(request.client, "host", None), request.headers or {}))

                on_login.__annotations__ = {"request": gr.Request}  # gradio passes the request by this annotation
                enter.click(on_login, [token, session], [session, admin_area, admin_status, feedback_table, docs_table])
                rebuild.click(page.reindex, [session], [admin_status, docs_table])
    return app


def page_sources_placeholder() -> str:
    """The empty sources panel."""
    return sources_panel(None)


def serve_options(settings) -> dict:
    """How the page is served: loopback by default, local fonts only, no SSR node server, no footer links."""
    import gradio as gr

    theme = gr.themes.Default(font=["system-ui", "PingFang SC", "Microsoft YaHei", "sans-serif"], font_mono=["monospace"])
    return dict(server_name=settings.host, server_port=settings.port, theme=theme, css=PAGE_CSS,
                ssr_mode=False, show_error=False, footer_links=[])


def launch(page: Page, **kwargs):
    """Serve the page on the settings' host and port; nothing is fetched from outside the machine."""
    return build_app(page).launch(**serve_options(page.settings), **kwargs)
