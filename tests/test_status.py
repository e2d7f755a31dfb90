"""Which questions are about a policy's status or dates, and how a status is said."""

from __future__ import annotations

import datetime as dt

import pytest

from assistant.status import asks_date, asks_status, dates, explain, note, refers_back, status_documents
from tests.test_clean import CHONGQING_DRAFT, CHONGQING_TECH, JIANGMEN, JILIN
from tests.test_metadata import doc


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("日照的行动方案现在还有效吗?", True),
        ("江门的方案什么时候到期?", True),
        ("这个文件是征求意见稿吗?", True),
        ("吉林的意见有效期到哪年?", True),
        ("重庆对专精特新示范企业的平均有效发明专利目标是多少件?", False),
        ("重庆支持专精特新中小企业高质量发展三年行动计划（征求意见稿）对示范企业有哪些资金支持?", False),
        ("对研发机构覆盖率有什么要求?", False),
        # In everyday words.
        ("这个方案还管用吗?", True),
        ("日照那个文件过期了没有?", True),
        ("这政策到哪年?", True),
        ("我们对示范企业那条有意见，现在还能提吗？截止到哪天？", True),
        ("专精特新企业申报要满足什么条件?", False),
        ("首台套保险能补到多少?", False),
        # The validity of something the policy is about, not of the policy: a clause answers it.
        ("四川省关于免费健康申报证明有效期至什么时候？", False),
        ("专精特新企业的认定有效期是几年?", False),
        ("吉林的还有效吗?", True),
        # Other everyday words for validity and for the issued text (rules/status.yaml).
        ("这份文件现在还算数吗?", True),
        ("那个方案是正式印发的吗？", True),
        ("这个是现行有效的政策吗", True),
        ("那份文件过了有效期没？", True),
        ("明年我们还能照着它申请奖励吗？", True),
        ("我们还能按照这个方案申报吗？", True),
        ("56号文现在还生效吗", True),
        ("正式员工要有多少人才能申请?", False),
        # Content questions that share a word with them.
        ("现行政策对小微企业有什么优惠?", False),
        ("个体户还可以按照政策享受社保减免吗?", False),
        ("补贴按什么计算数额?", False),
        ("我的申请审核过了没?", False),
        ("按照方案申报需要准备什么材料?", False),
    ],
)
def test_asks_status(question, expected):
    assert asks_status(question) is expected


@pytest.mark.parametrize(
    ("question", "expected"),
    [("这个行动计划什么时候发布的?", True), ("日照的方案是哪天印发的?", True), ("发布日期是哪天", True),
     ("吉林那份文件是哪年发的?", True), ("什么时候能申请补贴?", False), ("补贴哪年发的钱?", False)],
)
def test_asks_date(question, expected):
    assert asks_date(question) is expected


def test_status_sentences():
    today = dt.date(2026, 11, 21)
    assert "征求意见稿" in explain(doc(CHONGQING_DRAFT), today)
    assert "已届满" in explain(doc(CHONGQING_TECH), today)
    assert "仍在实施期内" in explain(doc(JIANGMEN), today)
    assert "未写明实施期限" in explain(doc(JILIN), today)
    assert "2022年05月09日" in dates(doc(CHONGQING_TECH)) and "重庆市人民政府办公厅" in dates(doc(CHONGQING_TECH))


def test_a_policy_whose_period_has_not_begun_is_explained_and_noted():
    before = dt.date(2023, 6, 1)
    jiangmen = doc(JIANGMEN)  # 2024—2026
    said = explain(jiangmen, before)
    assert "尚未开始" in said and "2024" in said and "2023年06月01日" in said and "仍在实施期内" not in said
    warning = note(jiangmen, before)
    assert warning.startswith("注意：") and jiangmen.title in warning and "尚未开始" in warning
    assert note(jiangmen, dt.date(2025, 1, 1)) == ""


def test_a_draft_says_until_when_it_took_comments_and_whether_that_has_passed():
    draft = doc(CHONGQING_DRAFT)
    assert draft.comment_deadline == dt.date(2021, 9, 28)  # the portal's 截止日期 field
    closed = explain(draft, dt.date(2026, 11, 21))
    assert "2021年09月28日" in closed and "已经截止" in closed
    assert "仍可提出意见" in explain(draft, dt.date(2021, 9, 25))
    assert doc(JILIN).comment_deadline is None  # not a draft


def test_a_comment_deadline_is_read_from_the_notice_text_too():
    from index.clean import Cleaned
    from index.gazetteer import default_gazetteer
    from index.metadata import extract

    text = "关于公开征求《某市促进中小企业发展若干措施（征求意见稿）》意见的通知\n征求意见截止时间为2025年3月31日。"
    found = extract(Cleaned(text=text, removed=[]), default_gazetteer())
    assert found.draft and found.comment_deadline == dt.date(2025, 3, 31)


@pytest.mark.parametrize(("named", "cited", "referred", "allowed", "documents"), [
    (("a",), ("b",), False, None, ("a",)),  # the documents of the places named
    (("a",), ("b",), True, None, ("b",)),  # "这个文件还有效吗?": the one the previous answer cited
    ((), (), True, None, ()),  # none cited: none meant (the decision refuses, see test_decide_rules)
    (("a", "b"), (), False, ("b", "c"), ("b",)),  # within the filter
    ((), (), False, ("b", "c"), ("b", "c")),  # none meant: all the filter allows
    (("a",), (), False, ("c",), ()),  # the filter leaves none of those meant
])
def test_the_documents_a_status_question_is_about(named, cited, referred, allowed, documents):
    assert status_documents(named, cited, referred=referred, allowed=allowed) == documents


@pytest.mark.parametrize(("question", "expected"), [
    ("这个文件还有效吗?", True), ("它到期了吗?", True), ("该方案还在执行吗?", True), ("日照的行动方案还有效吗?", False),
])
def test_a_status_question_may_point_back_at_the_document_just_cited(question, expected):
    assert refers_back(question) is expected
