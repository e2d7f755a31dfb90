"""Builds the assistant and the service from settings: the one place where collaborators are wired together."""

from __future__ import annotations

import logging

from assistant.chain import Assistant
from assistant.retrieval.knowledge import KnowledgeBase
from index.embeddings import make_embedder

log = logging.getLogger(__name__)
STAFF_PATH = "/staff"  # the staff desk; the public page is at "/"


def make_assistant(settings, embedder=None) -> Assistant:
    """An assistant over the settings' index, with the settings' embedder (loaded lazily)."""
    return Assistant(KnowledgeBase.open(settings, embedder or make_embedder(settings)), settings)


def make_drafter(assistant: Assistant, settings):
    """The staff desk's drafter: a citizen's message → a reply staff can send as it is (``serve.drafts``)."""
    from serve.drafts import reply_draft

    def drafter(message: str) -> str:
        return reply_draft(message, assistant, settings)

    return drafter


def reindex_summary(result) -> str:
    """One line about a finished build, for the admin view and the API."""
    skipped = "".join(f"；跳过 {e.source}（{e.reason}）" for e in result.skipped)
    return (f"索引已更新：{len(result.generation.docs)} 份文件，{len(result.generation.clauses)} 个条款，"
            f"新嵌入 {result.embedded} 个{skipped}。")


def security_headers(settings, framed_by_portals: bool = True) -> dict[str, str]:
    """Headers on every response: scripts, styles, images and connections from this origin only (the page inlines
    its configuration and styles, and Gradio evaluates its HTML components' templates: 'unsafe-inline' and
    'unsafe-eval'; nothing from elsewhere), framing by this origin and (``framed_by_portals``: the public page and
    API) the configured portals only, no type sniffing."""
    ancestors = " ".join(["'self'", *(settings.cors_origins if framed_by_portals else [])])
    policy = (f"default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
              f"img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
              f"base-uri 'self'; frame-ancestors {ancestors}")
    return {"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin"}


def _remove_copies_on_shutdown(app) -> None:
    """Temporary copies of a read-only index are removed when the app shuts down (a server stopped by SIGTERM
    never reaches the interpreter's exit handlers: uvicorn re-raises the signal after its shutdown)."""
    from contextlib import asynccontextmanager

    from index.vectors import remove_read_only_copies

    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served):
        try:
            async with inner(served) as state:
                yield state
        finally:
            removed = remove_read_only_copies()
            if removed:
                log.info("removed %d temporary copies of the read-only index", removed)

    app.router.lifespan_context = lifespan


def make_app(settings, embedder=None, engine=None, warm_up: bool = True):
    """The one FastAPI app a copy of the service runs: the API, the chat page mounted at ``/`` and, when a staff or
    admin token is set, the staff desk at ``/staff``.
    Opens the database (DatabaseUnavailableError when it cannot) and the index (built first if there is none)."""
    import gradio as gr
    from fastapi.middleware.cors import CORSMiddleware

    from index.build import build, needs_build
    from serve.answer_book import AnswerBook, EntryStore
    from serve.api import BodyLimit, build_api
    from serve.clients import ClientIdentity
    from serve.desk import Desk, PageAssistant, PageConversations, PageFeedback
    from serve.feedback import FeedbackStore
    from serve.ratelimit import RateLimiter
    from serve.service import Reindexer, Service
    from serve.store import ConversationStore, database_url, open_database
    from serve.throttle import TokenGate
    from serve.tickets import TicketStore
    from serve.web import Page, build_app, serve_options

    engine = engine or open_database(database_url(settings))
    embedder = embedder or make_embedder(settings)

    def rebuild() -> str:
        return reindex_summary(build(settings, embedder, progress=False))

    if needs_build(settings):
        log.info("no index to serve (none yet, or its vectors are gone): building it first")
        rebuild()
    assistant = make_assistant(settings, embedder)
    reindexer = Reindexer(rebuild, lambda: assistant.refresh(wait=True))
    conversations, feedback = ConversationStore(engine), FeedbackStore(engine)
    entries = EntryStore(engine)
    desk = Desk(conversations, TicketStore(engine), feedback, settings, drafter=make_drafter(assistant, settings),
                entries=entries, clauses=lambda: assistant.kb.by_id)
    book = AnswerBook(entries, embedder, settings.answer_book_min_similarity, settings.max_embed_query_chars)
    service = Service(assistant, conversations, settings, reindexer, desk=desk, book=book)
    # One client identity and one allowance for the API and the page (whose Gradio API is callable directly).
    limiter = RateLimiter(settings.api_requests_per_minute)
    identity = ClientIdentity.from_settings(settings)
    gate = TokenGate(settings.login_guesses_per_minute)  # admin and staff token guesses, API and pages together
    # The page stores its conversations like the API: each turn told to the desk, "转人工" and a thumbs-down
    # handed to staff, a reload showing the answers and staff replies, and the 答疑库 answering as it does the API.
    page = Page(PageAssistant(assistant, desk, from_book=service.from_book), PageFeedback(engine, desk), settings,
                reindex=rebuild, limiter=limiter, identity=identity, gate=gate,
                conversations=PageConversations(engine, desk), stored_messages=desk.page_messages)
    if warm_up:
        page.warm_up()
    app = build_api(service, settings, limiter=limiter, identity=identity, gate=gate)
    app.state.service = service
    app.state.page = page
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"], max_age=600)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes, max_upload_bytes=settings.max_upload_bytes,
                       max_page_bytes=settings.max_page_request_bytes)
    headers = security_headers(settings)
    staff_headers = security_headers(settings, framed_by_portals=False)  # the desk is never embedded by a portal

    @app.middleware("http")
    async def _security_headers(request, call_next):
        response = await call_next(request)
        path = request.url.path
        chosen = staff_headers if path == STAFF_PATH or path.startswith(STAFF_PATH + "/") else headers
        for name, value in chosen.items():
            response.headers.setdefault(name, value)
        return response

    _remove_copies_on_shutdown(app)
    options = serve_options(settings)
    if settings.staff_token or settings.admin_token:  # the staff desk, at its own path (before the page's "/")
        from serve.staff import StaffPage, build_staff_app

        staff = StaffPage(desk, page, settings, gate=gate)
        app = gr.mount_gradio_app(
            app, build_staff_app(staff), path=STAFF_PATH, server_name=settings.host, server_port=settings.port,
            theme=options["theme"], css=options["css"], ssr_mode=False, show_error=False, footer_links=[],
        )
    return gr.mount_gradio_app(
        app, build_app(page), path="/", server_name=settings.host, server_port=settings.port,
        theme=options["theme"], css=options["css"], js=options["js"], ssr_mode=False, show_error=False, footer_links=[],
    )
