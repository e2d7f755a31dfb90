"""Each cleaning rule, on the seeds' real defects; and no policy sentence lost."""

from __future__ import annotations

import re

import pytest

from core.textnorm import normalize_for_match
from index.clean import clean, find_damage, restore_cjk_punctuation
from tests.conftest import CORPUS

CHONGQING_DRAFT = "000_e612226a6a7e82f6.txt"
RIZHAO = "001_a4e583752837a0be.txt"
CHONGQING_TECH = "002_a47861c4acf66335.txt"
JIANGMEN = "003_cbcee838547fd95a.txt"
JILIN = "004_ed6825514d89ba11.txt"


def raw(name: str) -> str:
    return (CORPUS / name).read_text(encoding="utf-8")


def lines_of(text: str) -> set[str]:
    return {line.strip() for line in text.split("\n")}


@pytest.mark.parametrize(
    ("seed", "junk_lines"),
    [
        (CHONGQING_DRAFT, ["免费注册", "会员登陆", "QQ", "客服", "扫码咨询微信客服", "400 031 0045", "顶部", "在线答疑", "不限"]),
        (JIANGMEN, ["粵公網安備 44070302000670"]),
        (CHONGQING_TECH, ["您即将离开“重庆市人民政府网站”"]),
        (JILIN, ["扫一扫在手机打开当前页", "吉林省惠企惠民政策手册", "原文链接", "咨询电话", "1.", "4."]),
    ],
)
def test_portal_chrome_lines_are_removed(seed, junk_lines):
    cleaned = clean(raw(seed))
    remaining = lines_of(cleaned.text)
    for junk in junk_lines:
        assert junk in raw(seed)
        assert junk not in remaining


def test_portal_header_fields_become_metadata_not_text():
    cleaned = clean(raw(CHONGQING_TECH))
    assert cleaned.header["发文字号"] == "渝府办发〔2022〕56号"
    assert cleaned.header["成文日期"] == "2022-05-06"
    assert "索引号" not in cleaned.text and "|" not in cleaned.text
    jilin = clean(raw(JILIN))
    assert jilin.header["文件号"] == "吉政办明电〔2022〕1号"
    assert "字体" not in jilin.text and "发布时间" not in jilin.text


def test_html_tag_debris_is_removed():
    cleaned = clean(raw(JILIN))
    assert "<" not in cleaned.text and ">" not in cleaned.text
    assert any(r.rule == "HTML tag debris" for r in cleaned.removed)
    assert "对首次被认定为省级专精特新中小企业的,给予一次性20万元奖励" in cleaned.text  # verbatim


def test_spam_phrase_is_cut_out_of_sentences_which_stay_whole():
    source = raw(CHONGQING_TECH)
    assert source.count("搜狐体育直播") == 6
    cleaned = clean(source)
    assert "搜狐体育" not in cleaned.text
    assert "引导企业“上云用云”,加速技术迭代升级" in cleaned.text  # spam cut out, the rest verbatim
    assert "推动科技成果向科技型中小企业转移转化" in cleaned.text
    assert sum(1 for r in cleaned.removed if r.rule == "injected spam phrase") == 6


def test_a_paragraph_scraped_twice_is_kept_once():
    paragraph = "2.促进数字化转型。落实省级中小企业数字化转型城市试点工作。"
    cleaned = clean(f"一、主要任务\n{paragraph}\n三、组织保障\n21:{paragraph}\n{paragraph}")
    assert cleaned.text == f"一、主要任务\n{paragraph}\n三、组织保障"
    assert [r.rule for r in cleaned.removed] == ["duplicated paragraph", "duplicated paragraph"]


def test_encoding_damage_is_detected_and_reported():
    damage = find_damage(raw(JIANGMEN))
    assert damage and "政銀?!辟J款" in damage[0]
    assert clean(raw(JIANGMEN)).damage
    for seed in (CHONGQING_DRAFT, RIZHAO, CHONGQING_TECH, JILIN):
        assert clean(raw(seed)).damage == ()


def test_genuine_question_marks_and_latin_letters_are_not_damage():
    assert find_damage("企业可以申请吗?") == []
    assert find_damage("按“亩产效益”评价A类企业落实，力争新增A股上市企业") == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("(一)指导思想。", "（一）指导思想。"),
        ("市场主体,政府引导", "市场主体，政府引导"),
        ("研发投入占营业收入比重达6.5%以上", "研发投入占营业收入比重达6.5%以上"),
        ("发布时间 10:57:00", "发布时间 10:57:00"),
        ("plain ascii, kept (as is)", "plain ascii, kept (as is)"),
    ],
)
def test_half_width_punctuation_beside_chinese_is_restored(line, expected):
    assert restore_cjk_punctuation(line) == expected


@pytest.mark.parametrize("seed", [CHONGQING_DRAFT, RIZHAO, CHONGQING_TECH, JIANGMEN, JILIN])
def test_every_policy_sentence_survives_cleaning(seed):
    source = raw(seed).replace("搜狐体育直播:", "").replace("搜狐体育直播：", "")
    source = re.sub(r"<[^>]+>", "", source)
    cleaned = normalize_for_match(clean(raw(seed)).text)
    pieces = [s.strip() for s in re.split(r"(?<=[。；])|\n", source)]
    sentences = [s for s in pieces if s.endswith(("。", "；", ";")) and len(re.findall(r"[\u4e00-\u9fff]", s)) >= 15]
    assert len(sentences) > 20
    lost = [s for s in sentences if normalize_for_match(s) not in cleaned]
    assert lost == []


def test_a_page_that_lost_its_line_breaks_is_split_at_indentation_and_numbering():
    body = "为做好疫情防控工作，现通知如下。" * 20
    run_on = f"关于做好防控工作的通知 {body}\u3000\u3000一、加强组织领导。 （二）落实责任。 3.做好保障。 第五条 本通知自发布之日起施行。"
    lines = clean(run_on).text.split("\n")
    assert lines[0].startswith("关于做好防控工作的通知 为做好") and lines[1:] == [
        "一、加强组织领导。", "（二）落实责任。", "3.做好保障。", "第五条 本通知自发布之日起施行。",
    ]
    short = "一、短行 （二）不拆"
    assert clean(short).text == short  # only long run-on lines are split


def test_breadcrumbs_share_bars_and_pager_links_of_a_page_are_removed():
    from dataclasses import replace

    from assistant.generators.extractive import sentences_of
    from index.clauses import split_clauses
    from index.loaders import load
    from tests.conftest import TEST_DATA
    from tests.test_metadata import doc

    cleaned = clean(load(TEST_DATA / "portal_page.html"))
    chrome = ["当前位置", "首页", "政策文件 >", "分享", "微信", "微博", "QQ空间", "打印本页", "关闭窗口", "上一篇", "下一篇",
              "春节期间安全生产", "工业发展规划"]
    assert [junk for junk in chrome if junk in cleaned.text] == []
    for sentence in ("为支持中小企业健康发展，结合本市实际，制定以下措施。", "（一）对首次认定的专精特新企业最高补助35万元。",
                     "二、本措施自印发之日起施行。"):
        assert sentence in cleaned.text
    rules = {r.rule for r in cleaned.removed}
    assert {"breadcrumb", "share bar", "previous/next links"} <= rules
    clauses = split_clauses(replace(doc(RIZHAO), text=cleaned.text, traditional=False), 500)
    last = clauses[-1]
    assert last.text == "二、本措施自印发之日起施行。" and sentences_of(last) == [last.text]
