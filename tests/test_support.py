"""The support measure and its cut-off, as tables of cases."""

from __future__ import annotations

import pytest

from assistant.support import (
    DocumentFrequencies,
    question_terms,
    segments,
    split_terms,
    support_score,
    supported,
    term_found,
    windows,
)
from assistant.vocabulary import default_vocabulary

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


@pytest.mark.parametrize(
    "forms",
    [("补助",), ("补",), ("企业所得税",), ("所得税", "企业所得税"), ("再贷款", "贴现"), ("公租房",), ("额度和",), ("",)],
)
def test_indexed_document_frequencies_count_what_reading_every_text_counts(forms):
    assert DocumentFrequencies(CORPUS).count(forms) == sum(any(f in text for f in forms) for text in CORPUS)


def test_support_is_the_same_from_the_texts_or_their_document_frequencies():
    terms = question_terms("专利保险费最多补几年")
    assert support_score(terms, [CORPUS[0]], DocumentFrequencies(CORPUS)) == support_score(terms, [CORPUS[0]], CORPUS)


def test_nothing_to_support_scores_zero():
    assert support_score({}, ["x"], CORPUS) == 0.0
    assert support_score({"保险费": 1.0}, [], CORPUS) == 0.0


@pytest.mark.parametrize(
    ("question", "background"),
    [
        ("我们是吉林一家会计师事务所，省里对服务费用有补助吗？", [True, False]),
        ("公司80个人里搞研发的只有6个，这个比例够不够？", [True, False]),
        ("我们是专精特新企业，产品出口买了出口信用保险，保费政府给补贴吗？", [True, False, False]),
        ("我们是专精特新企业", [False]),  # nothing else asks: the sentence is the question
    ],
)
def test_a_sentence_that_only_describes_the_asker_is_background(question, background):
    assert [flag for _, flag in segments(question)] == background


def test_terms_describing_the_asker_are_optional_and_everyday_words_become_policy_terms():
    terms, optional = split_terms("我们是吉林一家会计师事务所，省里对服务费用有补助吗？", {"吉林"}, default_vocabulary())
    assert "服务机构" in optional and "服务机构" in terms
    assert "省级" in terms and "省级" not in optional and "省里" not in terms
    assert "费用" in terms and "费用" not in optional


def test_an_optional_term_counts_where_found_and_is_not_missed_where_not():
    corpus = ["对服务机构的服务费用给予补助", "对担保机构给予奖励", "其他内容"]
    terms = {"服务机构": 1.0, "费用": 1.0, "补助": 0.5, "律所": 1.0}
    strict = support_score(terms, [corpus[0]], corpus)
    lenient = support_score(terms, [corpus[0]], corpus, optional={"律所"})
    assert lenient == pytest.approx(1.0) and strict < 0.9


def test_an_unseen_subject_weighs_more_than_an_unseen_verb():
    corpus = ["对首台套产品保险费给予补贴", "对专利保险给予补助", "其他内容"]
    base = {"保险费": 1.0, "补贴": 1.0}
    with_subject = support_score({**base, "公积金": 1.0}, [corpus[0]], corpus)
    with_verb = support_score({**base, "买不起": 0.5}, [corpus[0]], corpus)
    assert with_subject < 0.55 < with_verb


def test_words_scattered_over_a_long_clause_support_less_than_words_in_one_sentence():
    together = "纳入政府采购目录的产品享受价格扣除。其他规定一。其他规定二。其他规定三。"
    scattered = "纳入政府采购目录的产品优先采购。其他规定一。其他规定二。研发费用按价格加计扣除。"
    corpus = [together, scattered, "无关条款"]
    terms = {"政府采购": 1.0, "价格": 1.0, "扣除": 1.0}
    assert support_score(terms, [scattered], corpus) < support_score(terms, [together], corpus)


def test_windows_are_runs_of_consecutive_sentences():
    assert windows("一。二。三。", 2) == ["一。二。", "二。三。"]
    assert windows("只有一句。", 2) == ["只有一句。"]


@pytest.mark.parametrize(
    ("question", "skip", "expected"),
    [
        ("天津泰达医院有哪些项目停检？", {"天津"}, {"泰达", "医院", "项目", "停检"}),  # place and 哪些 are not asked about
        ("中小微企业社保缴费有哪些优惠政策？", set(), {"小微企业", "社会保险", "缴费", "优惠"}),
    ],
)
def test_asking_words_places_and_short_forms_glued_to_a_word_are_taken_off(question, skip, expected):
    terms, _ = split_terms(question, skip, default_vocabulary())
    assert set(terms) == expected


def test_the_measure_names_the_share_no_clause_knows_and_the_share_the_passage_lacks():
    from assistant.support import measure_support

    known = measure_support({"专利": 1.0, "保险费": 1.0}, [CORPUS[0]], CORPUS)
    assert known.score == pytest.approx(1.0) and known.unseen == 0.0 and known.missing == pytest.approx(0.0)
    lacking = measure_support({"专利": 1.0, "公积金": 1.0}, [CORPUS[0]], CORPUS)  # 公积金: in no clause at all
    assert 0.0 < lacking.unseen < 1.0 and lacking.missing == pytest.approx(lacking.unseen)
    elsewhere = measure_support({"专利": 1.0, "再贷款": 1.0}, [CORPUS[0]], CORPUS)  # 再贷款: another clause's
    assert elsewhere.unseen == 0.0 and elsewhere.missing > 0.0
    assert measure_support({"专利": 1.0}, [CORPUS[0]], CORPUS).score == support_score({"专利": 1.0}, [CORPUS[0]], CORPUS)
