"""The chat page's handlers without a browser: what they put in the chat, and who may open the admin view."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from assistant.types import Answer, Part, Query
from serve.feedback import FeedbackStore
from serve.web import Page, Session
from tests.test_presenter import shown


class ScriptedAssistant:
    """Answers every question with the same text and remembers what it was asked."""

    def __init__(self, text: str = "答复"):
        self.text = text
        self.asked: list[str] = []

    def ask(self, question, conversation=None, region=None):
        self.asked.append(question)
        return Answer(question, False, (Part(self.text),), today=dt.date(2026, 11, 21))


@pytest.fixture
def feedback(tmp_path):
    return FeedbackStore(tmp_path / "feedback.sqlite")


def test_the_question_is_shown_as_typed_and_asked_without_control_characters(settings, feedback):
    assistant = ScriptedAssistant("条款原文：见附图![图](http://127.0.0.1:9/x.png)。")
    page = Page(assistant, feedback, settings, stream_delay=0)
    question = "![x](http://127.0.0.1:9/x.png)\x00<b>吉林</b>\x1b专利保险费补几年?"
    steps = list(page.respond(question, [], None, "全部地区"))
    history = steps[-1][1]
    rendered, visible = shown(history[0]["content"])
    assert "<img" not in rendered and "<b>" not in rendered
    assert visible == "![x](http://127.0.0.1:9/x.png)<b>吉林</b>专利保险费补几年?"
    assert assistant.asked == ["![x](http://127.0.0.1:9/x.png)<b>吉林</b>专利保险费补几年?"]
    for _, partial, *_ in steps:
        assert "<img" not in shown(partial[-1]["content"])[0]
    assert "http://127.0.0.1:9/x.png" in shown(history[-1]["content"])[1]


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_guessing_the_admin_token_is_slowed_down_per_client(settings, feedback, monkeypatch):
    from serve.throttle import LoginThrottle

    settings = settings.model_copy(update={"admin_token": "s3cret"})
    clock = FakeClock()
    page = Page(ScriptedAssistant(), feedback, settings, throttle=LoginThrottle(free_attempts=2, base_delay=30, clock=clock))
    page.document_rows = list  # the scripted assistant has no index to list
    compared = []
    real = __import__("hmac").compare_digest
    monkeypatch.setattr("serve.web.hmac.compare_digest", lambda a, b: compared.append(1) or real(a, b))
    assert page.login("guess1", None, "10.0.0.1")[2] == "口令不正确。"
    assert page.login("guess2", None, "10.0.0.1")[2] == "口令不正确。"
    session, _, message, *_ = page.login("s3cret", None, "10.0.0.1")  # even the right token waits now
    assert not session.admin and "30 秒后再试" in message and len(compared) == 2
    assert page.login("s3cret", None, "10.0.0.2")[0].admin  # another client is not held up
    clock.now += 30
    assert page.login("s3cret", None, "10.0.0.1")[0].admin


class MeetingAssistant(ScriptedAssistant):
    """Answers only once every expected conversation is being answered at the same time."""

    def __init__(self, parties: int):
        super().__init__()
        self.barrier = threading.Barrier(parties, timeout=20)

    def ask(self, question, conversation=None, region=None):
        self.barrier.wait()  # raises BrokenBarrierError if the page answers one conversation at a time
        return super().ask(question, conversation, region)


def test_conversations_are_answered_at_the_same_time(settings, feedback):
    page = Page(MeetingAssistant(3), feedback, settings, stream_delay=0)
    finals = []
    threads = [threading.Thread(target=lambda: finals.append(list(page.respond("问题", [], None, "全部地区"))[-1]))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [final[1][-1]["content"] for final in finals] == ["答复"] * 3


def test_the_page_lets_several_questions_run_at_once(settings, feedback):
    from serve.web import build_app

    page = Page(ScriptedAssistant(), feedback, settings)
    page.regions = lambda: ["全部地区"]  # the scripted assistant has no index to take regions from
    app = build_app(page)
    answering = [fn for fn in app.fns.values() if fn.name in ("respond", "draft")]
    assert len(answering) == 3
    assert all(fn.concurrency_limit == settings.answer_concurrency > 1 for fn in answering)
    assert len({fn.concurrency_id for fn in answering}) == 1  # one pool shared by chat and helpdesk


def test_a_reindex_from_the_admin_view_does_not_hold_up_questions(settings, feedback):
    reindexing, answered = threading.Event(), threading.Event()

    def reindex():
        reindexing.set()
        return "索引已更新" if answered.wait(timeout=20) else "问题一直在等重新索引"

    assistant = ScriptedAssistant()
    assistant.refresh = lambda wait=False: None
    page = Page(assistant, feedback, settings, stream_delay=0, reindex=reindex)
    page.document_rows = list
    outcome = []
    admin = threading.Thread(target=lambda: outcome.append(page.reindex(Session(admin=True))))
    admin.start()
    reindexing.wait(timeout=20)
    final = list(page.respond("问题", [], None, "全部地区"))[-1]
    answered.set()
    admin.join()
    assert final[1][-1]["content"] == "答复" and outcome[0][0] == "索引已更新"


class StreamingAssistant:
    """Writes its answer through a scripted LLM generator (tokens streamed), then shows the guarded answer."""

    def __init__(self, written: str, shown: str):
        from langchain_core.language_models import FakeListChatModel

        from assistant.generators.llm import LLMGenerator

        self.llm = LLMGenerator("scripted", FakeListChatModel(responses=[written]), fallback=None)
        self.shown = shown

    def ask(self, question, conversation=None, region=None):
        self.llm.answer(Query(question, question), [])  # no clauses: nothing written
        assert self.llm._write({"question": question, "clauses": ""})  # streams to the page's sink
        return Answer(question, False, (Part(self.shown),), today=dt.date(2026, 11, 21))


def test_an_llm_answer_streams_to_the_page_and_is_then_replaced_by_the_checked_one(settings, feedback):
    settings = settings.model_copy(update={"generator": "llamacpp"})
    page = Page(StreamingAssistant("最高奖励500万元[1]。", "最高奖励300万元[1]。"), feedback, settings, stream_delay=0)
    partials = [step[1][-1]["content"] for step in page.respond("奖励多少?", [], None, "全部地区")]
    assert any("核对中" in p and "500万元" in p for p in partials)  # what the model wrote, as it came
    assert "300万元" in partials[-1] and "500万元" not in partials[-1] and "核对中" not in partials[-1]
