"""The kinds of answer a question asks for (``assistant/rules/answer_kinds.yaml``), as a table."""

from __future__ import annotations

import pytest

from assistant.question import answer_kinds, mandarin, states_wanted, wanted_kinds
from core.textnorm import to_simplified


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("专利保险费最多补多少钱?", {"amount"}),
        ("达到考核目标的区县最高奖励多少?", {"amount"}),
        ("首贷贴息的补贴是多少?", {"amount"}),
        ("企业能贷款多少?", {"amount"}),
        ("担保费率是多少?", {"rate"}),
        ("给小微企业的又占多少?", {"rate"}),
        ("最多补几年?", {"duration"}),
        ("咨询电话是多少?", {"contact"}),
        ("什么时候开始申报?", {"date"}),
        ("评上了找哪个部门?", {"who"}),
        ("全省要培育多少家专精特新?", {"count"}),
        ("需要满足什么条件?", set()),
    ],
)
def test_the_kind_of_answer_a_question_wants(question, kinds):
    assert {k.name for k in wanted_kinds(question)} == kinds


@pytest.mark.parametrize(
    ("question", "text", "states"),
    [
        ("最多补多少钱?", "给予最高50万元一次性奖励。", True),
        ("最多补多少钱?", "财政给予一定比例的扶持。", False),
        ("什么时候截止?", "申报截止时间为2020年3月31日。", True),
        ("咨询电话是多少?", "联系电话：0633-8781234。", True),
        ("小微企业占多少?", "预留给小型微型企业的比例不低于百分之六十。", True),
        ("贴息能补几成?", "按贷款利息的五成给予贴息。", True),
        ("小微企业占多少?", "提高中小企业在政府采购中的份额。", False),
        ("需要满足什么条件?", "任何条款", True),  # nothing particular wanted: nothing missing
    ],
)
def test_whether_a_clause_states_the_kind_asked(question, text, states):
    assert states_wanted(wanted_kinds(question), text) is states


def test_every_kind_has_both_patterns():
    assert {k.name for k in answer_kinds()} >= {"amount", "rate", "date", "contact", "who"}
    assert all(k.asked.pattern and k.stated.pattern for k in answer_kinds())


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("江門有冇專門嘅貸款產品？", "江门有没有专门的贷款产品？"),
        ("係唔係要用咩方式組織嘅？", "是不是要用什么方式组织的？"),
        ("按邊份辦法嚟做？", "按哪份办法来做？"),
        ("出咗壞賬銀行要承擔幾多？", "出了坏账银行要承担多少？"),
        ("政府會唔會優先保障？", "政府会不会优先保障？"),
        # Words that are Mandarin too stay as they are (系统, 体系, 仲裁, 同时, 紧张, 人工智能).
        ("申请仲裁同时完善管理体系", "申请仲裁同时完善管理体系"),
        ("用电紧张的人工智能企业", "用电紧张的人工智能企业"),
        ("周边城市的管理体系用于返工", "周边城市的管理体系用于返工"),
        ("我们就系统培训了员工，都系统学过", "我们就系统培训了员工，都系统学过"),
        ("宜家的供应商算不算", "宜家的供应商算不算"),
    ],
)
def test_cantonese_words_are_read_in_mandarin(typed, read):
    assert mandarin(to_simplified(typed)) == read


def _read(focus: str, covered=(), uncovered=()):
    from assistant.conversation import Resolution
    from assistant.question import Question
    from assistant.regions import RegionMatch

    return Question(focus, focus, Resolution(focus), RegionMatch(tuple(covered), tuple(uncovered)), False, focus=focus)


@pytest.mark.parametrize(("focus", "asked", "describes_asker"), [
    ("我们是一家会计师事务所，省里对服务费用有补助吗?", "省里对服务费用有补助吗?", True),
    ("对服务费用有补助吗?", "对服务费用有补助吗?", False),
    # No sentence asks: every sentence is what is asked.
    ("我们是一家会计师事务所，想了解服务费用补助。", "我们是一家会计师事务所，想了解服务费用补助。", False),
])
def test_what_is_asked_is_read_apart_from_what_describes_the_asker(focus, asked, describes_asker):
    question = _read(focus)
    assert (question.asked, question.describes_asker) == (asked, describes_asker)


def test_the_enterprises_figures_are_read_once_from_the_focus():
    question = _read("公司80个人里搞研发的只有6个，比例够不够?")
    assert [f.text for f in question.stated_figures] == ["80个人", "6÷80=7.5%"]
    assert question.stated_figures is question.stated_figures  # read once
    assert _read("研发费用加计扣除比例是多少?").stated_figures == ()


def test_the_names_of_the_places_named_are_known_to_the_question():
    from index.gazetteer import Place

    jilin = Place("吉林省", "吉林", "吉林省", "province", "220000")
    hainan = Place("海南省", "海南", "海南省", "province", "460000")
    assert _read("吉林和海南有补助吗?", [(jilin, ("d",))], [hainan]).place_names == {"吉林省", "吉林", "海南"}
