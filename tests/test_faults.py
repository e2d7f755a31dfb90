"""Faults while the service runs over a Chroma server: the server stopped and started again, and a build killed
with SIGKILL midway. The app keeps answering or says plainly that it cannot, and recovers by itself."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient

from index.build import build
from index.embeddings import make_embedder
from serve.factory import make_app
from tests.conftest import ROOT
from tests.servers import ChromaServer, wait_for
from tests.test_deployment import server_data_dir

pytestmark = pytest.mark.slow
QUESTION = "日照市对达到考核目标的区县最高奖励多少?"


@pytest.fixture
def chroma(tmp_path):
    server = ChromaServer(tmp_path / "chroma-server").start()
    yield server
    server.stop()


@pytest.fixture
def server_settings(real_index, corpus_dir, chroma, tmp_path):
    return real_index.model_copy(update={
        "data_dir": server_data_dir(real_index, tmp_path / "data"), "corpus_dir": corpus_dir,
        "vector_store": "chroma-http", "vector_store_url": chroma.url, "api_requests_per_minute": 0,
    })


def test_the_chroma_server_stopped_and_back(server_settings, chroma):
    with TestClient(make_app(server_settings, warm_up=False)) as client:
        before = client.post("/api/ask", json={"question": QUESTION}).json()
        assert client.get("/readyz").status_code == 200 and "300万元" in before["answer"]
        chroma.stop()
        assert client.get("/readyz").status_code == 503
        assert client.get("/healthz").status_code == 200  # the process is up
        down = client.post("/api/ask", json={"question": QUESTION})
        assert down.status_code == 503 and "暂时无法服务" in down.json()["message"]
        assert down.headers["retry-after"]
        openai_down = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION}]})
        assert openai_down.status_code == 503 and "暂时无法服务" in openai_down.json()["message"]
        chroma.start()  # same folder, same port; the app is not restarted
        wait_for(lambda: client.get("/readyz").status_code == 200, 30, "readiness")
        assert client.post("/api/ask", json={"question": QUESTION}).json()["answer"] == before["answer"]


def cached_vectors(settings) -> int:
    with sqlite3.connect(settings.data_dir / "index" / "embeddings.sqlite") as db:
        return db.execute("SELECT count(*) FROM vectors").fetchone()[0]


def test_a_build_killed_midway_leaves_the_previous_index_answering_and_the_next_build_completes(server_settings):
    jilin = (server_settings.corpus_dir / "004_ed6825514d89ba11.txt").read_text(encoding="utf-8")
    for old, new in (("吉林", "辽宁"), ("的", "之"), ("企业", "公司"), ("。", "；")):  # every clause new: embedded
        jilin = jilin.replace(old, new)
    with TestClient(make_app(server_settings, warm_up=False)) as client:  # builds generation 1
        (server_settings.corpus_dir / "辽宁方案.txt").write_text(jilin, encoding="utf-8")
        before = client.post("/api/ask", json={"question": QUESTION}).json()
        assert client.get("/readyz").json()["generation"] == 1
        cached = cached_vectors(server_settings)
        env = {**os.environ, "POLICYQA_DATA_DIR": str(server_settings.data_dir),
               "POLICYQA_CORPUS_DIR": str(server_settings.corpus_dir), "POLICYQA_VECTOR_STORE": "chroma-http",
               "POLICYQA_VECTOR_STORE_URL": server_settings.vector_store_url, "POLICYQA_EMBED_BATCH_SIZE": "4"}
        builder = subprocess.Popen([sys.executable, "-m", "index", "build"], cwd=ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            answered = []
            deadline = time.monotonic() + 180
            while cached_vectors(server_settings) < cached + 8:  # midway: some batches of the new clauses are in
                assert builder.poll() is None and time.monotonic() < deadline, "the build ended before it was killed"
                reply = client.post("/api/ask", json={"question": QUESTION})
                answered.append(reply.status_code)
                assert reply.json()["answer"] == before["answer"]
                time.sleep(0.2)
            builder.send_signal(signal.SIGKILL)
            builder.wait(30)
        finally:
            if builder.poll() is None:
                builder.kill()
        assert builder.returncode == -signal.SIGKILL and answered and set(answered) == {200}
        assert client.get("/readyz").json()["generation"] == 1
        assert client.post("/api/ask", json={"question": QUESTION}).json()["answer"] == before["answer"]
        killed_at = cached_vectors(server_settings)
        result = build(server_settings, make_embedder(server_settings), progress=False)
        assert result.generation.number == 2 and "辽宁方案" in {d.doc_id for d in result.generation.docs}
        assert 0 < result.embedded == cached_vectors(server_settings) - killed_at  # the killed build's work was kept
        wait_for(lambda: client.get("/readyz").json().get("generation") == 2, 30, "the new generation")
        assert client.post("/api/ask", json={"question": QUESTION}).json()["answer"] == before["answer"]
        liaoning = client.post("/api/ask", json={"question": "辽宁省对专精特新公司之专利保险费有补助吗?"}).json()
        assert "辽宁方案" in {c["doc_id"] for c in liaoning["citations"]}


def test_the_database_stopped_and_back(real_index, tmp_path):
    from tests.servers import PostgresServer

    postgres = PostgresServer().start()
    try:
        settings = real_index.model_copy(update={"database_url": postgres.url, "api_requests_per_minute": 0})
        with TestClient(make_app(settings, warm_up=False)) as client:
            first = client.post("/api/ask", json={"question": "吉林省对专精特新企业的专利保险费有补助吗?"}).json()
            postgres.stop()
            continued = {"conversation_id": first["conversation_id"], "conversation_secret": first["conversation_secret"]}
            down = client.post("/api/ask", json={"question": "最多补几年?", **continued})
            assert down.status_code == 503 and "暂时无法服务" in down.json()["message"]
            postgres.start()
            again = client.post("/api/ask", json={"question": "最多补几年?", **continued})
            assert again.status_code == 200 and again.json()["turn"] == 1 and "3年" in again.json()["answer"]
    finally:
        postgres.remove()
