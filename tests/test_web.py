"""The chat page's handlers without a browser: what they put in the chat, and who may open the admin view."""

from __future__ import annotations

import datetime as dt

import pytest

from assistant.feedback import FeedbackStore
from assistant.types import Answer
from assistant.web import Page
from tests.test_presenter import shown


class ScriptedAssistant:
    """Answers every question with the same text and remembers what it was asked."""

    def __init__(self, text: str = "答复"):
        self.text = text
        self.asked: list[str] = []

    def ask(self, question, conversation=None, region=None):
        self.asked.append(question)
        return Answer(question, self.text, False, today=dt.date(2026, 11, 21))


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
    from assistant.throttle import LoginThrottle

    settings = settings.model_copy(update={"admin_token": "s3cret"})
    clock = FakeClock()
    page = Page(ScriptedAssistant(), feedback, settings, throttle=LoginThrottle(free_attempts=2, base_delay=30, clock=clock))
    page.document_rows = list  # the scripted assistant has no index to list
    compared = []
    real = __import__("hmac").compare_digest
    monkeypatch.setattr("assistant.web.hmac.compare_digest", lambda a, b: compared.append(1) or real(a, b))
    assert page.login("guess1", None, "10.0.0.1")[2] == "口令不正确。"
    assert page.login("guess2", None, "10.0.0.1")[2] == "口令不正确。"
    session, _, message, *_ = page.login("s3cret", None, "10.0.0.1")  # even the right token waits now
    assert not session.admin and "30 秒后再试" in message and len(compared) == 2
    assert page.login("s3cret", None, "10.0.0.2")[0].admin  # another client is not held up
    clock.now += 30
    assert page.login("s3cret", None, "10.0.0.1")[0].admin
