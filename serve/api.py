"""The HTTP API (FastAPI): questions (``/api/ask``, OpenAI-compatible ``/v1/chat/completions``), the documents
of the knowledge base (admin, bearer token), health and readiness. The chat page is mounted on the same app
(``serve.factory.make_app``). Every error is JSON ``{"error": code, "message": text}`` with a fitting status."""

from __future__ import annotations

import json
import logging
import math
from typing import Literal

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import LLMUnavailableError, PolicyQAError, ServiceUnavailableError
from core.prompts import render
from core.textnorm import clean_input
from index.documents import doc_ids_for
from index.loaders import corpus_files
from serve import uploads
from serve.clients import ClientIdentity, token_required
from serve.openai_compat import MODEL_PREFIX, ChatCompletionRequest, completion, completion_chunks, user_turns
from serve.ratelimit import RateLimiter
from serve.service import ConversationNotFound, Service, UnknownGenerator
from serve.throttle import TokenGate

log = logging.getLogger(__name__)
API_PREFIXES = ("/api/", "/v1/")
PAGE_API_PREFIX = "/gradio_api/"  # the chat page's own API: what the page sends, and callable directly
PAGE_API_PREFIXES = (PAGE_API_PREFIX, "/staff" + PAGE_API_PREFIX)  # and the staff desk's
ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


class ApiError(Exception):
    """An error answered as ``{"error": code, "message": message}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


class HistoryMessage(BaseModel):
    """An earlier message of the conversation the client keeps; the user's ones are asked again in order."""

    role: Literal["user", "assistant"]
    content: str = Field(..., max_length=4000)

    _clean = field_validator("content")(lambda value: clean_input(value))


class AskRequest(BaseModel):
    """A question for ``/api/ask``."""

    model_config = ConfigDict(extra="forbid")
    question: str = Field(..., max_length=20_000, description="The message (longer than max_question_chars: cut).")
    conversation_id: str | None = Field(
        None, pattern=ID_PATTERN,
        description="A conversation the server started: its earlier messages are the history (with "
        "conversation_secret). Absent, with no history: a new conversation is started and its id and secret "
        "returned. An id the server did not issue, or without its secret, is 404.",
    )
    conversation_secret: str | None = Field(
        None, max_length=100, description="The secret returned when the conversation was started.")
    history: list[HistoryMessage] | None = Field(
        None, max_length=50, description="Earlier messages the client keeps (instead of conversation_id); only the "
        "latest user messages within max_history_turns and max_history_chars are replayed.",
    )
    region: str | None = Field(None, max_length=50, description="Answer only from this region's documents.")
    generator: str | None = Field(None, max_length=50, description="A generator clients may choose (default: settings).")
    contact: str = Field("", max_length=200, description="How staff may reach the asker (phone, mail), kept on the "
                         "ticket when this message is handed to a person (a refusal, \"转人工\"). Optional.")

    _clean = field_validator("question", "region", "generator", "contact")(lambda value: value and clean_input(value))


class Problem(BaseModel):
    """An error."""

    error: str
    message: str


ERRORS = {400: {"model": Problem}, 404: {"model": Problem}, 413: {"model": Problem}, 422: {"model": Problem},
          429: {"model": Problem}, 503: {"model": Problem}}
ADMIN_ERRORS = {401: {"model": Problem}, 404: {"model": Problem}, 413: {"model": Problem}, 429: {"model": Problem}}
_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
                 413: "too_large", 415: "unsupported_media_type", 422: "invalid_request", 429: "rate_limited"}


def build_api(service: Service, settings, limiter: RateLimiter | None = None,
              identity: ClientIdentity | None = None, gate: TokenGate | None = None) -> FastAPI:
    """The FastAPI app with every route; the page is mounted on it by the factory (sharing ``limiter``,
    ``identity`` and ``gate``, so a client has one allowance on the API and the page, and token guesses are counted
    once for the API, the desk's routes and the staff page)."""
    app = FastAPI(title="政策在线答疑 API", version="1.0",
                  description="Answers about government support policies, resting on the clauses they quote.",
                  docs_url="/docs" if settings.api_docs else None, redoc_url=None)
    limiter = limiter or RateLimiter(settings.api_requests_per_minute)
    identity = identity or ClientIdentity.from_settings(settings)
    gate = gate or TokenGate(settings.login_guesses_per_minute)  # wrong tokens slowed down, guesses capped
    app.state.limiter = limiter

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError):
        return JSONResponse({"error": exc.code, "message": exc.message}, exc.status, headers=exc.headers)

    @app.exception_handler(ServiceUnavailableError)
    async def _unavailable(_request: Request, exc: ServiceUnavailableError):
        log.warning("answering unavailable: %s", exc)  # the cause is logged, never sent: it may name paths, hosts
        return JSONResponse({"error": "unavailable", "message": render("unavailable")}, 503,
                            headers={"Retry-After": "5"})

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError):
        problems = "; ".join(_problem(error) for error in exc.errors()[:5])
        return JSONResponse({"error": "invalid_request", "message": problems or "the request is not valid"}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException):
        code = _STATUS_CODES.get(exc.status_code, "error")
        return JSONResponse({"error": code, "message": str(exc.detail)}, exc.status_code,
                            headers=getattr(exc, "headers", None))

    def client_key(request: Request) -> str:
        return identity.key(request.client.host if request.client else None, request.headers)

    def rate_limited(request: Request) -> None:
        wait = limiter.take(client_key(request))
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise ApiError(429, "rate_limited", render("rate_limited", seconds=seconds), {"Retry-After": str(seconds)})

    admin = token_required([settings.admin_token] if settings.admin_token else [], identity, gate, ApiError,
                           "the admin endpoints are off: set POLICYQA_ADMIN_TOKEN to open them", "admin")

    def ask(question: str, **options):
        try:
            return service.ask(question, **options)
        except UnknownGenerator as exc:
            raise ApiError(400, "unknown_generator", str(exc)) from None
        except ConversationNotFound as exc:
            raise ApiError(404, "not_found", str(exc)) from None
        except LLMUnavailableError as exc:
            if options.get("generator") not in (None, settings.generator):  # asked for one this service has not set up
                log.warning("generator %s unavailable: %s", options.get("generator"), exc)  # may name a file path
                raise ApiError(400, "generator_unavailable",
                               f"the generator {options.get('generator')!r} is not set up on this service") from None
            raise ServiceUnavailableError(str(exc)) from exc  # the service's own generator is not set up
        except ServiceUnavailableError:
            raise
        except PolicyQAError as exc:  # e.g. no index yet
            raise ServiceUnavailableError(str(exc)) from exc

    @app.get("/healthz", tags=["health"], summary="The process is up")
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="The index is loaded and its vectors answer",
             responses={503: {"model": Problem}})
    def readyz():
        try:
            return {"status": "ready", **service.readiness()}
        except ServiceUnavailableError as exc:
            log.warning("not ready: %s", exc)
            return JSONResponse({"error": "unavailable", "message": render("unavailable")}, 503)

    @app.post("/api/ask", tags=["questions"], summary="Answer a question, citing clauses", responses=ERRORS,
              dependencies=[Depends(rate_limited)])
    def api_ask(body: AskRequest) -> dict:
        """The FORMAT.md per-case object (question, answer, refused, citations, retrieved, latency_ms) and the
        answer's parts (body, notes, sources with the quoted sentences, reason, timings), with its conversation."""
        if body.conversation_id is not None and body.history is not None:
            raise ApiError(400, "bad_request", "give conversation_id or history, not both")
        conversation_id, secret, started = body.conversation_id, body.conversation_secret, {}
        if conversation_id is None and body.history is None:
            ask_with(body.generator)  # an unknown generator starts no conversation
            conversation_id, secret = service.start_conversation()
            started = {"conversation_secret": secret}
        history = [m.content for m in body.history or [] if m.role == "user"]
        asked = ask(body.question, conversation_id=conversation_id, conversation_secret=secret, history=history,
                    region=body.region, generator=body.generator, contact=body.contact)
        answer = asked.answer
        from_book = {"answer_book": asked.entry.fields()} if asked.entry is not None else {}
        return {"conversation_id": asked.conversation_id, **started, "turn": asked.turn, "generator": asked.generator,
                "history_left_out": asked.history_left_out, "resolved_question": answer.resolved_question,
                **answer.record(), **answer.fields(), **from_book}

    def ask_with(generator: str | None) -> None:
        try:
            service.answerer(generator)
        except UnknownGenerator as exc:
            raise ApiError(400, "unknown_generator", str(exc)) from None

    @app.post("/v1/chat/completions", tags=["openai"], summary="OpenAI-compatible chat completion",
              responses=ERRORS, dependencies=[Depends(rate_limited)])
    def chat_completions(body: ChatCompletionRequest):
        """The last user message is the question, the earlier user messages its history; ``references`` holds the
        cited clauses. ``model``: ``policyqa`` (the settings' generator) or ``policyqa-<generator>``."""
        turns = [clean_input(turn) for turn in user_turns(body)]
        if not turns:
            raise ApiError(400, "bad_request", "messages must hold at least one user message")
        generator = model_generator(body.model)
        asked = ask(turns[-1], history=turns[:-1], generator=generator)
        model = MODEL_PREFIX + asked.generator
        if body.stream:
            return StreamingResponse(completion_chunks(asked.answer, model), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache"})
        return completion(asked.answer, model)

    def model_generator(model: str) -> str | None:
        """The generator a model name asks for (None: the settings' one); 404 for a model this service has not."""
        if model == MODEL_PREFIX.rstrip("-"):
            return None
        name = model.removeprefix(MODEL_PREFIX)
        if not model.startswith(MODEL_PREFIX) or name not in service.choosable():
            known = ", ".join(["policyqa", *(MODEL_PREFIX + n for n in service.choosable())])
            raise ApiError(404, "model_not_found", f"no model {model[:100]!r} here; the models are: {known}")
        return name

    @app.get("/v1/models", tags=["openai"], summary="The generators clients may choose, as OpenAI models")
    def models() -> dict:
        return {"object": "list", "data": [{"id": MODEL_PREFIX + name, "object": "model", "owned_by": "policyqa"}
                                           for name in service.choosable()]}

    @app.get("/api/documents", tags=["admin"], summary="The indexed documents", responses=ADMIN_ERRORS,
             dependencies=[Depends(admin)])
    def list_documents() -> dict:
        kb = service.assistant.kb
        kb.reload()
        today = settings.current_date()
        counts = kb.generation.clause_counts()
        documents = [
            {"doc_id": d.doc_id, "title": d.title, "doc_number": d.doc_number, "issuer": d.issuer, "region": d.region,
             "status": d.status(today), "clauses": counts.get(d.doc_id, 0), "source": d.source}
            for d in kb.docs
        ]
        indexing = service.reindexer.status() if service.reindexer else None
        return {"generation": kb.generation.number, "documents": documents, "indexing": indexing,
                "held": uploads.held(uploads.held_dir(settings))}

    @app.post("/api/documents", tags=["admin"], summary="Upload a document (raw bytes); indexed in the background",
              status_code=202, responses={**ADMIN_ERRORS, 400: {"model": Problem}, 415: {"model": Problem}},
              dependencies=[Depends(admin)],
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
    async def upload_document(request: Request, filename: str) -> dict:
        """``?filename=通知.docx`` names the file; the body is its bytes. Name, type and size are checked before
        anything is written; the file then replaces one of the same name."""
        try:
            name = uploads.check_name(filename)
            declared = request.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > settings.max_upload_bytes:
                raise uploads.UploadRejected(413, f"the file is larger than {settings.max_upload_bytes} bytes")
            content = await request.body()
            accepted = uploads.accept(settings, name, content)
        except uploads.UploadRejected as exc:
            raise ApiError(exc.status, "upload_rejected", str(exc)) from None
        if accepted.held:
            log.warning("document %s held for review: %s", name, "; ".join(accepted.reasons))
            return {"filename": name, "doc_id": None, "replaced": False, "held": True,
                    "reasons": list(accepted.reasons), "indexing": None}
        replaced = accepted.replaced
        log.info("document %s %s (%d bytes)", name, "replaced" if replaced else "uploaded", len(content))
        doc_id = next((found for path, found in doc_ids_for(corpus_files(settings.corpus_dir)).items()
                       if path.name == name), None)
        return {"filename": name, "doc_id": doc_id, "replaced": replaced, "held": False, "reasons": [],
                "indexing": _reindex()}

    @app.post("/api/documents/held/{filename}/approve", tags=["admin"], status_code=202, responses=ADMIN_ERRORS,
              summary="Approve a held upload: moved into the corpus and indexed in the background",
              dependencies=[Depends(admin)])
    def approve_held(filename: str) -> dict:
        if not _release(filename, settings.corpus_dir):
            raise ApiError(404, "not_found", f"no held upload {filename[:100]!r}")
        log.info("held document %s approved", filename)
        return {"filename": filename, "indexing": _reindex()}

    @app.delete("/api/documents/held/{filename}", tags=["admin"], responses=ADMIN_ERRORS,
                summary="Discard a held upload", dependencies=[Depends(admin)])
    def discard_held(filename: str) -> dict:
        if not _release(filename, None):
            raise ApiError(404, "not_found", f"no held upload {filename[:100]!r}")
        log.info("held document %s discarded", filename)
        return {"filename": filename, "discarded": True}

    def _release(filename: str, corpus_dir) -> bool:
        try:
            return uploads.release(uploads.held_dir(settings), filename, corpus_dir)
        except uploads.UploadRejected:
            return False

    @app.delete("/api/documents/{doc_id}", tags=["admin"], summary="Remove a document; re-indexed in the background",
                status_code=202, responses=ADMIN_ERRORS, dependencies=[Depends(admin)])
    def delete_document(doc_id: str) -> dict:
        path = uploads.remove_document(settings.corpus_dir, doc_id)
        if path is None:
            raise ApiError(404, "not_found", f"no document {doc_id!r} in the corpus")
        log.info("document %s removed (%s)", doc_id, path.name)
        return {"doc_id": doc_id, "filename": path.name, "indexing": _reindex()}

    @app.post("/api/reindex", tags=["admin"], summary="Rebuild the index from the corpus in the background",
              status_code=202, responses=ADMIN_ERRORS, dependencies=[Depends(admin)])
    def reindex() -> dict:
        return {"indexing": _reindex()}

    if service.desk is not None:
        from serve import desk_api

        desk_api.register(app, service.desk, settings, ApiError, rate_limited, identity, gate)

    @app.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    @app.api_route("/v1/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def no_such_endpoint(rest: str):
        # Without it an unknown API path (or a known one with another method) would reach the page mounted at /
        # and be answered in its shape.
        raise ApiError(404, "not_found", "no such endpoint (see /openapi.json)")

    def _reindex() -> str:
        if service.reindexer is None:
            raise ApiError(503, "unavailable", "re-indexing is not available in this app")
        return service.reindexer.request()

    return app


def _problem(error: dict) -> str:
    """One validation problem as ``body.question: Field required``."""
    where = ".".join(str(part) for part in error.get("loc", ()))
    return f"{where}: {error.get('msg', 'invalid')}"


class BodyLimit:
    """ASGI middleware: an API request body over its limit is refused with 413 before it is read whole (a declared
    length at once; a streamed body once it passes the limit). Uploads have their own, larger limit."""

    def __init__(self, app, max_bytes: int, max_upload_bytes: int, max_page_bytes: int | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes
        self.max_page_bytes = max_page_bytes or max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith((*API_PREFIXES, *PAGE_API_PREFIXES)):
            return await self.app(scope, receive, send)
        upload = scope["path"].rstrip("/") == "/api/documents" and scope["method"] == "POST"
        page = scope["path"].startswith(PAGE_API_PREFIXES)
        limit = self.max_upload_bytes if upload else self.max_page_bytes if page else self.max_bytes
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            return await _too_large(send, limit)
        seen = 0
        too_large = False

        async def counted():
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    too_large = True
                    raise _TooLarge
            return message

        replaced = False

        async def answered(message):
            nonlocal replaced
            if message["type"] == "http.response.start" and too_large:
                replaced = True  # the app answered its interrupted read (e.g. FastAPI's 400): say why instead
                return await _too_large(send, limit)
            if not replaced:
                await send(message)

        try:
            return await self.app(scope, counted, answered)
        except _TooLarge:
            if not replaced:
                return await _too_large(send, limit)


class _TooLarge(Exception):
    pass


async def _too_large(send, limit: int) -> None:
    body = json.dumps({"error": "too_large", "message": f"the request body is larger than {limit} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
