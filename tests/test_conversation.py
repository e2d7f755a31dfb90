"""Follow-up resolution against the history, and conversations that never share it."""

from __future__ import annotations

import pytest

from assistant.conversation import Conversation, Turn, is_follow_up, resolve
from index.gazetteer import default_gazetteer


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("那评估费呢?", True),
        ("500万元以上的呢?", True),
        ("那江门呢?", True),
        ("最多补几年?", True),
        ("那省级的呢?", True),
        ("吉林省对专精特新企业的专利保险费有补助吗?", False),
        ("日照市上市后备资源库要纳入多少家专精特新企业?", False),
    ],
)
def test_is_follow_up(question, expected):
    assert is_follow_up(question) is expected


@pytest.mark.parametrize(
    ("previous", "question", "expected", "swap"),
    [
        ("吉林知识产权质押贷款贴息怎么补?", "那评估费呢?", "吉林知识产权质押贷款贴息怎么补? 那评估费呢?", False),
        ("日照市上市后备资源库要纳入多少家专精特新企业?", "那江门呢?", "江门市上市后备资源库要纳入多少家专精特新企业?", True),
        ("日照力争新增多少家上市企业?", "那江门的呢", "江门市力争新增多少家上市企业?", True),
        ("吉林对单户担保额500万元及以下的担保费率是多少?", "500万元以上的呢?", "吉林对单户担保额500万元及以下的担保费率是多少? 500万元以上的呢?", False),
        (None, "那评估费呢?", "那评估费呢?", False),
        ("吉林知识产权质押贷款贴息怎么补?", "重庆对投资初创期科技型中小企业的创投基金有什么政策?", "重庆对投资初创期科技型中小企业的创投基金有什么政策?", False),
    ],
)
def test_resolve(previous, question, expected, swap):
    resolution = resolve(question, previous, default_gazetteer())
    assert resolution.text == expected
    assert resolution.place_swap is swap


def test_conversations_keep_their_own_history():
    first, second = Conversation(), Conversation()
    first.turns.append(Turn("吉林贴息怎么补?", "吉林贴息怎么补?"))
    assert second.last_resolved() is None and first.last_resolved() == "吉林贴息怎么补?"
    assert first.id != second.id
