"""Reply drafts staff can send as they are: the message read by general cues (a table), and the drafts set
(qa/drafts.jsonl) run against the real index."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from evaluation.drafts import DRAFTS_SET, DraftCase, failures, load_cases, run
from index.build import build
from serve.drafts import read_message, reply_draft, responsible_units, sign_off_date
from serve.factory import make_assistant
from serve.presenter import helpdesk_draft

UNIT = "市政策咨询服务中心"


@pytest.mark.parametrize(("message", "background", "asked"), [
    ("你好，我们公司在吉林长春，去年被评上了省级专精特新，请问奖励什么时候发，找谁问？",
     ("我们公司在吉林长春", "去年被评上了省级专精特新"), ("奖励什么时候发", "找谁问")),
    ("您好，日照市对小巨人企业奖励多少？多久能拿到？谢谢", (), ("日照市对小巨人企业奖励多少", "多久能拿到")),
    ("吉林专利保险费补几年？另外，首次认定的奖励多少？", (), ("吉林专利保险费补几年", "首次认定的奖励多少")),
    ("谢谢老师！日照市对达到考核目标的区县最高奖励多少", (), ("日照市对达到考核目标的区县最高奖励多少",)),
    ("我想了解专精特新企业的政策", (), ("我想了解专精特新企业的政策",)),  # asks nothing: the whole is asked
    ("你好", (), ()),
])
def test_a_message_is_cut_into_background_and_sub_questions_by_general_cues(message, background, asked):
    read = read_message(message)
    assert read.background == background and read.asked == asked


def test_the_responsible_units_are_read_from_the_clause_each_once():
    clauses = [SimpleNamespace(text="5.实行分级奖补政策。……(责任单位:省工业和信息化厅、省财政厅及各市〔州〕、县〔市〕政府)"),
               SimpleNamespace(text="（牵头单位：市科技局）"),
               SimpleNamespace(text="(责任单位:省工业和信息化厅、省财政厅及各市〔州〕、县〔市〕政府)")]
    assert responsible_units(clauses) == ["省工业和信息化厅、省财政厅及各市〔州〕、县〔市〕政府", "市科技局"]


@pytest.mark.slow
def test_the_checks_catch_what_the_chats_helpdesk_draft_does(real_index):
    settings = real_index.model_copy(update={"reply_unit": UNIT})
    assistant = make_assistant(settings)
    case = load_cases()[0]  # issue 17's example
    old = helpdesk_draft(assistant.ask(case.message, audience="helpdesk"))
    problems = failures(case, old, UNIT, sign_off_date(settings))
    assert "holds a [n] marker" in problems and "contains '你好'" in problems
    assert any("未规定具体时间" in p for p in problems)


def test_a_draft_answers_every_sub_question_on_the_fake_index(settings, fake_embedder):
    settings = settings.model_copy(update={"reply_unit": UNIT})
    build(settings, fake_embedder, progress=False)
    assistant = make_assistant(settings, fake_embedder)
    draft = reply_draft("你好，我们公司在吉林长春，去年被评上了省级专精特新，请问奖励什么时候发，找谁问？", assistant, settings)
    assert draft.startswith("您好！") and draft.endswith(f"{UNIT}\n{sign_off_date(settings)}")
    assert "20万元" in draft and "未规定具体时间" in draft and "责任单位为省工业和信息化厅、省财政厅" in draft
    assert "你好" not in draft and "[1]" not in draft and draft.count("二、（一）5") == 2  # the body's and the basis'
    refusal = reply_draft("公司交公积金有补贴吗?", assistant, settings)
    assert "暂未找到" in refusal and "抱歉" not in refusal and "以下政策文件条款" in refusal


@pytest.mark.slow
def test_the_drafts_set_passes_on_the_real_index(real_index):
    settings = real_index.model_copy(update={"reply_unit": UNIT})
    assistant = make_assistant(settings)
    cases = load_cases(DRAFTS_SET)
    assert len(cases) >= 15 and any(not c.answerable for c in cases)
    result = run(cases, lambda message: reply_draft(message, assistant, settings), UNIT, sign_off_date(settings))
    assert result["failed"] == {}, result["failed"]


def test_a_case_fails_on_what_it_must_not_contain():
    case = DraftCase("x", "你好，补多少？", ("20万元",), ("你好",))
    draft = f"您好！\n\n关于您咨询的“你好，补多少”：20万元[1]。\n\n政策依据：\n1. 甲\n1. 甲\n\n{UNIT}\n2026年11月21日"
    assert failures(case, draft, UNIT, "2026年11月21日") == ["contains '你好'", "holds a [n] marker",
                                                            "lists a source twice"]
