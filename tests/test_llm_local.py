"""The LLM generators with the real local model (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M): through ChatLlamaCpp in
process, and through the OpenAI-compatible generator against a real ``llama_cpp.server`` started on loopback by
the test. Slow (tens of seconds an answer); run with ``make test-llm``."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from assistant.generators import generator_factory
from assistant.generators.llm import streaming_to
from assistant.numbers import unsupported
from assistant.types import Evidence, Query
from core.settings import Settings
from index.clauses import split_clauses
from tests.test_clean import RIZHAO
from tests.test_generators import snapshot_of
from tests.test_metadata import doc

pytestmark = [pytest.mark.slow, pytest.mark.llm]
MODEL = Settings().resolved_llm_model_path()
QUESTION = Query("日照市对新获得认定的独角兽企业奖励多少?", "日照市对新获得认定的独角兽企业奖励多少?")


@pytest.fixture(scope="module")
def rizhao():
    if not MODEL.exists():
        pytest.fail(f"no local model at {MODEL}: run `make model`")
    clauses = split_clauses(doc(RIZHAO))
    best = next(c for c in clauses if c.clause_path == "三、（一）2")
    others = [c for c in clauses if c.clause_path.startswith("三、") and c is not best][:2]
    return clauses, [Evidence(best, 1.0, 1), *(Evidence(c, 0.5, i) for i, c in enumerate(others, 2))]


def assert_guarded(draft, evidence):
    """Whatever the model wrote, what is shown passed the guard or is the extractive answer."""
    assert draft.guard is not None and draft.sources
    if draft.guard.fallback:
        return
    assert draft.guard.passed
    assert all(source in [e.clause for e in evidence] for source in draft.sources)
    texts = [f"{c.name} {c.reference} {c.text}" for c in draft.sources]
    assert unsupported(draft.text.replace("[1]", "").replace("[2]", "").replace("[3]", ""), texts) == []


def test_the_local_model_answers_through_the_guard_and_streams(rizhao):
    clauses, evidence = rizhao
    generator = generator_factory(Settings(generator="llamacpp"))(snapshot_of(clauses))
    tokens: list[str] = []
    started = time.monotonic()
    with streaming_to(tokens.append):
        draft = generator.answer(QUESTION, evidence)
    took = time.monotonic() - started
    assert tokens, "nothing was streamed"
    assert_guarded(draft, evidence)
    assert "300万元" in draft.text
    assert took < 240


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    """A real OpenAI-compatible server (llama_cpp.server) on loopback, serving the local model."""
    port = _free_port()
    log = Path(tmp_path_factory.mktemp("server")) / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(MODEL), "--host", "127.0.0.1", "--port", str(port),
             "--n_ctx", "2048", "--n_threads", "2", "--n_batch", "512", "--model_alias", "local"],
            stdout=out, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/models", timeout=2) as response:
                    if json.load(response)["data"]:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start: {log.read_text()[-2000:]}")
            time.sleep(1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_openai_generator_answers_from_a_real_compatible_server(rizhao, llama_server):
    clauses, evidence = rizhao
    settings = Settings(generator="openai", llm_base_url=llama_server, llm_model="local", llm_api_key="sk-local-test",
                        llm_timeout_seconds=240)
    generator = generator_factory(settings)(snapshot_of(clauses))
    tokens: list[str] = []
    with streaming_to(tokens.append):
        draft = generator.answer(QUESTION, evidence)
    assert tokens and not draft.guard.error, draft.guard
    assert_guarded(draft, evidence)
    assert "300万元" in draft.text
