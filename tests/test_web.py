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
