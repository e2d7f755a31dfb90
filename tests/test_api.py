"""The HTTP API on the seed corpus with the fake embedder: answers and conversations, the OpenAI-compatible
endpoint (through the ``openai`` package against a real server on loopback), admin endpoints, bad input, limits."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from fastapi.testclient import TestClient

from index.build import build
from serve.factory import make_app
from tests.conftest import ADMIN_TOKEN, ROOT
from tests.servers import AppServer, free_port

TOKEN = ADMIN_TOKEN
JILIN = "吉林省对专精特新企业的专利保险费有补助吗?"




ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def continued(started: dict) -> dict:
    """The fields that continue a stored conversation: its id and the secret it was started with."""
    return {"conversation_id": started["conversation_id"], "conversation_secret": started["conversation_secret"]}


def test_ask_returns_the_format_object_and_the_answers_parts(client):
    reply = client.post("/api/ask", json={"question": JILIN})
    assert reply.status_code == 200
    data = reply.json()
    assert {"question", "answer", "refused", "citations", "retrieved", "latency_ms"} <= set(data)  # qa/FORMAT.md
    assert {"body", "notes", "sources", "reason", "conversation_id", "turn"} <= set(data)
    assert not data["refused"] and "3年" in data["answer"] and data["turn"] == 0
    assert data["citations"][0]["clause"] == "二、（三）14"
    assert any("3年" in sentence for sentence in data["sources"][0]["sentences"])


def test_a_follow_up_in_a_stored_conversation_uses_only_that_conversations_history(client):
    first = client.post("/api/ask", json={"question": JILIN}).json()
    other = client.post("/api/ask", json={"question": "日照每年组织多少家专精特新企业参加上市挂牌培训?"}).json()
    follow = client.post("/api/ask", json={"question": "最多补几年?", **continued(first)}).json()
    assert follow["turn"] == 1 and "3年" in follow["answer"] and "专利保险" in follow["resolved_question"]
    assert "挂牌" not in follow["resolved_question"] and other["conversation_id"] != first["conversation_id"]
    alone = client.post("/api/ask", json={"question": "最多补几年?"}).json()
    assert alone["refused"]  # without the history there is nothing to follow


def test_a_history_kept_by_the_client_gives_the_same_answer(client):
    stored = client.post("/api/ask", json={"question": JILIN}).json()
    follow = client.post("/api/ask", json={"question": "最多补几年?", **continued(stored)}).json()
    kept = client.post("/api/ask", json={"question": "最多补几年?", "history": [
        {"role": "user", "content": JILIN}, {"role": "assistant", "content": stored["answer"]}]}).json()
    assert kept["answer"] == follow["answer"] and kept["conversation_id"] is None


def test_an_unknown_generator_is_a_400_naming_the_known_ones(client):
    reply = client.post("/api/ask", json={"question": JILIN, "generator": "gpt-9"})
    assert reply.status_code == 400 and "extractive" in reply.json()["message"]
    assert client.post("/api/ask", json={"question": JILIN, "generator": "extractive"}).status_code == 200


def test_a_generator_clients_may_choose_but_not_set_up_is_a_400_naming_no_path(api_settings, fake_embedder):
    settings = api_settings.model_copy(update={"api_generators": ["openai", "llamacpp"]})
    build(settings, fake_embedder, progress=False)
    with TestClient(make_app(settings, embedder=fake_embedder, warm_up=False)) as client:
        reply = client.post("/api/ask", json={"question": JILIN, "generator": "openai"})  # no POLICYQA_LLM_BASE_URL
        assert reply.status_code == 400 and reply.json()["error"] == "generator_unavailable"
        local = client.post("/v1/chat/completions", json={"model": "policyqa-llamacpp",
                                                          "messages": [{"role": "user", "content": JILIN}]})
        assert local.status_code == 400 and set(local.json()) == {"error", "message"}
        assert str(settings.data_dir) not in local.text and ".gguf" not in local.text  # the model file's path


def test_a_client_may_not_choose_a_generator_the_settings_do_not_offer(client):
    reply = client.post("/api/ask", json={"question": JILIN, "generator": "openai"})
    assert reply.status_code == 400 and reply.json()["error"] == "unknown_generator"
    for model in ("policyqa-openai", "gpt-4o"):
        reply = client.post("/v1/chat/completions", json={"model": model, "messages": [{"role": "user", "content": JILIN}]})
        assert reply.status_code == 404 and reply.json()["error"] == "model_not_found", model
    assert [m["id"] for m in client.get("/v1/models").json()["data"]] == ["policyqa-extractive"]


@pytest.mark.parametrize("body", [b"{bad json", b"[]", b'{"question": 5}', b'{"q": "x"}', "问题".encode()])
def test_malformed_json_gets_a_4xx_with_a_message(client, body):
    reply = client.post("/api/ask", content=body, headers={"content-type": "application/json"})
    assert 400 <= reply.status_code < 500 and reply.json()


def test_an_oversized_body_is_refused_with_413_declared_or_streamed(client, api_settings):
    big = {"question": "吉" * (api_settings.max_request_bytes // 2)}
    assert client.post("/api/ask", json=big).status_code == 413

    def chunks():
        yield b'{"question": "'
        for _ in range(api_settings.max_request_bytes // 1000 + 2):
            yield b"x" * 1000
        yield b'"}'

    reply = client.post("/api/ask", content=chunks(), headers={"content-type": "application/json"})
    assert reply.status_code == 413 and reply.json()["error"] == "too_large"


def corpus_state(settings) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in settings.corpus_dir.iterdir()}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}])
def test_admin_endpoints_without_the_token_are_401_and_change_nothing(client, api_settings, app, headers):
    before = corpus_state(api_settings)
    calls = [("get", "/api/documents", {}), ("post", "/api/reindex", {}),
             ("delete", "/api/documents/001_5d1d8b0e57c0f4b0", {}),
             ("post", "/api/documents?filename=new.txt", {"content": "吉林省新政策。".encode()})]
    for method, path, extra in calls:
        reply = getattr(client, method)(path, headers=headers, **extra)
        assert reply.status_code == 401 and reply.headers["www-authenticate"] == "Bearer"
    assert corpus_state(api_settings) == before
    assert app.state.service.reindexer.builds == 0


def test_admin_endpoints_are_off_without_a_configured_token(settings, fake_embedder):
    build(settings, fake_embedder, progress=False)
    with TestClient(make_app(settings, embedder=fake_embedder, warm_up=False)) as client:
        assert client.get("/api/documents", headers={"Authorization": "Bearer "}).status_code == 404
        assert client.post("/api/reindex").status_code == 404


@pytest.mark.parametrize(("filename", "content", "status"), [
    ("../escape.txt", "吉林".encode(), 400),
    (".hidden.txt", "吉林".encode(), 400),
    ("policy.exe", b"MZ", 415),
    ("fake.pdf", "不是PDF".encode(), 415),
    ("binary.txt", b"\xff\xfe\x00\x81\xff" * 10, 415),
    ("empty.txt", b"", 400),
])
def test_uploads_are_checked_before_anything_is_written(client, api_settings, filename, content, status):
    before = corpus_state(api_settings)
    reply = client.post("/api/documents", params={"filename": filename}, content=content, headers=ADMIN)
    assert reply.status_code == status, reply.text
    assert corpus_state(api_settings) == before


def test_an_upload_larger_than_the_limit_is_413_and_not_stored(client, api_settings):
    before = corpus_state(api_settings)
    big = "吉林".encode() * (api_settings.max_upload_bytes // 6 + 1)
    reply = client.post("/api/documents", params={"filename": "big.txt"}, content=big, headers=ADMIN)
    assert reply.status_code == 413 and corpus_state(api_settings) == before


def test_upload_then_delete_a_document_is_indexed_in_the_background(client, app):
    reindexer = app.state.service.reindexer
    text = "关于支持辽宁省专精特新企业发展的若干措施\n一、对新认定的辽宁省专精特新企业给予一次性奖励30万元。\n"
    reply = client.post("/api/documents", params={"filename": "辽宁措施.txt"}, content=text.encode(), headers=ADMIN)
    assert reply.status_code == 202 and reply.json()["indexing"] in ("started", "queued")
    assert reply.json()["doc_id"] == "辽宁措施"
    reindexer.wait()
    listed = client.get("/api/documents", headers=ADMIN).json()
    assert "辽宁措施" in {d["doc_id"] for d in listed["documents"]} and listed["indexing"]["last_error"] == ""
    assert "30万元" in client.post("/api/ask", json={"question": "辽宁对新认定的专精特新企业奖励多少?"}).json()["answer"]
    assert client.delete("/api/documents/辽宁措施", headers=ADMIN).status_code == 202
    reindexer.wait()
    assert "辽宁措施" not in {d["doc_id"] for d in client.get("/api/documents", headers=ADMIN).json()["documents"]}
    assert client.delete("/api/documents/辽宁措施", headers=ADMIN).status_code == 404


def test_a_document_deleted_and_re_added_while_questions_are_asked(client, app, api_settings):
    """Questions asked meanwhile are all answered (from the generation they started on); afterwards the answer is
    the one from before."""
    question = "日照市对达到考核目标的区县最高奖励多少?"
    before = client.post("/api/ask", json={"question": question}).json()
    doc_id = before["citations"][0]["doc_id"]
    source = next(p for p in api_settings.corpus_dir.iterdir() if p.stem == doc_id)
    content = source.read_bytes()
    statuses, stop = [], threading.Event()

    def keep_asking():
        while not stop.is_set():
            statuses.append(client.post("/api/ask", json={"question": question}).status_code)

    asker = threading.Thread(target=keep_asking)
    asker.start()
    try:
        assert client.delete(f"/api/documents/{doc_id}", headers=ADMIN).status_code == 202
        app.state.service.reindexer.wait()
        gone = client.post("/api/ask", json={"question": question}).json()
        assert doc_id not in {c["doc_id"] for c in gone["citations"]}
        reply = client.post("/api/documents", params={"filename": source.name}, content=content, headers=ADMIN)
        assert reply.status_code == 202
        app.state.service.reindexer.wait()
    finally:
        stop.set()
        asker.join()
    assert statuses and set(statuses) == {200}
    assert client.post("/api/ask", json={"question": question}).json()["answer"] == before["answer"]


def test_each_client_is_rate_limited_with_a_clear_429(api_settings, fake_embedder):
    settings = api_settings.model_copy(update={"api_requests_per_minute": 3})
    build(settings, fake_embedder, progress=False)
    with TestClient(make_app(settings, embedder=fake_embedder, warm_up=False)) as client:
        codes = [client.post("/api/ask", json={"question": JILIN}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = client.post("/api/ask", json={"question": JILIN})
        assert int(refused.headers["retry-after"]) >= 1 and "请求过于频繁" in refused.json()["message"]
        assert client.get("/healthz").status_code == 200  # health checks are never limited


def test_rotating_bearer_strings_or_forwarded_headers_share_the_addresses_allowance(api_settings, fake_embedder):
    settings = api_settings.model_copy(update={"api_requests_per_minute": 3, "api_keys": ["k-known-client-0001"]})
    build(settings, fake_embedder, progress=False)
    with TestClient(make_app(settings, embedder=fake_embedder, warm_up=False)) as client:
        codes = [client.post("/api/ask", json={"question": JILIN}, headers={
            "Authorization": f"Bearer k{i}", "X-Forwarded-For": f"10.0.0.{i}"}).status_code for i in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        known = {"Authorization": "Bearer k-known-client-0001"}  # a configured API key is a client of its own
        assert client.post("/v1/chat/completions", headers=known,
                           json={"messages": [{"role": "user", "content": JILIN}]}).status_code == 200


def test_cors_allows_the_configured_portal_only_and_the_page_may_be_framed_by_it(api_settings, fake_embedder):
    portal = "http://127.0.0.1:8088"
    settings = api_settings.model_copy(update={"cors_origins": [portal]})
    build(settings, fake_embedder, progress=False)
    with TestClient(make_app(settings, embedder=fake_embedder, warm_up=False)) as client:
        preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
        allowed = client.options("/api/ask", headers={"Origin": portal, **preflight})
        assert allowed.headers.get("access-control-allow-origin") == portal
        other = client.options("/api/ask", headers={"Origin": "http://evil.example", **preflight})
        assert "access-control-allow-origin" not in other.headers
        for path in ("/", "/api/ask", "/openapi.json"):
            headers = client.get(path).headers
            policy = headers["content-security-policy"]
            assert f"frame-ancestors 'self' {portal}" in policy and "script-src 'self'" in policy, path
            assert "default-src 'self'" in policy and headers["x-content-type-options"] == "nosniff", path


def test_the_api_documentation_fetching_swagger_from_a_cdn_is_off_by_default(client):
    assert "cdn" not in client.get("/docs").text and client.get("/openapi.json").status_code == 200


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["documents"] == 5 and ready["vectors"] > 100


def test_the_openai_package_gets_answers_with_references_streamed_and_not(app):
    import openai

    with AppServer(app) as server:
        llm = openai.OpenAI(base_url=f"{server.url}/v1", api_key="any-key", max_retries=0)
        reply = llm.chat.completions.create(model="policyqa", messages=[
            {"role": "system", "content": "你是政策助手"}, {"role": "user", "content": JILIN},
            {"role": "assistant", "content": "……"}, {"role": "user", "content": "最多补几年?"}])
        assert "3年" in reply.choices[0].message.content and reply.model == "policyqa-extractive"
        assert reply.references[0]["clause"] == "二、（三）14" and reply.references[0]["sentences"]
        pieces, references = [], None
        for chunk in llm.chat.completions.create(model="policyqa", stream=True,
                                                 messages=[{"role": "user", "content": JILIN}]):
            pieces.append(chunk.choices[0].delta.content or "")
            references = getattr(chunk, "references", None) or references
        assert "".join(pieces) == llm.chat.completions.create(
            model="policyqa", messages=[{"role": "user", "content": JILIN}]).choices[0].message.content
        assert len(pieces) > 3 and references and references[0]["doc_id"]


def test_the_stream_ends_with_done_in_openais_format(client):
    with client.stream("POST", "/v1/chat/completions",
                       json={"stream": True, "messages": [{"role": "user", "content": JILIN}]}) as reply:
        assert reply.headers["content-type"].startswith("text/event-stream")
        events = [line for line in reply.iter_lines() if line]
    assert events[-1] == "data: [DONE]" and all(e.startswith("data: ") for e in events)


def test_the_database_unreachable_at_start_is_one_line_and_a_non_zero_exit(tmp_path):
    env = {**os.environ, "POLICYQA_DATA_DIR": str(tmp_path / "data"),
           "POLICYQA_DATABASE_URL": f"postgresql+psycopg://policyqa@127.0.0.1:{free_port()}/postgres"}
    done = subprocess.run([sys.executable, "ui.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "error: the database postgresql+psycopg://policyqa@127.0.0.1" in done.stderr and "cannot be reached" in done.stderr
    assert "Traceback" not in done.stderr
