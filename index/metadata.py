"""Metadata of a cleaned document: title, 文号, issuing body, region and level, dates, period, draft flag.

Extraction reads the portal's header fields first, then the document's own text (the 印发 notice, the
signature block). Whatever it cannot find a person may set in the catalog, which always wins.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from core.textnorm import to_simplified
from core.types import Period
from index.clean import Cleaned, restore_cjk_punctuation
from index.gazetteer import Gazetteer
from index.numbering import ANY_MARKER

_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,12}[〔\[［（(]\d{4}[〕\]］）)]\d{1,4}[号號]")
_TITLE_IN_NOTICE = (
    re.compile(r"关于印发《(.+?)》的通知"),
    re.compile(r"^《(.+?)》已[经經]"),
    re.compile(r"起草了《(.+?)》"),
    re.compile(r"^(?:.{2,30})印发(.{6,80}?)的通知$"),
)
_TITLE_ENDINGS = re.compile(r"(意见|通知|方案|办法|计划|决定|规定|条例|细则|措施|规划|法|公告|通告|指南|（征求意见稿）)$")
# A numbered heading of the body ("二、制定干预方案", "（一）…", "1.…", "第三条") is never the document's title.
_HEADING = re.compile(r"^\s*" + ANY_MARKER)
# Pieces of a run-in first line that are no title: a dateline, a time, a byline.
_NOT_TITLE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}:\d{2}|来源|编辑|记者|日电")
_ORG = re.compile(r"^.{2,30}?(人民代表大会常务委员会|人民政府办公厅|人民政府办公室|人民政府|办公厅|办公室|委员会|国务院|厅|局)$")
_CN_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_PERIOD = re.compile(r"[（(]\s*(\d{4})\s*[-—–－~至到]+\s*(\d{4})\s*年?\s*[）)]")
_LAW_ENACTED = re.compile(
    r"^(\d{4}年\d{1,2}月\d{1,2}日)\s*(.{2,40}?(?:人民代表大会常务委员会|人民代表大会|国务院))"
)
NATIONAL_ISSUERS = ("国务院", "全国人民代表大会", "中共中央", "中华人民共和国")
# A central ministry or commission opening the issuer or the title ("财政部 税务总局…", "国家卫生健康委建立…"):
# national, unless a place follows it at once ("国家税务总局湖南省税务局").
_CENTRAL_BODY = re.compile(
    r"^(?!市|省|县|区|州|中共|共青团|集团)"  # a local party or government department, a company's head office
    r"(?:国家[\u4e00-\u9fff]{1,8}?(?:委员会|委|总局|局|署)|[\u4e00-\u9fff]{2,10}?部|海关总署|审计署|税务总局|"
    r"市场监管总局|中国人民银行|人民银行|银保监会|证监会|国资委)(?=[、，\s和]|关于|印发|发布|建立|$)"
)


@dataclass(frozen=True)
class Extracted:
    """What the extractor found; None where the document does not say."""

    title: str | None
    doc_number: str | None
    issuer: str | None
    province: str | None
    city: str | None
    level: str | None
    issued_date: dt.date | None
    published_date: dt.date | None
    period: Period | None
    draft: bool
    comment_deadline: dt.date | None = None


def parse_date(text: str | None) -> dt.date | None:
    """A date written 2022年3月23日 or 2022-03-23, else None."""
    if not text:
        return None
    match = _CN_DATE.search(text) or _ISO_DATE.search(text)
    if not match:
        return None
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _title(lines: list[str], header: dict[str, str]) -> str | None:
    candidates = [header.get("名称", ""), header.get("标题", "")] + lines[:40]
    for pattern in _TITLE_IN_NOTICE:
        for line in candidates:
            match = pattern.search(line)
            if match:
                return match.group(1).strip()
    # A title line, or a title broken over up to four lines by the page layout.
    for start in range(min(15, len(lines))):
        for end in range(start + 1, min(start + 5, len(lines) + 1)):
            parts = lines[start:end]
            candidate = "".join(parts)
            if len(candidate) > 80 or any(mark in part for part in parts for mark in "，。：:") \
                    or any(_HEADING.match(part) for part in parts):
                break
            if _TITLE_ENDINGS.search(to_simplified(candidate)):
                return candidate
    if not lines:
        return None
    if len(lines[0]) <= 80:
        return lines[0]
    return _run_in_title(lines[0].split(" "))


def _run_in_title(pieces: list[str]) -> str | None:
    """The title of a page that lost its breaks, where the title runs into the body after a space: the first
    piece; when that is too short to be a title (an issuer "财政部", a kicker "集结湖北！"), the next piece that
    ends like a title ("…的公告"), else the next headline-like one, before the body's sentences start."""
    if 6 <= len(pieces[0]) <= 80:
        return pieces[0]
    for piece in pieces[:8]:
        if any(mark in piece for mark in "，。"):
            break
        if 4 <= len(piece) <= 80 and _TITLE_ENDINGS.search(to_simplified(piece)):
            return piece
    for piece in pieces[1:6]:
        if "。" in piece or piece.endswith(("：", ":")):  # the body has started (a sentence, a salutation)
            break
        if 6 <= len(piece) <= 80 and not _NOT_TITLE.search(piece) and not _HEADING.match(piece):
            return piece
    return None


def _signature(lines: list[str]) -> tuple[str | None, dt.date | None]:
    """The issuing body and date of the first signature block (an organ's name, then a date line)."""
    for index, line in enumerate(lines[:-1]):
        if _ORG.match(to_simplified(line)) and re.fullmatch(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日", lines[index + 1]):
            return line, parse_date(lines[index + 1])
    return None, None


def _law_enactment(lines: list[str]) -> tuple[str | None, dt.date | None]:
    """For laws and regulations: the body that passed (or last revised) them, and when."""
    found = [m for m in (_LAW_ENACTED.match(line) for line in lines[:8]) if m]
    if not found:
        return None, None
    last = found[-1]
    issuer = re.sub(r"第[一二三四五六七八九十百]+届", "", last.group(2))
    return issuer, parse_date(last.group(1))


def _doc_number(lines: list[str], header: dict[str, str]) -> str | None:
    for key in ("发文字号", "文号", "文件号"):
        match = _DOC_NUMBER.search(header.get(key, ""))
        if match:
            return match.group(0)
    for line in lines[:30]:
        match = _DOC_NUMBER.search(line)
        if match and len(line) <= len(match.group(0)) + 4:
            return match.group(0)
    return None


def _region(issuer: str | None, title: str | None, gazetteer: Gazetteer) -> tuple[str | None, str | None, str | None]:
    text = f"{issuer or ''} {title or ''}"
    if any(name in to_simplified(text) for name in NATIONAL_ISSUERS) and not gazetteer.find(issuer or ""):
        return None, None, "national"
    opening = to_simplified(issuer or title or "")
    body = _CENTRAL_BODY.match(opening)
    if body and not gazetteer.find(body.group(0)):
        return None, None, "national"
    places = gazetteer.find(issuer or "") or gazetteer.find(title or "")
    if not places:
        return None, None, None
    place = places[0]
    if place.level == "province":
        return place.province, None, "provincial"
    if place.level == "city":
        return place.province, place.name, "municipal"
    return place.province, None, "county"


def extract(cleaned: Cleaned, gazetteer: Gazetteer) -> Extracted:
    """Read a document's metadata from its cleaned text and the portal's header fields."""
    lines = cleaned.text.split("\n")
    header = {key: value for key, value in cleaned.header.items()}
    title = _title(lines, header)
    issuer, issued = _signature(lines)
    if issuer is None:
        issuer, issued = _law_enactment(lines)
    if header.get("发布机构"):
        issuer = header["发布机构"]
    if issuer is None and title and "关于" in title:
        prefix = title.split("关于")[0]
        issuer = prefix if _ORG.match(to_simplified(prefix)) else None
    issued = parse_date(header.get("成文日期")) or issued
    published = parse_date(header.get("发布日期") or header.get("发布时间") or header.get("生成日期"))
    province, city, level = _region(issuer, title, gazetteer)
    period_match = _PERIOD.search(title or "")
    period = Period(int(period_match.group(1)), int(period_match.group(2))) if period_match else None
    draft = "征求意见稿" in to_simplified(title or "") or "征求意见稿" in to_simplified("\n".join(lines[:20]))
    deadline = _comment_deadline(cleaned.text, header) if draft else None
    return Extracted(
        title=restore_cjk_punctuation(title) if title else None,
        doc_number=_doc_number(lines, header),
        issuer=issuer,
        province=province,
        city=city,
        level=level,
        issued_date=issued,
        published_date=published,
        period=period,
        draft=draft,
        comment_deadline=deadline,
    )


_COMMENT_DEADLINE = re.compile(
    r"(?:征求意见|反馈意见|意见反馈|反馈)[^。\n]{0,12}?(?:截止|截至)(?:时间|日期)?(?:为|是|到|至)?[:：]?\s*"
    r"(\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}-\d{1,2}-\d{1,2})"
    r"|(?:截止|截至)(?:时间|日期)?(?:为|是)?[:：]?\s*(\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)"
)


def _comment_deadline(text: str, header: dict[str, str]) -> dt.date | None:
    """Until when a draft takes comments: the portal's 截止日期 field, or the notice's own words."""
    found = parse_date(header.get("截止日期"))
    if found:
        return found
    match = _COMMENT_DEADLINE.search(to_simplified(text))
    return parse_date(match.group(1) or match.group(2)) if match else None
