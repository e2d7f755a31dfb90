"""The extractive generator on hand-made clauses: which sentences it quotes, and how."""

from __future__ import annotations

from collections import Counter

import pytest

from assistant.generators.extractive import ExtractiveGenerator, continued, responsibility, sentences_of
from assistant.retrieval.lexical import bigrams
from assistant.types import Clause, Evidence, PolicyDoc, Query

DOC = PolicyDoc(doc_id="d", title="某市支持企业发展的通知", source="d.txt", text="", content_hash="h")


def clause(text: str, headings: tuple[str, ...] = ("一、扶持政策",), path: str = "一、") -> Clause:
    return Clause(doc=DOC, clause_path=path, headings=headings, text=text, search_text=text, span=(0, len(text)))


def generator(*texts: str) -> ExtractiveGenerator:
    df = Counter(g for text in texts for g in set(bigrams(text)))
    return ExtractiveGenerator(df, len(texts) + 10)


def answer(question: str, *clauses: Clause):
    evidence = [Evidence(c, 1.0 - i / 10, i + 1) for i, c in enumerate(clauses)]
    return generator(*(c.text for c in clauses)).answer(Query(question, question), evidence)


def test_a_one_sentence_item_with_a_long_heading_is_quotable():
    item = clause("（九）暂缓安排老年人、慢性病患者的年度体检工作。", headings=("（九）暂缓安排老年人、慢性病患者的年度体检工作",))
    assert sentences_of(item) == ["（九）暂缓安排老年人、慢性病患者的年度体检工作。"]
    bare = clause("一、总体要求。", headings=("一、总体要求",))
    assert sentences_of(bare) == []


def test_the_quote_goes_on_past_an_introducing_sentence_and_through_a_list():
    sentences = ["主要措施如下：", "（一）减免中小企业三个月国有房产租金；", "（二）延期缴纳职工社会保险费至六月底；",
                 "（三）对新增贷款给予百分之五十的贴息。", "另行通知。"]
    assert continued(sentences, 0) == [0, 1, 2, 3]
    whole = "这是一个足够长的句子，它本身就把问题回答得完整清楚，所以不需要再往下接着引用别的句子了，读者看到这里已经知道答案是什么。"
    assert continued([whole, "下一句。"], 0) == [0]


def test_a_run_of_sentences_is_quoted_as_written_with_one_marker():
    text = ("对受疫情影响的企业采取以下措施：减免承租国有房产的中小企业三个月租金；"
            "延期缴纳职工基本养老保险、失业保险和工伤保险等社会保险费至六月底。其他事项另行通知。")
    draft = answer("对受疫情影响的企业采取哪些措施?", clause(text))
    assert "采取以下措施：减免承租国有房产的中小企业三个月租金；延期缴纳职工基本养老保险、失业保险和工伤保险等社会保险费至六月底[1]。" in draft.text
    assert "另行通知" not in draft.text


def test_the_documents_title_does_not_make_a_sentence_win():
    lead = "某市支持企业发展的通知印发，各区要认真贯彻落实。"
    body = "对新招用员工的企业，按每人1000元给予一次性吸纳就业补贴。"
    draft = answer("某市支持企业发展的通知对招用员工的企业给予多少补贴?", clause(lead + body))
    assert body.rstrip("。") in draft.text and draft.text.index(body[:6]) < len(draft.text)
    assert draft.sentences[0][0] == body


def test_an_faq_question_loses_to_its_answer():
    text = "问：外地人可否进城看病就医？答：可以，凭健康码和预约信息进城就医，陪同人员不超过一人。"
    draft = answer("外地人进城看病需要什么?", clause(text))
    assert "凭健康码和预约信息" in draft.text


@pytest.mark.parametrize(
    ("question", "shown"),
    [("融资担保奖补这事找哪个部门?", True), ("融资担保机构有奖补吗?", False)],
)
def test_whom_to_ask_is_answered_with_the_responsible_bodies(question, shown):
    item = clause("对支持企业成效明显的融资担保机构给予奖补支持。(责任单位:省地方金融监管局、省财政厅)")
    assert responsibility(item) == "(责任单位:省地方金融监管局、省财政厅)"
    draft = answer(question, item)
    assert ("省地方金融监管局" in draft.text) is shown


def test_a_when_question_quotes_the_sentence_with_the_date_and_one_pointing_back_brings_its_antecedent():
    text = ("2月12日，市交通运输局发布通告。当日，全市公共交通工具正式启用市民出行实名制登记系统。"
            "乘客上车前须扫码登记个人信息。")
    draft = answer("市民出行实名制登记系统何时启用？", clause(text))
    assert "2月12日" in draft.text and "正式启用" in draft.text


def test_a_how_much_question_about_a_loan_prefers_the_sentence_with_an_amount():
    text = ("这是市税务局与银行联合推出的减税抗疫贷投放的首笔贷款。"
            "该产品面向纳税信用良好的小微企业，单户最高可贷500万元。")
    draft = answer("减税抗疫贷最多贷多少？", clause(text))
    assert "500万元" in draft.text


def test_what_is_asked_outweighs_how_the_asker_describes_itself():
    ranking = clause("对综合排名前3位、营业收入增长率高的地区给予通报表彰。", path="二、6")
    reward = clause("对增长较快、达到一定规模的企业给予奖励。", path="二、5")
    question = "我们是省级企业，这两年营业收入增长率很高，还有没有奖励可拿？"
    # Ranked nearly alike (the ranking cannot tell them apart): the sentences' fit to what is asked decides.
    evidence = [Evidence(ranking, 1.0, 1), Evidence(reward, 0.98, 2)]
    gen = generator(ranking.text, reward.text)
    assert gen.answer(Query(question, question, asked="还有没有奖励可拿？"), evidence).sources[0].clause_path == "二、5"


def test_a_quote_cut_by_the_index_goes_on_in_the_clauses_next_part():
    """A long 前言 the index cut in parts: the quote that ends on part 1's last, introducing sentence goes on with
    part 2's first sentence, which is cited as a clause of its own; a part not retrieved is not quoted."""
    first = Clause(doc=DOC, clause_path="前言", headings=(), text="会议研究了企业复工问题。三是规范委托贷款的资金用途。",
                   search_text="", span=(0, 24), part=1, parts=2)
    second = Clause(doc=DOC, clause_path="前言", headings=(), text="明确规定委托资金不得用于股票投资。另有安排。",
                    search_text="", span=(24, 46), part=2, parts=2)
    df = Counter(g for text in (first.text, second.text) for g in set(bigrams(text)))
    gen = ExtractiveGenerator(df, 12, next_part=lambda c: second if c == first else None)
    question = "委托贷款的资金用途有什么规定?"
    draft = gen.answer(Query(question, question), [Evidence(first, 0.9, 1), Evidence(second, 0.5, 2)])
    assert draft.sources == (first, second)
    assert draft.text.endswith("三是规范委托贷款的资金用途[1]。明确规定委托资金不得用于股票投资[2]。")
    assert "另有安排" not in draft.text
    alone = gen.answer(Query(question, question), [Evidence(first, 0.9, 1)])
    assert alone.sources == (first,) and "股票" not in alone.text


def test_the_next_part_is_the_following_part_of_the_same_clause_only():
    from tests.test_generators import snapshot_of  # Snapshot.next_part over a list of clauses

    def part(path: str, n: int, parts: int) -> Clause:
        return Clause(doc=DOC, clause_path=path, headings=(), text=f"{path}{n}", search_text="", span=(0, 1),
                      part=n, parts=parts)

    clauses = (part("前言", 1, 2), part("前言", 2, 2), part("一、", 1, 1), part("二、", 1, 2), part("二、", 2, 2))
    view = snapshot_of(clauses)
    assert view.next_part(clauses[0]) is clauses[1]
    assert [view.next_part(c) for c in clauses[1:3]] == [None, None]  # the last part; an uncut clause
    assert view.next_part(clauses[3]) is clauses[4]


def test_a_bare_heading_names_the_subject_of_its_clauses_sentences():
    """"2.市内运输" is not quoted, but the question "市内运输如何办理通行证?" is answered by the sentence of the clause
    it heads (ranked first), not by the next clause's sentence that repeats "办理《通行证》" twice."""
    from assistant.generators.extractive import bare_heading

    inner = clause("2.市内运输。由县级指挥部成员单位直接向市指挥部交通运输组协调处理。",
                   headings=("一、通行证", "2.市内运输"), path="一、2")
    scope = clause("（一）办理范围。除生鲜农产品运输车辆不办理《通行证》外，其余应急运输车辆均要办理《通行证》。",
                   headings=("一、通行证", "（一）办理范围"), path="一、（一）")
    assert bare_heading(inner) == "市内运输"
    assert bare_heading(clause("x", headings=("一、对受疫情影响较大的中小企业给予房租减免和社保缓缴支持",))) == ""
    # The notice speaks of 办理《通行证》 in many clauses: those words tell its clauses apart less than 市内运输.
    others = [f"{n}.第{n}类车辆办理《通行证》须提交申请表。" for n in range(3, 9)]
    gen = generator(inner.text, scope.text, *others)
    gen.rank_prior = 1.0  # the heading's own weight, whatever the chosen prior
    question = "市内运输如何办理《通行证》?"
    draft = gen.answer(Query(question, question), [Evidence(inner, 0.77, 1), Evidence(scope, 0.73, 2)])
    assert draft.sources == (inner,) and "协调处理" in draft.text



def test_further_sentences_after_the_best_one_answer_an_open_question_at_their_own_ratio():
    """An open question ("出台了哪些措施?") quotes the sentences after the best one that share fewer of its words, at
    ``keep_ratio_open``; the sentences before it, and every further sentence for a question asking for a kind of
    answer ("奖励多少?"), only at ``keep_ratio``; a figure of the kind asked does not lift a sentence on another
    award into the quote."""
    awards = clause("对新认定的独角兽企业给予最高300万元一次性奖励。对达到考核目标的区县，市财政给予最高200万元奖励。",
                    headings=("2.实行激励奖补政策",), path="三、（一）2")
    df = Counter(bigrams(awards.text))
    amount = "达到考核目标的区县最高奖励多少?"
    for ratio in (0.05, 0.3):
        gen = ExtractiveGenerator(df, 12, keep_ratio=ratio, keep_ratio_open=0.05)
        draft = gen.answer(Query(amount, amount), [Evidence(awards, 1.0, 1)])
        assert draft.text.count("[1]") == 1 and "区县" in draft.text
        assert ("独角兽" in draft.text) is (ratio == 0.05)  # it shares only 奖励/最高 with the question
    measures = clause("市里曾在去年对中小企业减免过三个月的国有房产租金，今年不再执行这一做法，改由各区县自行确定。"
                      "为帮助受疫情影响的企业渡过难关，市里近日研究出台了一系列支持企业稳定生产经营、加快复工复产的政策措施，"
                      "由各区县和市直有关部门抓好落实。对中小企业缓缴三个月社会保险费，延期缴纳职工住房公积金至六月底。")
    open_question = "市里近日对企业出台了哪些措施?"
    df = Counter(bigrams(measures.text))
    for ratio, quoted in ((0.05, True), (0.6, False)):
        gen = ExtractiveGenerator(df, 12, keep_ratio=0.6, keep_ratio_open=ratio)
        draft = gen.answer(Query(open_question, open_question), [Evidence(measures, 1.0, 1)])
        assert draft.text.count("[1]") == 1 and "出台了一系列" in draft.text
        assert ("缓缴三个月" in draft.text) is quoted, ratio  # after the best sentence
        assert "去年" not in draft.text  # before it: held to keep_ratio
