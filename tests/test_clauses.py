"""Clause paths, heading chains, spans and limits, on every seed and on a law of the extra corpus."""

from __future__ import annotations

import json

import pytest

from core.textnorm import normalize_for_match
from index.clauses import PREAMBLE, pack, split_clauses
from tests.conftest import ROOT, TEST_DATA
from tests.test_clean import CHONGQING_DRAFT, CHONGQING_TECH, JIANGMEN, JILIN, RIZHAO
from tests.test_metadata import doc

SEEDS = [CHONGQING_DRAFT, RIZHAO, CHONGQING_TECH, JIANGMEN, JILIN]
# Verbatim pieces answers must rest on: the dev set's, and more across all five seeds.
MORE_GOLD = [
    "对首次被认定为省级专精特新中小企业的，给予一次性20万元奖励",
    "按贷款年利息的50%给予贴息补助",
    "按评估费的50%给予补助，每年不超过3万元",
    "对单户担保额500万元以上的担保费率原则上不超过1.5%",
    "单独调配30亿元再贷款和20亿元再贴现额度",
    "按照设计服务合同实际发生额的50%给予补贴，每年补贴不超过100万元",
    "对新获得认定的独角兽企业给予最高300万元一次性奖励",
    "新增“专精特新”上市企业5家以上",
    "力争每年推动1-2家专精特新中小企业上市",
    "全市新培育科技型中小企业1万家以上",
    "对完成年度绩效目标的企业给予3年连续稳定的资金支持",
    "平均研发投入占营业收入比重达6.5%以上",
    "对通过“政银保”贷款开展数字化转型发展的专精特新中小企业予以贴息支持",
    "按规定对首席技师工作室给予20万元的补助",
    "对新认定的国家级产业技术基础公共服务平台一次性奖励100万元",
]


@pytest.fixture(scope="module")
def seed_clauses():
    return {seed: split_clauses(doc(seed), 500) for seed in SEEDS}


def by_path(clauses, path):
    return [c for c in clauses if c.clause_path == path]


@pytest.mark.parametrize(
    ("seed", "path", "heading", "piece"),
    [
        (RIZHAO, "三、（一）2", "2.实行激励奖补政策", "市财政给予最高300万元奖励"),
        (JILIN, "二、（一）5", "5.实行分级奖补政策", "对首次被认定为省级专精特新中小企业的，给予一次性20万元奖励"),
        (JIANGMEN, "二、（三）2", "2.暢通資金融通渠道", "深化與上交所、深交所、北交所合作"),
        (CHONGQING_TECH, "二、（四）13", "13.加强创业投资引导", "对投资初创期科技型中小企业的创投基金公司"),
        (CHONGQING_DRAFT, "二、（三）", "（三）融资服务行动，拓展企业融资渠道", "扩大直接融资规模"),
    ],
)
def test_clause_paths_follow_the_documents_numbering(seed_clauses, seed, path, heading, piece):
    clauses = by_path(seed_clauses[seed], path)
    assert clauses, f"no clause {path}"
    assert clauses[0].headings[-1] == heading
    assert any(normalize_for_match(piece) in normalize_for_match(c.text) for c in clauses)


def test_heading_chain_and_citation_name(seed_clauses):
    clause = by_path(seed_clauses[RIZHAO], "三、（一）2")[0]
    assert clause.headings == ("三、工作重点", "（一）实施梯度培育，构建“专精特新”企业成长体系", "2.实行激励奖补政策")
    assert clause.name == "《日照市“专精特新”中小企业培育提升行动方案（2022—2025年）》三、（一）2"


def test_a_continuation_paragraph_stays_in_its_clause(seed_clauses):
    (clause,) = by_path(seed_clauses[JIANGMEN], "二、（三）2")
    assert clause.text.startswith("2.暢通資金融通渠道") and "力爭每年推動1-2家" in clause.text
    assert "深化與上交所" in clause.text


def test_headings_without_body_are_folded_into_children(seed_clauses):
    for clauses in seed_clauses.values():
        for clause in clauses:
            assert clause.text.strip() != clause.headings[-1]
    assert not by_path(seed_clauses[RIZHAO], "三、（一）")  # heading only: folded
    assert by_path(seed_clauses[JILIN], "二、（一）1")[0].headings[0] == "二、主要任务 重点实施六大工程"


@pytest.mark.parametrize("seed", SEEDS)
def test_spans_point_into_the_cleaned_text_and_clauses_end_at_sentence_ends(seed, seed_clauses):
    document = doc(seed)
    for clause in seed_clauses[seed]:
        start, end = clause.span
        assert document.text[start:end] == clause.text
        assert len(clause.text) <= 500
        truncated_tail = seed == RIZHAO and end == len(document.text.rstrip())
        if not truncated_tail:
            assert clause.text[-1] in "。；）)：”]】", (clause.clause_id, clause.text[-20:])


def test_traditional_clause_has_simplified_search_text(seed_clauses):
    clause = by_path(seed_clauses[JIANGMEN], "二、（三）5")[0]
    assert "用電用能" in clause.text and "用电用能" in clause.search_text
    assert "用电用能" in clause.indexed_text() and "江门市" in clause.indexed_text()


def test_gold_pieces_lie_whole_inside_one_clause(seed_clauses):
    dev = [json.loads(line) for line in (ROOT / "qa" / "dev.jsonl").read_text(encoding="utf-8").splitlines()]
    pieces = [piece for case in dev for piece in case["gold_clauses"]] + MORE_GOLD
    assert len(pieces) > 30
    texts = [normalize_for_match(c.text) for clauses in seed_clauses.values() for c in clauses]
    missing = [piece for piece in pieces if not any(normalize_for_match(piece) in text for text in texts)]
    assert missing == []


def test_long_clause_is_split_at_sentence_ends_keeping_headings():
    clauses = split_clauses(doc(JILIN), 150)
    parts = [c for c in clauses if c.clause_path == "二、（三）14"]
    assert len(parts) > 1 and all(c.parts == len(parts) for c in parts)
    assert all(c.headings[-1] == "14.创新融资产品和服务" for c in parts)
    assert all(c.text[-1] in "。；;）)" for c in parts)
    assert {c.clause_id for c in parts} == {f"004_ed6825514d89ba11:二、（三）14#{i}" for i in range(1, len(parts) + 1)}


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("短句。", 10, [(0, 3)]),
        ("甲甲甲。乙乙乙。丙丙丙。", 8, [(0, 8), (8, 12)]),
        ("甲甲甲甲，乙乙乙乙，丙丙丙丙。", 6, [(0, 5), (5, 10), (10, 15)]),
        ("无标点的一段很长很长的文字", 5, [(0, 5), (5, 10), (10, 13)]),
    ],
)
def test_pack_table(text, limit, expected):
    assert pack(text, limit) == expected


def test_law_articles_split_with_chapters_in_the_heading_chain():
    law = doc("cn_sme_promotion_law_2017.txt", folder=TEST_DATA)
    clauses = split_clauses(law, 500)
    article = by_path(clauses, "第十九条")[0]
    assert article.headings[0] == "第三章 融资促进" and article.headings[-1] == "第十九条"
    assert "国家完善担保融资制度" in article.text
    assert [c.clause_path for c in clauses if c.clause_path.startswith("第")][:3] == ["第一条", "第二条", "第三条"]
    assert sum(1 for c in clauses if c.clause_path.endswith("条")) == 61
    assert clauses[0].clause_path == PREAMBLE


def test_items_inside_an_article_stay_in_the_article():
    beijing = doc("beijing_sme_promotion_regulation_2020.txt", folder=TEST_DATA)
    clauses = split_clauses(beijing, 2000)
    assert all(c.clause_path == PREAMBLE or c.clause_path.startswith("第") for c in clauses)
    assert any("（一）" in c.text for c in clauses if c.clause_path.endswith("条"))


def test_restarted_numbering_still_gives_unique_clause_ids():
    from dataclasses import replace

    text = "关于印发两个方案的通知\n一、总则\n第一个方案的内容。\n二、措施\n措施内容。\n附件2\n一、总则\n第二个方案的内容。"
    clauses = split_clauses(replace(doc(RIZHAO), text=text), 500)
    ids = [c.clause_id for c in clauses]
    assert len(ids) == len(set(ids))
    assert [c.clause_path for c in clauses].count("一、") == 2
    assert ids[-1].endswith(":一、@2")


def _notice(*lines):
    from dataclasses import replace

    return replace(doc(RIZHAO), text="\n".join(("关于支持中小企业发展的若干措施", *lines)), traditional=False)


@pytest.mark.parametrize(
    ("lines", "item"),
    [
        (("一、支持政策", "（一）对首次认定的企业最高补助35万元。", "（二）对再次认定的企业补助10万元。"),
         "（一）对首次认定的企业最高补助35万元。"),
        (("一、支持政策", "1. 对获评省级示范的企业给予奖励。", "2. 对获评国家级示范的企业给予奖励。"),
         "1. 对获评省级示范的企业给予奖励。"),
        (("一、对新认定的高新技术企业一次性奖励10万元。", "二、对复审通过的企业一次性奖励5万元。"),
         "一、对新认定的高新技术企业一次性奖励10万元。"),
        (("一、申报材料", "1.营业执照副本复印件；", "2.经办人身份证件；"), "1.营业执照副本复印件；"),
        (("一、对新认定的高新技术企业一次性奖励10万元。", "（一）申报条件", "在本市注册满一年的企业。"),
         "一、对新认定的高新技术企业一次性奖励10万元。"),
        (("一、支持疫情防控物资供应 对生产防控重点物资的企业，主管税务机关要加快审核进度，尽快办理退税。",),
         "对生产防控重点物资的企业，主管税务机关要加快审核进度，尽快办理退税。"),
    ],
)
def test_a_numbered_item_that_is_a_sentence_is_quotable_clause_text(lines, item):
    from assistant.generators.extractive import sentences_of

    clauses = split_clauses(_notice(*lines), 500)
    holding = [c for c in clauses if item in c.text]
    assert holding, [c.text for c in clauses]
    assert any(item in sentence for c in holding for sentence in sentences_of(c))


def test_a_title_like_numbered_line_stays_a_heading_not_a_quotable_sentence():
    from assistant.generators.extractive import sentences_of

    clauses = split_clauses(_notice("一、总体要求", "（一）指导思想。", "坚持稳中求进，支持企业创新发展。",
                                    "二、支持疫情防控物资供应 对生产防控重点物资的企业，尽快办理退税。"), 500)
    first = by_path(clauses, "一、（一）")[0]
    assert first.headings == ("一、总体要求", "（一）指导思想")
    assert sentences_of(first) == ["坚持稳中求进，支持企业创新发展。"]
    assert by_path(clauses, "二、")[0].headings == ("二、支持疫情防控物资供应",)
    assert not by_path(clauses, "一、")  # a title with children folds into their heading chain


@pytest.mark.parametrize(
    ("line", "alone", "heading", "carries_text"),
    [
        ("一、总体要求", False, "一、总体要求", False),
        ("一、总体要求", True, "一、总体要求", False),
        ("(一)指导思想。", False, "（一）指导思想", False),
        ("(一)指导思想。", True, "（一）", True),
        ("（一）对首次认定的企业最高补助35万元。", False, "（一）", True),
        ("2.实行激励奖补政策。对新认定的企业给予奖励。", False, "2.实行激励奖补政策", True),
        ("1.营业执照副本复印件；", False, "1.", True),
        ("十二、如何申报缴税？ 答：登录电子税务局办理。", False, "十二、如何申报缴税？", True),
        ("3.《财政部 国家税务总局关于企业资产损失税前扣除政策的通知》（财税〔2009〕57号）", True,
         "3.《财政部 国家税务总局关于企业资产损…", True),
    ],
)
def test_item_line_tells_titles_from_provisions(line, alone, heading, carries_text):
    from index.clauses import _match_marker, item_line

    assert item_line(line, _match_marker(line)[3], alone) == (heading, carries_text)
