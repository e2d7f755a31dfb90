"""The LLM guard: figures compared however they are written, and an LLM's answer checked against the clauses it
was given, as tables of cases over pure functions; then the same guard inside the generator, with a scripted chat
model (``FakeListChatModel``): regenerate once, then fall back to the extractive answer."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from langchain_core.language_models import FakeListChatModel

from assistant.checks import check_llm_answer
from assistant.generators.extractive import ExtractiveGenerator
from assistant.generators.llm import LLMGenerator, streaming_to
from assistant.numbers import chinese_number, unsupported
from assistant.types import Evidence, Query
from core.prompts import REFUSAL
from index.clauses import split_clauses
from tests.test_clean import RIZHAO
from tests.test_metadata import doc


@pytest.mark.parametrize(
    ("answer", "source", "missing"),
    [
        ("最高奖励20万元", "给予二十万元奖励", []),
        ("最高奖励二十万元", "给予200,000元奖励", []),
        ("不低于百分之十", "研发投入占比不低于10%", []),
        ("不低于10%", "研发投入占比不低于百分之十", []),
        ("1.5亿元", "规模达到15000万元", []),
        ("奖励10万元至20万元", "给予10-20万元补助", []),
        ("最高30万元", "最高20万元", ["30万"]),
        ("不低于5%", "不低于5万元", ["5%"]),  # a share is not an amount
        ("2025年12月31日前", "实施期至2025年12月31日", []),
        ("2026年前", "实施期至2025年12月31日", ["2026"]),
        ("对一家企业统一支持", "支持企业", []),  # 一家, 统一: words, not figures
    ],
)
def test_figures_compare_however_they_are_written(answer, source, missing):
    assert unsupported(answer, [source]) == missing


@pytest.mark.parametrize(("written", "value"), [("二十", 20), ("一百五十", 150), ("十", 10), ("三千", 3000), ("二〇二五", 2025)])
def test_chinese_numbers(written, value):
    assert chinese_number(written) == value


SOURCES = ["独角兽企业给予最高300万元一次性奖励。", "省级专精特新中小企业给予最高20万元一次性奖励。"]


@pytest.mark.parametrize(
    ("case", "raw", "passes", "removed", "numbers"),
    [
        ("good answer", "独角兽企业最高奖励300万元[1]，省级专精特新企业最高20万元[2]。", True, (), ()),
        ("marker after the full stop", "独角兽企业最高奖励300万元。[1]", True, (), ()),
        ("invented number", "独角兽企业最高奖励500万元[1]。", False, (), ("500万",)),
        ("unknown key removed, rest passes", "独角兽企业最高奖励300万元[1][9]。", True, (9,), ()),
        ("only an unknown key: cited by code", "独角兽企业最高奖励300万元[9]。", True, (9,), ()),
        ("no marker, a clause states it: cited by code", "独角兽企业给予最高300万元奖励。", True, (), ()),
        ("no marker, no clause states it", "独角兽企业给予最高500万元奖励。", False, (), ()),
        ("no marker, off the clauses' wording", "请联系当地主管部门咨询。", False, (), ()),
        ("wrong clause for the figure", "省级专精特新企业最高20万元[1]。", False, (), ("20万",)),
        ("refusal with citations", f"{REFUSAL}[1]", False, (), ()),
        ("refusal", REFUSAL, True, (), ()),
        ("eligibility verdict of its own", "贵企业符合条件，可以申报[2]。", False, (), ()),
        ("garbage", "<html>502 Bad Gateway</html>", False, (), ()),
        ("empty", "  ", False, (), ()),
    ],
)
def test_the_guard_on_a_table_of_answers(case, raw, passes, removed, numbers):
    check = check_llm_answer(raw, SOURCES, REFUSAL)
    assert (not check.failure) == passes, (case, check)
    assert check.removed_keys == removed and check.unsupported_numbers == numbers
    assert "[9]" not in check.text


# The generator with a scripted chat model.


@pytest.fixture(scope="module")
def evidence():
    clauses = split_clauses(doc(RIZHAO))
    best = next(c for c in clauses if c.clause_path == "三、（一）2")
    others = [c for c in clauses if c.clause_path != "三、（一）2"][:3]
    return [Evidence(best, 1.0, 1), *(Evidence(c, 0.5, i) for i, c in enumerate(others, 2))]


def generator(*responses, **kwargs) -> tuple[LLMGenerator, FakeListChatModel]:
    model = FakeListChatModel(responses=list(responses))
    extractive = ExtractiveGenerator({}, 10)
    return LLMGenerator("scripted", model, extractive, **kwargs), model


QUESTION = Query("日照对新认定的独角兽企业奖励多少?", "日照对新认定的独角兽企业奖励多少?")
GOOD = "对新获得认定的独角兽企业，日照给予最高300万元一次性奖励[1]。"


def test_a_good_answer_is_shown_with_its_clause_and_the_sentence_it_rests_on(evidence):
    llm, model = generator(GOOD)
    draft = llm.answer(QUESTION, evidence)
    assert draft.text == GOOD and draft.sources == (evidence[0].clause,)
    assert any("300万元" in s for s in draft.sentences[0]) and all(s in draft.sources[0].text for s in draft.sentences[0])
    assert draft.guard.passed and not draft.guard.regenerated and not draft.guard.fallback
    assert model.i == 0  # asked once (the scripted model stays on its only answer)


def test_keys_are_renumbered_in_order_of_use(evidence):
    llm, _ = generator("见条款[2]。奖励最高300万元[1]。")
    draft = llm.answer(QUESTION, evidence)
    assert draft.text == "见条款[1]。奖励最高300万元[2]。"
    assert draft.sources == (evidence[1].clause, evidence[0].clause)


def test_an_invented_number_is_written_again_with_the_failure_named_and_then_passes(evidence):
    llm, _ = generator("独角兽企业最高奖励500万元[1]。", GOOD)
    draft = llm.answer(QUESTION, evidence)
    assert draft.text == GOOD
    assert draft.guard.passed and draft.guard.regenerated and not draft.guard.fallback
    assert draft.guard.unsupported_numbers == ("500万",)
    retry = llm.messages({"question": "q", "clauses": "c", "previous": "x", "failure": "回答中的数字500万在所引条款中找不到"})
    assert "500万" in retry[-1].content and retry[-2].content == "x"


def test_failing_twice_shows_the_extractive_answer(evidence):
    llm, _ = generator("独角兽企业最高奖励500万元[1]。", "最高奖励800万元[1]。")
    draft = llm.answer(QUESTION, evidence)
    assert draft.guard.fallback and draft.guard.regenerated and not draft.guard.passed
    assert set(draft.guard.unsupported_numbers) == {"500万", "800万"}
    assert "300万元" in draft.text and "500" not in draft.text and "800" not in draft.text
    assert draft.text == ExtractiveGenerator({}, 10).answer(QUESTION, evidence).text


def test_an_unknown_key_is_removed_and_logged(evidence, caplog):
    llm, _ = generator("对新获得认定的独角兽企业给予最高300万元一次性奖励[1][7]。")
    with caplog.at_level(logging.WARNING):
        draft = llm.answer(QUESTION, evidence)
    assert "[7]" not in draft.text and draft.guard.removed_keys == (7,) and draft.guard.passed
    assert "[7]" in caplog.text


def test_a_refusal_gives_an_empty_draft_so_the_chain_refuses(evidence):
    llm, _ = generator(REFUSAL)
    draft = llm.answer(QUESTION, evidence)
    assert not draft.sources and not draft.text and draft.guard.passed


def test_a_refusal_with_citations_is_written_again(evidence):
    llm, _ = generator(f"{REFUSAL}[1]", GOOD)
    draft = llm.answer(QUESTION, evidence)
    assert draft.text == GOOD and draft.guard.regenerated


class Broken(FakeListChatModel):
    """A chat model whose endpoint fails, with the key in its error message."""

    def _call(self, *args, **kwargs):
        raise ConnectionError("cannot reach http://127.0.0.1:9/v1 with key sk-secret-123")


def test_a_failing_model_shows_the_extractive_answer_and_never_logs_the_key(evidence, caplog):
    llm = LLMGenerator("broken", Broken(responses=[""]), ExtractiveGenerator({}, 10), secrets=("sk-secret-123",))
    with caplog.at_level(logging.DEBUG):
        draft = llm.answer(QUESTION, evidence)
    assert draft.guard.fallback and "ConnectionError" in draft.guard.error and "300万元" in draft.text
    assert "sk-secret-123" not in caplog.text and "sk-secret-123" not in draft.guard.error


def test_tokens_stream_to_the_sink_and_the_guard_judges_the_whole(evidence):
    llm, _ = generator(GOOD)
    tokens: list[str] = []
    with streaming_to(tokens.append):
        draft = llm.answer(QUESTION, evidence)
    assert len(tokens) > 1 and "".join(tokens) == GOOD and draft.text == GOOD


def test_a_follow_up_is_rewritten_and_a_runaway_rewrite_is_ignored():
    llm, _ = generator("日照市对专精特新小巨人企业奖励多少?")
    assert llm.rewrite("日照市对独角兽企业奖励多少?", "那小巨人呢?") == "日照市对专精特新小巨人企业奖励多少?"
    llm, _ = generator("好" * 500)
    assert llm.rewrite("日照市对独角兽企业奖励多少?", "那小巨人呢?") == "那小巨人呢?"


def test_the_prompt_holds_the_top_clauses_cut_short_and_the_question(evidence):
    llm, _ = generator(GOOD, context_clauses=2, clause_chars=50)
    messages = llm.messages({"question": QUESTION.text, "clauses": llm.numbered([e.clause for e in evidence[:2]])})
    assert REFUSAL in messages[0].content
    user = messages[-1].content
    assert "[1] 《日照市" in user and "[2]" in user and "[3]" not in user and QUESTION.text in user
    assert len(user) < 400


def test_a_helpdesk_draft_asks_for_a_formal_reply_and_is_guarded_like_any_answer(evidence):
    llm, model = generator(GOOD)
    helpdesk = replace(QUESTION, audience="helpdesk")
    messages = llm.messages({"question": QUESTION.text, "clauses": "[1] 条款", "audience": "helpdesk"})
    assert "政府部门的工作人员" in messages[-1].content and "[1] 条款" in messages[-1].content
    assert "政府部门的工作人员" not in llm.messages({"question": QUESTION.text, "clauses": "[1] 条款"})[-1].content
    draft = llm.answer(helpdesk, evidence)
    assert draft.text == GOOD and draft.guard.passed


@pytest.mark.parametrize(
    ("name", "variables"),
    [
        ("llm_answer_system", {}),
        ("llm_answer", {"clauses": "[1] 条款", "question": "问题"}),
        ("llm_retry", {"failure": "原因"}),
        ("llm_rewrite", {"previous": "上一问", "follow_up": "追问"}),
        ("llm_helpdesk", {"clauses": "[1] 条款", "question": "问题"}),
        ("llm_clause", {"key": 1, "clause_name": "《文件》一、", "text": "条文"}),
    ],
)
def test_the_llm_prompts_render_strictly(name, variables):
    from core.prompts import PromptError, render

    text = render(name, **variables)
    assert "$" not in text and all(str(v) in text for v in variables.values())
    if variables:
        with pytest.raises(PromptError):
            render(name)


def test_an_answer_without_markers_is_cited_by_code_sentence_by_sentence():
    check = check_llm_answer("独角兽企业给予最高300万元一次性奖励。省级专精特新中小企业最高20万元。", SOURCES, REFUSAL)
    assert check.cited_by_code and not check.failure
    assert check.text == "独角兽企业给予最高300万元一次性奖励[1]。省级专精特新中小企业最高20万元[2]。"


def rizhao_clause(path: str) -> str:
    """A clause of the 日照 document, as the model is given it."""
    return next(c.text for c in split_clauses(doc(RIZHAO)) if c.clause_path == path)


@pytest.mark.parametrize(
    ("path", "answer", "misplaced"),
    [
        # 三、（一）2: 单项冠军、瞪羚、专精特新 分别 50/30/20万元; 单项冠军、产品、小巨人 分别 200/100/100万元.
        ("三、（一）2", "对新获得认定的省级瞪羚企业，给予最高50万元一次性奖励[1]。", ["50万"]),
        ("三、（一）2", "对新获得认定的省级瞪羚企业给予最高30万元一次性奖励[1]。", []),
        ("三、（一）2", "山东省制造业单项冠军企业最高奖励50万元[1]。", []),
        ("三、（一）2", "省级专精特新中小企业最高20万元[1]。", []),
        ("三、（一）2", "国家级制造业单项冠军企业最高奖励100万元[1]。", ["100万"]),
        ("三、（一）2", "国家级专精特新“小巨人”企业最高奖励100万元[1]。", []),  # 国家级 holds for the whole list
        ("三、（一）2", "独角兽企业最高300万元，小巨人企业最高100万元[1]。", []),
        ("三、（一）2", "对达到考核基础目标的区县，市财政给予最高300万元奖励[1]。", []),
        # 三、（二）7: 省级 特色产业集群、示范基地、示范平台 分别 50/20/20万元; 国家级 基地、平台 分别 50万元 (one for both).
        ("三、（二）7", "省级特色产业集群最高奖励20万元[1]。", ["20万"]),
        ("三、（二）7", "省级特色产业集群最高奖励50万元[1]。", []),
        ("三、（二）7", "对新获得认定的省级小型微型企业创业创新示范基地给予最高20万元一次性奖励[1]。", []),
        ("三、（二）7", "国家级中小企业公共服务示范平台最高奖励50万元[1]。", []),
        # 三、（二）4 is about 工业设计研究院: its 50% fused onto another clause's subject.
        ("三、（二）4", "对新获得认定的国家级小型微型企业创业创新示范基地，按照设计服务合同实际发生额的50%给予补贴，"
                      "每年补贴不超过100万元[1]。", ["50%"]),
        ("三、（二）4", "对承接市内工业设计服务外包订单的省级及以上工业设计研究院，按照设计服务合同实际发生额的50%给予"
                      "补贴，每年补贴不超过100万元[1]。", []),
    ],
)
def test_each_figure_must_be_the_one_the_clause_states_for_the_sentences_subject(path, answer, misplaced):
    check = check_llm_answer(answer, [rizhao_clause(path)], REFUSAL)
    assert list(check.unsupported_numbers) == misplaced
    assert bool(check.failure) == bool(misplaced)
    if misplaced:
        assert "另一个对象" in check.failure


def test_a_titles_words_are_no_other_subject_when_the_sources_carry_the_title():
    """The generator gives the guard each clause with its title (so a 文号's figures count as stated); the place in
    the title ("日照市…") is not another subject a figure could be bound to."""
    body = rizhao_clause("三、（一）2")
    titled = f"《日照市“专精特新”中小企业培育提升行动方案（2022—2025年）》三、（一）2 {body}"
    answer = "对新获得认定的独角兽企业，日照市给予最高300万元一次性奖励[1]。"
    assert not check_llm_answer(answer, [titled], REFUSAL, [body]).failure
    wrong = "对新获得认定的独角兽企业，日照市给予最高200万元一次性奖励[1]。"  # 200万 is the 单项冠军's
    assert "另一个对象" in check_llm_answer(wrong, [titled], REFUSAL, [body]).failure
