"""The metadata of each seed, status computed from the date asked, and the catalog's corrections."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import CatalogError
from index.catalog import load_catalog
from index.documents import read_document
from index.gazetteer import default_gazetteer
from tests.conftest import CORPUS, TEST_DATA, TODAY
from tests.test_clean import CHONGQING_DRAFT, CHONGQING_TECH, JIANGMEN, JILIN, RIZHAO


def doc(name: str, folder=CORPUS, catalog_path=CORPUS / "catalog.yaml"):
    return read_document(folder / name, load_catalog(catalog_path), default_gazetteer())[0]


EXPECTED = {
    CHONGQING_DRAFT: dict(
        title="重庆市支持“专精特新”中小企业高质量发展三年行动计划（2021-2023年）（征求意见稿）",
        doc_number=None, issuer="重庆市经济和信息化委员会", province="重庆市", city=None, level="provincial",
        issued_date="2021-09-22", published_date="2021-09-23", period="2021—2023", status="draft_for_comment",
    ),
    RIZHAO: dict(
        title="日照市“专精特新”中小企业培育提升行动方案（2022—2025年）", doc_number="日政办字〔2022〕10号",
        issuer="日照市人民政府办公室", province="山东省", city="日照市", level="municipal",
        issued_date="2022-03-23", published_date=None, period="2022—2025", status="period_ended",
    ),
    CHONGQING_TECH: dict(
        title="重庆市科技型中小企业创新发展行动计划（2022—2025年）", doc_number="渝府办发〔2022〕56号",
        issuer="重庆市人民政府办公厅", province="重庆市", city=None, level="provincial",
        issued_date="2022-05-06", published_date="2022-05-09", period="2022—2025", status="period_ended",
    ),
    JIANGMEN: dict(
        title="江門市推動專精特新中小企業倍增發展行動方案（2024-2026年）", doc_number="江府辦函〔2024〕13號",
        issuer="江門市人民政府辦公室", province="广东省", city="江门市", level="municipal",
        issued_date="2024-01-30", published_date=None, period="2024—2026", status="in_force",
    ),
    JILIN: dict(
        title="吉林省人民政府关于实施“专精特新”中小企业高质量发展梯度培育工程的意见",
        doc_number="吉政办明电〔2022〕1号", issuer="吉林省人民政府", province="吉林省", city=None, level="provincial",
        issued_date=None, published_date="2022-01-19", period=None, status="in_force",
    ),
}


@pytest.mark.parametrize("seed", sorted(EXPECTED))
def test_seed_metadata(seed):
    metadata = doc(seed).metadata(TODAY)
    for key, value in EXPECTED[seed].items():
        assert metadata[key] == value, key
    assert "搜狐" not in metadata["title"]


def test_traditional_document_is_flagged_and_others_are_not():
    assert doc(JIANGMEN).traditional
    assert not any(doc(seed).traditional for seed in (CHONGQING_DRAFT, RIZHAO, CHONGQING_TECH, JILIN))


def test_status_is_computed_from_the_date_asked_not_frozen():
    jiangmen = doc(JIANGMEN)
    assert jiangmen.status(dt.date(2026, 12, 31)) == "in_force"
    assert jiangmen.status(dt.date(2027, 1, 1)) == "period_ended"
    assert doc(RIZHAO).status(dt.date(2025, 6, 1)) == "in_force"
    assert doc(CHONGQING_DRAFT).status(dt.date(2030, 1, 1)) == "draft_for_comment"


def test_a_policy_is_not_yet_in_force_before_its_period_starts():
    from core.types import STATUS_LABELS

    rizhao = doc(RIZHAO)  # 2022—2025
    assert rizhao.status(dt.date(1900, 1, 1)) == "not_yet_in_force"
    assert rizhao.status(dt.date(2021, 12, 31)) == "not_yet_in_force"
    assert rizhao.status(dt.date(2022, 1, 1)) == "in_force"
    assert doc(CHONGQING_DRAFT).status(dt.date(1900, 1, 1)) == "draft_for_comment"
    assert doc(JILIN).status(dt.date(1900, 1, 1)) == "in_force"  # no period: nothing says when it starts
    assert STATUS_LABELS["not_yet_in_force"] == "未到实施期"
    assert rizhao.metadata(dt.date(2021, 6, 1))["status"] == "not_yet_in_force"


def test_truncated_source_is_reported_as_a_defect():
    assert any("mid-sentence" in d for d in doc(RIZHAO).defects)
    assert doc(CHONGQING_TECH).defects == ()


def test_catalog_fix_repairs_encoding_damage(tmp_path):
    repaired = doc(JIANGMEN)
    assert "政銀保”貸款" in repaired.text and "?" not in repaired.text
    (tmp_path / "empty.yaml").write_text("documents: {}\n", encoding="utf-8")
    damaged = doc(JIANGMEN, catalog_path=tmp_path / "empty.yaml")
    assert any("encoding damage" in d and "政銀?" in d for d in damaged.defects)


def test_catalog_overrides_win_over_the_extractor(tmp_path):
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        f"documents:\n  {JILIN}:\n    issued_date: 2022-01-18\n    period: 2022-2025\n    issuer: 吉林省人民政府办公厅\n",
        encoding="utf-8",
    )
    jilin = doc(JILIN, catalog_path=catalog)
    assert jilin.issued_date == dt.date(2022, 1, 18)
    assert jilin.issuer == "吉林省人民政府办公厅"
    assert jilin.status(TODAY) == "period_ended"


@pytest.mark.parametrize(
    "content",
    ["documents: [unclosed", "documents:\n  a.txt:\n    colour: red\n", "documents:\n  a.txt:\n    issued_date: soon\n"],
)
def test_malformed_catalog_is_a_clear_error(tmp_path, content):
    path = tmp_path / "catalog.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CatalogError):
        load_catalog(path)


def test_law_metadata_from_extra_corpus():
    law = doc("cn_sme_promotion_law_2017.txt", folder=TEST_DATA)
    assert law.title == "中华人民共和国中小企业促进法"
    assert law.level == "national" and law.region is None
    assert law.issued_date == dt.date(2017, 9, 1)
    beijing = doc("beijing_sme_promotion_regulation_2020.txt", folder=TEST_DATA)
    assert beijing.province == "北京市" and beijing.level == "provincial"


def _title_of(text: str) -> str | None:
    from index.clean import Cleaned
    from index.metadata import extract

    return extract(Cleaned(text=text, removed=[]), default_gazetteer()).title


_BODY = ("各县（区）卫生健康委、开发区（新区）社发局、市直市管相关医疗卫生机构：为做好新型冠状病毒感染的肺炎相关人员的"
         "心理疏导工作，贯彻落实有关指导原则，有序开展紧急心理危机干预和心理疏导工作，现将有关要求通知如下：")


@pytest.mark.parametrize("first_line, title", [
    # a page that lost its breaks: the title runs into the body, and a later numbered heading ends like a title
    (f"关于开展心理危机干预的通知 {_BODY}", "关于开展心理危机干预的通知"),
    # the issuers come first, each a piece too short to be a title
    (f"财政部 税务总局 关于支持疫情防控有关税收政策的公告 财政部 税务总局公告2020年第8号 {_BODY}",
     "关于支持疫情防控有关税收政策的公告"),
    # a news page: a kicker, then the headline, then the dateline
    (f"集结湖北！ 国家卫生健康委建立省际对口支援工作机制 新华社北京2月17日电 {_BODY}", "国家卫生健康委建立省际对口支援工作机制"),
    # nothing before the body is a headline: no title rather than a dateline
    (f"重庆 重庆日报2020-02-21 07:39:15 复工复产，交通先行。{_BODY}", None),
])
def test_a_numbered_heading_is_never_the_title_of_a_page_that_lost_its_breaks(first_line, title):
    text = f"{first_line}\n一、基本原则\n（一）将心理危机干预纳入整体部署。\n二、制定干预方案\n（一）目的"
    assert _title_of(text) == title


@pytest.mark.parametrize("first_line, level, province", [
    ("财政部 税务总局 关于支持疫情防控有关税收政策的公告", "national", None),
    ("国家卫生健康委建立省际对口支援湖北省除武汉以外地市防治工作机制", "national", None),
    # a place right after the body: the province's office of a national administration
    ("国家税务总局湖南省税务局关于优化纳税缴费服务的通知", "provincial", "湖南省"),
    # a local department is not a ministry
    ("市委宣传部关于做好疫情防控宣传工作的通知", None, None),
])
def test_a_central_ministry_opening_the_title_makes_a_document_national(first_line, level, province):
    from index.clean import Cleaned
    from index.metadata import extract

    found = extract(Cleaned(text=f"{first_line}\n一、做好相关工作。", removed=[]), default_gazetteer())
    assert (found.level, found.province) == (level, province)
