"""The OpenAI-compatible generator when its endpoint misbehaves: down, too slow, answering garbage or an error.
Each time the extractive answer is shown with a note, within the timeout from the settings, without a traceback,
and the API key is never logged. The endpoints are tiny HTTP servers on loopback, started by the tests."""

from __future__ import annotations

import http.server
import json
import logging
import socket
import threading
import time

import pytest

from assistant.generators import generator_factory
from assistant.types import Evidence, Query
from core.settings import Settings
from index.clauses import split_clauses
from tests.test_clean import RIZHAO
from tests.test_generators import snapshot_of
from tests.test_metadata import doc

KEY = "sk-test-never-shown-0123456789"
QUESTION = Query("日照对新认定的独角兽企业奖励多少?", "日照对新认定的独角兽企业奖励多少?")


def _completion(content: str) -> bytes:
    return json.dumps({
        "id": "x", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }).encode()


BEHAVIOURS = {
    "hangs": lambda handler: time.sleep(5),
    "garbage": lambda handler: handler.reply(200, b"<html>not json at all</html>", "text/html"),
    "broken_json": lambda handler: handler.reply(200, b'{"choices": [', "application/json"),
    "server_error": lambda handler: handler.reply(500, b'{"error": {"message": "boom"}}', "application/json"),
    "nonsense_answer": lambda handler: handler.reply(200, _completion("asdf qwer 999"), "application/json"),
    "good": lambda handler: handler.reply(
        200, _completion("对新获得认定的独角兽企业给予最高300万元一次性奖励[1]。"), "application/json"),
}


def _serve(behaviour: str):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.server.seen_keys.append(self.headers.get("Authorization", ""))
            BEHAVIOURS[behaviour](self)

        def reply(self, status: int, body: bytes, content_type: str):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.seen_keys = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def evidence():
    clauses = split_clauses(doc(RIZHAO))
    best = next(c for c in clauses if c.clause_path == "三、（一）2")
    return clauses, [Evidence(best, 1.0, 1)]


def _ask(url: str, evidence, timeout: float = 1.0):
    clauses, items = evidence
    settings = Settings(generator="openai", llm_base_url=url, llm_api_key=KEY, llm_timeout_seconds=timeout)
    generator = generator_factory(settings)(snapshot_of(clauses))
    started = time.monotonic()
    draft = generator.answer(QUESTION, items)
    return draft, time.monotonic() - started


@pytest.mark.parametrize("behaviour", ["hangs", "garbage", "broken_json", "server_error", "nonsense_answer"])
def test_a_misbehaving_endpoint_gives_the_extractive_answer_in_time_and_never_logs_the_key(behaviour, evidence, caplog):
    server = _serve(behaviour)
    try:
        with caplog.at_level(logging.DEBUG):
            draft, took = _ask(f"http://127.0.0.1:{server.server_address[1]}/v1", evidence)
    finally:
        server.shutdown()
    assert draft.guard.fallback and not draft.guard.passed
    assert "300万元" in draft.text  # the extractive answer
    assert took < 4.0  # two tries at most, each cut at the 1 s timeout
    assert KEY not in caplog.text and KEY not in draft.guard.error
    assert server.seen_keys and all(seen == f"Bearer {KEY}" for seen in server.seen_keys)  # the key was sent


def test_an_endpoint_that_is_down_gives_the_extractive_answer(evidence):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    draft, took = _ask(f"http://127.0.0.1:{port}/v1", evidence)
    assert draft.guard.fallback and draft.guard.error and "300万元" in draft.text and took < 4.0


def test_a_working_endpoint_answers_through_the_guard(evidence):
    server = _serve("good")
    try:
        draft, _ = _ask(f"http://127.0.0.1:{server.server_address[1]}/v1", evidence)
    finally:
        server.shutdown()
    assert draft.guard.passed and not draft.guard.fallback
    assert draft.text == "对新获得认定的独角兽企业给予最高300万元一次性奖励[1]。"


def test_the_key_is_never_in_the_settings_repr():
    settings = Settings(generator="openai", llm_base_url="http://127.0.0.1:1/v1", llm_api_key=KEY)
    assert KEY not in repr(settings) and KEY not in str(settings.model_dump())
