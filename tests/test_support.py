"""The support measure and its cut-off, as tables of cases."""

from __future__ import annotations

import pytest

from assistant.support import question_terms, support_score, supported, term_found

CORPUS = [
    "对专利保险费给予补助,最多可获得3年,每年最高不超过10万元",
    "单独调配30亿元再贷款和20亿元再贴现额度",
    "落实企业所得税减免政策",
    "鼓励企业通过相互参股、引进外资等多种形式建立产权结构",
    "推动用电用能要素向专精特新中小企业倾斜",
]


@pytest.mark.parametrize(
    ("term", "text", "expected"),
    [
        ("保险费", CORPUS[0], 1.0),
        ("最多补", CORPUS[0], 0.5),  # half its bigrams
        ("个人所得税", CORPUS[2], 0.0),  # 企业所得税 is another tax
        ("贷款额度", CORPUS[1], 0.5),  # 贷款 and 额度 both there
        ("公租房", CORPUS[3], 0.0),
    ],
)
def test_term_found(term, text, expected):
    assert term_found(term, text) == pytest.approx(expected)


def test_question_terms_drop_framing_places_years_and_function_words():
    terms = question_terms("请问吉林省2025年专利保险费最多补几年?", skip={"吉林省", "吉林"})
    assert "吉林省" not in terms and "2025年" not in terms and "请问" not in terms
    assert terms["保险费"] == 1.0
    mixed = question_terms("Jilin 的 patent insurance 专利保险费 subsidy")
    assert "patent" not in mixed and "保险费" in mixed


@pytest.mark.parametrize(
    ("question", "passage", "low", "high"),
    [
        ("专利保险费最多补几年", CORPUS[0], 0.8, 1.0),
        ("用电用能有什么保障", CORPUS[4], 0.55, 1.0),
        ("个人所得税怎么申报", CORPUS[2], 0.0, 0.3),
        ("怎么申请公租房", CORPUS[3], 0.0, 0.3),
        ("如何注册一家外资企业", CORPUS[3], 0.0, 0.55),
    ],
)
def test_support_score_table(question, passage, low, high):
    score = support_score(question_terms(question), [passage], CORPUS)
    assert low <= score <= high


@pytest.mark.parametrize(("score", "threshold", "expected"), [(0.6, 0.55, True), (0.55, 0.55, True), (0.54, 0.55, False)])
def test_cut_off_table(score, threshold, expected):
    assert supported(score, threshold) is expected


def test_nothing_to_support_scores_zero():
    assert support_score({}, ["x"], CORPUS) == 0.0
    assert support_score({"保险费": 1.0}, [], CORPUS) == 0.0
