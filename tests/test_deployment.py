"""The two deployments answer the dev set exactly as the command line does: one app over embedded Chroma and
SQLite; two app copies over one Chroma server and one PostgreSQL, a conversation's turns alternating between
them. Real model, real servers on loopback."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from evaluation.runner import load_cases, run_case
from serve.factory import make_app, make_assistant
from tests.conftest import ROOT
from tests.servers import AppServer, ChromaServer, PostgresServer

pytestmark = pytest.mark.slow
DEV = ROOT / "qa" / "dev.jsonl"


def compared(result: dict) -> dict:
    """What must be the same: the answer, whether it was refused, and what it cites."""
    return {"answer": result["answer"], "refused": result["refused"],
            "citations": [(c["doc_id"], c["clause"]) for c in result["citations"]]}


@pytest.fixture(scope="module")
def cli_results(real_index) -> dict[str, dict]:
    """The dev set as ``python -m assistant eval`` answers it (the evaluation runner over the assistant)."""
    cases, _ = load_cases(DEV)
    assistant = make_assistant(real_index)
    return {case.id: compared(run_case(assistant, case)) for case in cases}


def ask_over_api(urls: list[str]) -> dict[str, dict]:
    """Every dev case through /api/ask in a conversation of its own; turn i goes to copy i mod len(urls)."""
    cases, _ = load_cases(DEV)
    results = {}
    with httpx.Client(timeout=60) as http:
        for case in cases:
            started: dict = {}  # the first message starts a conversation; the server issues its id and secret
            for position, turn in enumerate(case.turns):
                reply = http.post(f"{urls[position % len(urls)]}/api/ask", json={"question": turn, **started})
                assert reply.status_code == 200, reply.text
                assert reply.json()["turn"] == position
                started = started or {"conversation_id": reply.json()["conversation_id"],
                                      "conversation_secret": reply.json()["conversation_secret"]}
            results[case.id] = compared(reply.json())
    return results


def server_data_dir(real_index, folder: Path) -> Path:
    """A fresh data directory seeded with the real index's embedding cache (nothing is embedded again)."""
    (folder / "index").mkdir(parents=True)
    shutil.copy(Path(real_index.data_dir) / "index" / "embeddings.sqlite", folder / "index")
    return folder


def test_the_api_answers_the_dev_set_as_the_command_line_does(real_index, cli_results):
    settings = real_index.model_copy(update={"api_requests_per_minute": 0})
    with AppServer(make_app(settings, warm_up=False)) as server:
        assert ask_over_api([server.url]) == cli_results


def test_two_copies_over_a_chroma_server_and_postgresql_answer_the_same(real_index, cli_results, tmp_path):
    chroma = ChromaServer(tmp_path / "chroma-server").start()
    postgres = PostgresServer().start()
    try:
        settings = real_index.model_copy(update={
            "data_dir": server_data_dir(real_index, tmp_path / "data"), "vector_store": "chroma-http",
            "vector_store_url": chroma.url, "database_url": postgres.url, "api_requests_per_minute": 0,
        })
        first = make_app(settings, warm_up=False)  # builds the index into the Chroma server (cached vectors)
        second = make_app(settings, warm_up=False)
        with AppServer(first) as one, AppServer(second) as two:
            assert httpx.get(f"{two.url}/readyz").json()["status"] == "ready"
            assert ask_over_api([one.url, two.url]) == cli_results
        import chromadb

        client = chromadb.HttpClient(host="127.0.0.1", port=chroma.port)
        assert [c.name for c in client.list_collections()] == ["clauses-gen1"]  # the vectors are on the server
    finally:
        chroma.stop()
        postgres.remove()
