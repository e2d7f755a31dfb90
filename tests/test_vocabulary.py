"""The bridge between everyday words and policy terms, and typo repair by sound."""

from __future__ import annotations

import pytest

from assistant.vocabulary import TypoRepair, Vocabulary, VocabularyError, default_vocabulary


def test_the_reviewed_vocabulary_loads_and_maps_every_word_to_policy_terms():
    vocabulary = default_vocabulary()
    assert len(vocabulary.terms) > 100
    assert vocabulary.terms["营收"][0] == "营业收入"
    assert all(targets for targets in vocabulary.terms.values())


@pytest.mark.parametrize(
    ("question", "rewritten"),
    [
        ("我们去年营收800多万", "我们去年营业收入800多万"),
        ("市里有没有奖金", "市级有没有奖励"),
        ("务工人员子女上学", "务工人员子女入学"),  # 工人 inside 务工人员 is not the word 工人
        ("专利保险费补几年", "专利保险费补几年"),  # nothing everyday in it
    ],
)
def test_everyday_words_are_rewritten_whole_words_only(question, rewritten):
    assert default_vocabulary().rewrite(question) == rewritten


def test_expansions_add_every_policy_term_the_text_lacks():
    extra = default_vocabulary().expansions("老板想学学经营管理")
    assert "企业负责人" in extra and "培训" in extra
    assert default_vocabulary().expansions("企业负责人培训") == []


def test_alternatives_let_a_canonical_term_be_found_as_any_of_its_policy_terms():
    alternatives = Vocabulary({"奖金": ("奖励", "奖补")}).alternatives()
    assert alternatives == {"奖励": ("奖励", "奖补")}


@pytest.mark.parametrize(
    "text",
    ["terms:\n  营收: 营业收入\n", "terms:\n  营收: []\n", "terms: [\n"],
)
def test_a_malformed_vocabulary_is_a_named_error(tmp_path, text):
    path = tmp_path / "vocabulary.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(VocabularyError):
        Vocabulary.load(path)


KB = ["支持专精特新中小企业建设工业互联网平台", "开展知识产权质押融资"]


@pytest.mark.parametrize(
    ("typed", "repaired"),
    [
        ("日照专精特心企业", "日照专精特新企业"),
        ("工业互连网平台有扶持没", "工业互联网平台有扶持没"),
        ("知识产全质押贷款", "知识产权质押贷款"),
        ("专精特新企业", "专精特新企业"),  # nothing mistyped
        ("特心", "特心"),  # two characters: too many words sound alike to guess
    ],
)
def test_typos_are_repaired_by_sound_against_the_knowledge_base_words(typed, repaired):
    repair = TypoRepair(["专精特新", "互联网", "知识产权", "中小企业"], KB)
    assert repair.repair(typed) == repaired


def test_a_window_the_knowledge_base_contains_is_never_a_typo():
    # 互联 sounds like 互连, but text the knowledge base holds is left as it is.
    repair = TypoRepair(["互联网"], ["互连网络"])
    assert repair.repair("互连网络") == "互连网络"


@pytest.mark.parametrize("text", ["上海市为支持运输制定了何种证件", "天津城市管理委员会", "上海交警检查车辆"])
def test_a_correct_phrase_that_sounds_like_a_knowledge_base_word_is_not_repaired(text):
    # 上海市为 sounds like 上海市委, but 市为 is common: no character pair of it is new to the knowledge base.
    # 天津城市 sounds like 天晋城市 and 津城 is new to this knowledge base, but 天津|城市 are both words.
    repair = TypoRepair(["上海市委", "天晋城市", "交镜检查"], ["上海市委", "以本市为主", "城市管理", "交警检查", "天晋城市", "交镜检查"])
    assert repair.repair(text) == text
