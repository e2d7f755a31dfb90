"""Tickets: a refusal, a "not sure", a thumbs-down or the asker's "转人工" hands a conversation turn to staff; staff
reply into the asker's conversation (once), which its asker reads back with the secret; the webhook; the staff
token; restarts, an older data directory, a deleted conversation and a database that stops answering."""

from __future__ import annotations

import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from fastapi.testclient import TestClient

from index.build import build
from serve.factory import make_app
from serve.feedback import FeedbackStore
from serve.handoff import asks_for_person
from serve.store import ConversationStore, open_database

STAFF_TOKEN = "staff-desk-token"
STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}
NO_BASIS = "公司交公积金有补贴吗?"  # no document speaks of 公积金: "not sure", with related clauses
ANSWERED = "吉林省对专精特新企业的专利保险费有补助吗?"


@pytest.fixture
def desk_settings(api_settings):
    return api_settings.model_copy(update={"staff_token": STAFF_TOKEN, "reply_unit": "吉林省工业和信息化厅"})


@pytest.fixture
def desk_client(desk_settings, fake_embedder):
    build(desk_settings, fake_embedder, progress=False)
    with TestClient(make_app(desk_settings, embedder=fake_embedder, warm_up=False)) as client:
        yield client


def secret_of(started: dict) -> dict:
    return {"X-Conversation-Secret": started["conversation_secret"]}


def ask(client, question: str, started: dict | None = None, **extra) -> dict:
    body = {"question": question, **extra}
    if started:
        body.update(conversation_id=started["conversation_id"], conversation_secret=started["conversation_secret"])
    reply = client.post("/api/ask", json=body)
    assert reply.status_code == 200, reply.text
    return reply.json()


def queue(client, **params) -> dict:
    reply = client.get("/api/tickets", headers=STAFF, params=params)
    assert reply.status_code == 200, reply.text
    return reply.json()


@pytest.mark.parametrize(("message", "asks"), [
    ("转人工", True),
    ("转人工！", True),
    ("我要找人工客服", True),
    ("轉人工", True),  # traditional
    ("能不能找人工？", True),
    ("请帮我联系工作人员", True),
    ("人工智能企业有什么补贴?", False),
    ("专精特新企业的认定条件是什么?", False),
    ("人工成本能补贴吗?", False),
])
def test_the_askers_request_for_a_person_is_read_from_the_rules_file(message, asks):
    assert asks_for_person(message) is asks


def test_a_not_sure_answer_opens_a_ticket_with_its_question_attempt_and_closest_clauses(desk_client):
    started = ask(desk_client, NO_BASIS, contact="13800000000")
    assert started["refused"] and started["related"]
    found = queue(desk_client)
    assert found["counts"] == {"open": 1, "in_progress": 0, "answered": 0}
    ticket = found["tickets"][0]
    assert ticket["conversation_id"] == started["conversation_id"] and ticket["turn"] == 0
    assert ticket["question"] == NO_BASIS and ticket["attempt"] == started["answer"]
    assert ticket["reason"] == "not_sure" and ticket["contact"] == "13800000000" and ticket["status"] == "open"
    assert len(ticket["clause_ids"]) == len(started["related"]) > 0


def test_an_answered_question_opens_no_ticket_and_chit_chat_neither(desk_client):
    started = ask(desk_client, ANSWERED)
    ask(desk_client, "你好", started)
    assert queue(desk_client)["tickets"] == []


def test_the_askers_request_for_a_person_hands_over_the_turn_it_follows_once(desk_client):
    started = ask(desk_client, ANSWERED)
    person = ask(desk_client, "转人工", started)
    assert person["refused"] and person["reason"] == "handoff" and "工作人员" in person["answer"]
    again = desk_client.post(f"/api/conversations/{started['conversation_id']}/handoff",
                             json={"conversation_secret": started["conversation_secret"], "turn": 0,
                                   "contact": "liu@example.com"})
    assert again.status_code == 200
    tickets = queue(desk_client)["tickets"]
    assert len(tickets) == 1 and tickets[0]["turn"] == 0 and tickets[0]["question"] == ANSWERED
    assert tickets[0]["reason"] == "asked_for_person" and tickets[0]["contact"] == "liu@example.com"
    assert again.json()["ticket_id"] == tickets[0]["ticket_id"]
    follow = ask(desk_client, "最多补几年?", started)  # the conversation goes on from the question it followed
    assert "3年" in follow["answer"]


def test_a_thumbs_down_opens_the_turns_ticket_and_a_thumbs_up_does_not(desk_client):
    started = ask(desk_client, ANSWERED)
    base = f"/api/conversations/{started['conversation_id']}/feedback"
    up = desk_client.post(base, json={"conversation_secret": started["conversation_secret"], "turn": 0, "rating": 1})
    assert up.status_code == 200 and up.json()["ticket_id"] is None
    down = desk_client.post(base, json={"conversation_secret": started["conversation_secret"], "turn": 0,
                                        "rating": -1, "comment": "没说怎么申请"})
    assert down.status_code == 200 and down.json()["feedback"] == "updated" and down.json()["ticket_id"]
    ticket = queue(desk_client)["tickets"][0]
    assert ticket["reason"] == "thumbs_down" and ticket["attempt"] == started["answer"]
    wrong = desk_client.post(base, json={"conversation_secret": "guess", "turn": 0, "rating": -1})
    missing_turn = desk_client.post(base, json={"conversation_secret": started["conversation_secret"], "turn": 7,
                                                "rating": -1})
    bad = desk_client.post(base, json={"conversation_secret": started["conversation_secret"], "turn": 0, "rating": 5})
    assert wrong.status_code == 404 and missing_turn.status_code == 404 and "turn 7" in missing_turn.json()["message"]
    assert bad.status_code == 422 and "rating" in bad.json()["message"]


def test_a_staff_reply_reaches_the_askers_conversation_once(desk_client):
    started = ask(desk_client, NO_BASIS)
    ticket_id = queue(desk_client)["tickets"][0]["ticket_id"]
    shown = desk_client.get(f"/api/tickets/{ticket_id}", headers=STAFF).json()
    assert shown["conversation"]["messages"][0]["text"] == NO_BASIS and shown["draft"]
    assert desk_client.post(f"/api/tickets/{ticket_id}/status", headers=STAFF,
                            json={"status": "in_progress"}).json()["status"] == "in_progress"
    text = "您好！住房公积金缴存补贴不属于本知识库所列政策，请咨询当地住房公积金管理中心。"
    first = desk_client.post(f"/api/tickets/{ticket_id}/reply", headers=STAFF, json={"reply": text})
    second = desk_client.post(f"/api/tickets/{ticket_id}/reply", headers=STAFF, json={"reply": text + "（再发）"})
    assert first.json()["delivered"] is True and second.json()["delivered"] is False
    assert second.json()["ticket"]["reply"] == text and second.json()["ticket"]["status"] == "answered"
    view = desk_client.get(f"/api/conversations/{started['conversation_id']}", headers=secret_of(started)).json()
    roles = [m["role"] for m in view["messages"]]
    assert roles == ["user", "assistant", "staff"] and view["replied"]
    staff = view["messages"][2]
    assert staff["text"] == text and staff["unit"] == "吉林省工业和信息化厅"
    assert staff["label"].startswith("工作人员已答复（吉林省工业和信息化厅，") and "年" in staff["label"]
    assert view["messages"][1]["text"] == started["answer"]  # the assistant's answer is kept for a reload
    reopened = desk_client.post(f"/api/tickets/{ticket_id}/status", headers=STAFF, json={"status": "open"})
    assert reopened.status_code == 400 and "answered" in reopened.json()["message"]
    assert queue(desk_client)["counts"] == {"open": 0, "in_progress": 0, "answered": 1}


def test_a_conversation_is_read_back_only_with_its_secret(desk_client):
    started = ask(desk_client, ANSWERED)
    path = f"/api/conversations/{started['conversation_id']}"
    assert desk_client.get(path).status_code == 404
    assert desk_client.get(path, headers={"X-Conversation-Secret": "guess"}).status_code == 404
    assert desk_client.get("/api/conversations/0123abcd", headers=secret_of(started)).status_code == 404


def test_a_reply_to_a_deleted_conversation_is_refused_and_kept_as_the_draft(desk_client):
    started = ask(desk_client, NO_BASIS)
    ticket_id = queue(desk_client)["tickets"][0]["ticket_id"]
    deleted = desk_client.delete(f"/api/conversations/{started['conversation_id']}", headers=secret_of(started))
    assert deleted.status_code == 200
    reply = desk_client.post(f"/api/tickets/{ticket_id}/reply", headers=STAFF, json={"reply": "请咨询公积金中心。"})
    assert reply.status_code == 409 and reply.json()["error"] == "conversation_gone"
    ticket = desk_client.get(f"/api/tickets/{ticket_id}", headers=STAFF).json()
    assert ticket["ticket"]["status"] == "open" and ticket["draft"] == "请咨询公积金中心。"
    assert ticket["conversation"]["messages"] == []


def test_bad_desk_input_is_a_plain_error(desk_client):
    ask(desk_client, NO_BASIS)
    ticket_id = queue(desk_client)["tickets"][0]["ticket_id"]
    assert desk_client.get("/api/tickets/99999", headers=STAFF).status_code == 404
    # A number beyond the database's integers (the fuzzer's 2**63) is a plain error, not a 500.
    for path in ("/api/tickets/9223372036854775808", "/api/tickets/0"):
        huge = desk_client.get(path, headers=STAFF)
        assert huge.status_code == 422 and huge.json()["error"]
    assert desk_client.put("/api/entries/9223372036854775808", headers=STAFF,
                           json={"question": "问", "answer": "答", "clause_ids": []}).status_code == 422
    empty = desk_client.post(f"/api/tickets/{ticket_id}/reply", headers=STAFF, json={"reply": "   "})
    assert empty.status_code == 400 and "empty" in empty.json()["message"]
    unknown = desk_client.post(f"/api/tickets/{ticket_id}/status", headers=STAFF, json={"status": "closed"})
    assert unknown.status_code == 400 and "in_progress" in unknown.json()["message"]
    assert desk_client.get("/api/tickets", headers=STAFF, params={"status": "closed"}).status_code == 400


def test_the_queue_is_oldest_first_and_searchable(desk_client):
    ask(desk_client, NO_BASIS)
    ask(desk_client, "环评怎么办理?")
    tickets = queue(desk_client)["tickets"]
    assert [t["question"] for t in tickets] == [NO_BASIS, "环评怎么办理?"]
    assert [t["question"] for t in queue(desk_client, search="环评")["tickets"]] == ["环评怎么办理?"]
    assert queue(desk_client, search="100%_")["tickets"] == []  # LIKE's wildcards are searched as written
    assert queue(desk_client, status="answered")["tickets"] == []


def test_staff_endpoints_refuse_without_the_staff_token_and_slow_down_guesses(desk_client):
    ask(desk_client, NO_BASIS)
    assert desk_client.get("/api/tickets").status_code == 401
    assert desk_client.post("/api/tickets/1/reply", json={"reply": "x"}).status_code == 401
    statuses = [desk_client.get("/api/tickets", headers={"Authorization": "Bearer wrong"}).status_code
                for _ in range(12)]
    assert statuses[:10] == [401] * 10 and 429 in statuses[10:]


def test_the_desk_is_off_without_a_staff_or_admin_token(settings, fake_embedder):
    off = settings.model_copy(update={"api_requests_per_minute": 0})
    build(off, fake_embedder, progress=False)
    with TestClient(make_app(off, embedder=fake_embedder, warm_up=False)) as client:
        reply = client.get("/api/tickets", headers=STAFF)
        assert reply.status_code == 404 and "POLICYQA_STAFF_TOKEN" in reply.json()["message"]


class _Portal(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        _Portal.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_webhook_is_told_of_a_sent_reply_and_its_failure_loses_nothing(desk_settings, fake_embedder, caplog):
    portal = HTTPServer(("127.0.0.1", 0), _Portal)
    threading.Thread(target=portal.serve_forever, daemon=True).start()
    _Portal.received = []
    try:
        settings = desk_settings.model_copy(update={"reply_webhook": f"http://127.0.0.1:{portal.server_port}/notify"})
        build(settings, fake_embedder, progress=False)
        with TestClient(make_app(settings, embedder=fake_embedder, warm_up=False)) as client:
            started = ask(client, NO_BASIS, contact="13800000000")
            ticket_id = queue(client)["tickets"][0]["ticket_id"]
            client.post(f"/api/tickets/{ticket_id}/reply", headers=STAFF, json={"reply": "已答复。"})
            client.post(f"/api/tickets/{ticket_id}/reply", headers=STAFF, json={"reply": "已答复。"})
        assert len(_Portal.received) == 1  # sent twice, announced once
        notice = _Portal.received[0]
        assert notice["conversation_id"] == started["conversation_id"] and notice["reply"] == "已答复。"
        assert notice["contact"] == "13800000000" and notice["unit"] == "吉林省工业和信息化厅"
    finally:
        portal.shutdown()
        portal.server_close()
    closed = desk_settings.model_copy(update={"reply_webhook": f"http://127.0.0.1:{portal.server_port}/notify",
                                              "reply_webhook_timeout_seconds": 2})
    with TestClient(make_app(closed, embedder=fake_embedder, warm_up=False)) as client:
        started = ask(client, "环评怎么办理?")
        ticket_id = next(t["ticket_id"] for t in queue(client)["tickets"] if t["question"] == "环评怎么办理?")
        sent = client.post(f"/api/tickets/{ticket_id}/reply", headers=STAFF, json={"reply": "请咨询生态环境部门。"})
        assert sent.status_code == 200 and sent.json()["delivered"]
        view = client.get(f"/api/conversations/{started['conversation_id']}", headers=secret_of(started)).json()
        assert view["messages"][-1]["text"] == "请咨询生态环境部门。"
    assert "webhook failed" in caplog.text


def test_tickets_and_replies_survive_a_restart(desk_settings, fake_embedder):
    build(desk_settings, fake_embedder, progress=False)
    with TestClient(make_app(desk_settings, embedder=fake_embedder, warm_up=False)) as client:
        started = ask(client, NO_BASIS)
        ticket_id = queue(client)["tickets"][0]["ticket_id"]
    with TestClient(make_app(desk_settings, embedder=fake_embedder, warm_up=False)) as client:
        client.post(f"/api/tickets/{ticket_id}/reply", headers=STAFF, json={"reply": "已转交。"})
    with TestClient(make_app(desk_settings, embedder=fake_embedder, warm_up=False)) as client:
        view = client.get(f"/api/conversations/{started['conversation_id']}", headers=secret_of(started)).json()
        assert [m["role"] for m in view["messages"]] == ["user", "assistant", "staff"]
        assert queue(client)["counts"]["answered"] == 1


def test_a_data_directory_of_an_older_version_gains_the_new_tables_and_keeps_its_conversations(tmp_path):
    path = tmp_path / "feedback.sqlite"
    with sqlite3.connect(path) as old:  # the schema before tickets: no conversation_messages, no tickets
        old.executescript("""
            CREATE TABLE conversations (conversation_id VARCHAR(64) PRIMARY KEY, secret_sha256 VARCHAR(64) NOT NULL,
                                        created_at VARCHAR(32) NOT NULL);
            CREATE TABLE conversation_turns (conversation_id VARCHAR(64), position INTEGER, question TEXT NOT NULL,
                resolved TEXT NOT NULL, refused BOOLEAN NOT NULL, clause_ids TEXT NOT NULL, traditional BOOLEAN NOT NULL,
                created_at VARCHAR(32) NOT NULL, PRIMARY KEY (conversation_id, position));
            INSERT INTO conversations VALUES ('old1', 'x', '2026-11-01T00:00:00+00:00');
            INSERT INTO conversation_turns VALUES ('old1', 0, '专利保险费补几年?', '专利保险费补几年?', 0, '[]', 0,
                                                   '2026-11-01T00:00:00+00:00');
        """)
    engine = open_database(f"sqlite:///{path}")
    messages = ConversationStore(engine).messages("old1")
    assert [(m.role, m.text) for m in messages] == [("user", "专利保险费补几年?")]  # no answer text: older version
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"tickets", "conversation_messages", "conversation_turns", "conversations"} <= tables


@pytest.mark.slow
def test_the_desk_with_postgresql_stopped_and_back(desk_settings, fake_embedder):
    from tests.servers import PostgresServer

    postgres = PostgresServer().start()
    try:
        settings = desk_settings.model_copy(update={"database_url": postgres.url})
        build(settings, fake_embedder, progress=False)
        with TestClient(make_app(settings, embedder=fake_embedder, warm_up=False)) as client:
            started = ask(client, NO_BASIS)
            ticket_id = queue(client)["tickets"][0]["ticket_id"]
            postgres.stop()
            kept = client.post("/api/ask", json={"question": ANSWERED, "history": []})  # needs no database
            assert kept.status_code == 200 and "3年" in kept.json()["answer"]
            for reply in (client.get("/api/tickets", headers=STAFF), client.get("/api/entries", headers=STAFF),
                          client.post(f"/api/tickets/{ticket_id}/publish", headers=STAFF, json={}),
                          client.post(f"/api/tickets/{ticket_id}/reply", headers=STAFF, json={"reply": "已转交。"}),
                          client.get(f"/api/conversations/{started['conversation_id']}", headers=secret_of(started)),
                          client.post(f"/api/conversations/{started['conversation_id']}/handoff",
                                      json={"conversation_secret": started["conversation_secret"]})):
                assert reply.status_code == 503 and "暂时无法服务" in reply.json()["message"]
            postgres.start()
            sent = client.post(f"/api/tickets/{ticket_id}/reply", headers=STAFF, json={"reply": "已转交。"})
            twice = client.post(f"/api/tickets/{ticket_id}/reply", headers=STAFF, json={"reply": "已转交。"})
            assert sent.json()["delivered"] and not twice.json()["delivered"]
            view = client.get(f"/api/conversations/{started['conversation_id']}", headers=secret_of(started)).json()
            assert [m["role"] for m in view["messages"]] == ["user", "assistant", "staff"]
            entry = client.post(f"/api/tickets/{ticket_id}/publish", headers=STAFF, json={}).json()["entry"]
            assert entry["retired"] is False  # the 答疑库 in PostgreSQL: published, answered from, retired
            assert ask(client, NO_BASIS)["answer_book"]["entry_id"] == entry["entry_id"]
            client.post(f"/api/entries/{entry['entry_id']}/retire", headers=STAFF, json={})
            assert "answer_book" not in ask(client, NO_BASIS)
    finally:
        postgres.remove()


def test_one_ticket_a_turn_however_it_is_handed_over(desk_client):
    started = ask(desk_client, NO_BASIS)  # refused: opened
    base = f"/api/conversations/{started['conversation_id']}"
    secret = started["conversation_secret"]
    rated = desk_client.post(f"{base}/feedback", json={"conversation_secret": secret, "turn": 0, "rating": -1})
    handed = desk_client.post(f"{base}/handoff", json={"conversation_secret": secret, "contact": "0431-1234567"})
    person = ask(desk_client, "转人工", started)
    tickets = queue(desk_client)["tickets"]
    assert len(tickets) == 1 and rated.json()["ticket_id"] == handed.json()["ticket_id"] == tickets[0]["ticket_id"]
    assert tickets[0]["reason"] == "not_sure" and tickets[0]["contact"] == "0431-1234567"  # the first reason stays
    assert person["reason"] == "handoff"


def test_the_chat_pages_turns_reach_the_desk_and_a_reload_shows_the_staff_reply(desk_settings, fake_embedder):
    from serve.desk import Desk, PageAssistant, PageConversations, PageFeedback
    from serve.factory import make_assistant
    from serve.tickets import TicketStore
    from serve.web import Page

    build(desk_settings, fake_embedder, progress=False)
    engine = open_database(f"sqlite:///{desk_settings.data_dir / 'page.sqlite'}")
    desk = Desk(ConversationStore(engine), TicketStore(engine), FeedbackStore(engine), desk_settings)
    page = Page(PageAssistant(make_assistant(desk_settings, fake_embedder), desk), PageFeedback(engine, desk),
                desk_settings, stream_delay=0, conversations=PageConversations(engine, desk),
                stored_messages=desk.page_messages)

    def say(message, history, session):
        *_, (_, history, session, _) = page.respond(message, history, session, "全部地区")
        return history, session

    history, session = say(ANSWERED, [], None)
    history, session = say(NO_BASIS, history, session)  # not sure: opened by the page's turn
    assert [(t.turn, t.reason) for t in desk.tickets.queue()] == [(1, "not_sure")]
    page.rate_message(1, "Dislike", session)  # the first answer, rated down on the page
    history, session = say("转人工", history, session)  # hands over turn 1 again: the same ticket
    assert [(t.turn, t.reason) for t in desk.tickets.queue()] == [(1, "not_sure"), (0, "thumbs_down")]  # oldest first
    assert "工作人员" in history[-1]["content"]
    desk.reply(desk.tickets.for_turn(session.conversation.id, 1).ticket_id, "您好！请咨询当地住房公积金管理中心。")
    restored, again, _ = page.restore(session.saved())
    shown = [m["content"] for m in restored]
    assert len(restored) == 7 and "工作人员已答复（吉林省工业和信息化厅，" in shown[4]  # 3 turns, 1 staff reply
    assert "请咨询当地住房公积金管理中心" in shown[4] and "3年" in shown[1]
    assert again.conversation.id == session.conversation.id


def test_a_thumbs_down_on_a_conversation_the_store_does_not_hold_opens_nothing(desk_client):
    desk = desk_client.app.state.service.desk
    assert desk.rated_on_page("kept-in-the-session-only", ANSWERED, -1) is None
    assert desk.rated_on_page("kept-in-the-session-only", ANSWERED, 1) is None
    assert queue(desk_client)["tickets"] == []
