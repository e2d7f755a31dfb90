"""Cleaning: strip portal chrome (navigation, breadcrumbs, share bars, previous/next links, widgets, footers), tag
debris and injected spam from scraped policy text, keep every policy sentence.

``clean`` is a pure function of the raw text; it returns the cleaned text, what it removed (rule by rule, for
the build log), the page's header fields (metadata the portal printed around the document) and the encoding
damage it found, which is reported, never silently indexed.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from core.textnorm import to_simplified
from index.numbering import ANY_MARKER

DEFAULT_SPAM_PHRASES: tuple[str, ...] = ("搜狐体育直播",)

_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_BULLET = re.compile(r"^[\s•·●▪◆■□]+")
# Whole lines of portal navigation, breadcrumbs, share bars, previous/next links, widgets and footers (matched on
# the simplified line).
_JUNK_LINES: dict[str, re.Pattern] = {
    "portal navigation": re.compile(
        r"^(欢迎来到.*平台!?|免费注册|会员登[陆录]|政策检索[:：]?|政策所辖[:：]?|不限|政策云端服务.*|在线答疑|政策申报|"
        r"政策匹配|政策发布|政策订阅.*|已发布政策.*条.*|\d{1,2}|吉林省惠企惠民政策手册|原文链接|咨询电话|邮箱|发文部门|"
        r"适用行业推荐[:：]?|\d{1,2}[.．]|[一二三四五六七八九十]+、)$"
    ),
    "page widget": re.compile(
        r"^(QQ|客服|微信|扫码|热线|电话|云端|顶部|扫码咨询微信客服|官方客户服务热线|微信扫码关注|开启云端服务|"
        r"\d{3} \d{3} \d{4}|浏览量[:：]?\s*\d*|字体[:：]?|扫一扫在手机打开当前页|打印(本页)?|关闭(窗口)?|【?[大中小]】?|"
        r"(【(打印本页|打印|关闭窗口|关闭|收藏本页|收藏|返回顶部)】\s*)+)$"
    ),
    "breadcrumb": re.compile(r"^((当前|您的|你的|您现在的|你现在的|所在)位置\s*[:：].*|首页\s*(>|＞|»|›|→|/|-+>).*)$"),
    "share bar": re.compile(r"^(分享(到|至)\s*[:：]?.*|((微信|微博|新浪微博|腾讯微博|QQ空间|QQ好友|朋友圈|豆瓣|人人网)\s*){2,})$"),
    "previous/next links": re.compile(r"^((上一篇|下一篇|上一条|下一条)\s*[:：].*|上一篇|下一篇)$"),
    "site footer": re.compile(r"^(.{0,20}公网安备\s*\d+.*|您即将离开.{0,30}|.{0,10}ICP备\s*\d+.*|版权所有.*)$"),
}
# Header fields portals print around a document: key, then value on the same line or the next.
_FIELD_KEYS = (
    "索引号|主题分类|发布机构|成文日期|发布日期|生成日期|发布时间|标题|名称|发文字号|文号|文件号|来源|截止日期|有 效 性|有效性"
)
_FIELD = re.compile(rf"^({_FIELD_KEYS})\s*[:：]?\s*(.*)$")
_DATE_VALUE = re.compile(r"^\d{4}(-\d{1,2}-\d{1,2}|年\d{1,2}月\d{1,2}日)")
_DOCNO_VALUE = re.compile(r"〔\d{4}〕\d+[号號]")
_ORG_VALUE = re.compile(r"(委员会|人民政府|办公厅|办公室|厅|局|委)$")
_SCRAPER_LINE_NO = re.compile(r"^\d+:(?=\S)")
# Pages that lost their line breaks keep the paragraphs' indentation (runs of spaces) and inline numbering.
_LOST_BREAK = re.compile(rf"\s{{2,}}|\s+(?={ANY_MARKER})")
_LONG_LINE = 200
# Encoding damage: a question mark or replacement character inside Chinese text (bytes decoded with the
# wrong codec); a genuine question mark never sits inside a policy sentence.
_MOJIBAKE = re.compile("[\u4e00-\u9fff][?\ufffd](?=[^\\s”\"）)])[^\\s\u4e00-\u9fff，。,]*[\u4e00-\u9fff]?|\ufffd")
_CJK = r"\u3400-\u9fff"
_ASCII_TO_FULL = {",": "，", ";": "；", ":": "：", "(": "（", ")": "）", "!": "！"}


@dataclass(frozen=True)
class Removal:
    """One thing the cleaner removed, for the build log."""

    rule: str
    text: str


@dataclass(frozen=True)
class Cleaned:
    """The cleaner's result."""

    text: str
    removed: tuple[Removal, ...]
    header: dict[str, str] = field(default_factory=dict)
    damage: tuple[str, ...] = ()

    def summary(self) -> dict[str, int]:
        """Count of removals per rule."""
        counts: dict[str, int] = {}
        for removal in self.removed:
            counts[removal.rule] = counts.get(removal.rule, 0) + 1
        return counts


def _field_value_fits(key: str, value: str) -> bool:
    """Whether a next line is the value of an empty header field (by the value's expected shape)."""
    if "日期" in key or key in ("发布时间",):
        return bool(_DATE_VALUE.match(value))
    if key in ("文号", "发文字号", "文件号"):
        return bool(_DOCNO_VALUE.search(value))
    if key == "发布机构":
        return bool(_ORG_VALUE.search(value)) and len(value) <= 30
    if key in ("名称", "标题"):
        return len(value) <= 120
    return False


def _split_fields(line: str) -> list[str]:
    """A header line may hold several fields separated by runs of spaces or pipes."""
    return [part.strip() for part in re.split(r"\s*\|\s*|\s{2,}", line) if part.strip()]


def find_damage(text: str) -> list[str]:
    """Fragments of the text that look like encoding damage, with a little context."""
    found = []
    for match in _MOJIBAKE.finditer(text):
        start, end = max(match.start() - 6, 0), min(match.end() + 4, len(text))
        found.append(text[start:end].replace("\n", " "))
    return found


def restore_cjk_punctuation(line: str) -> str:
    """Half-width , ; : ( ) ! beside Chinese characters back to full width, as official documents print them.
    Used for titles only: clause text stays exactly as obtained, so every quote is verbatim."""
    if not re.search(f"[{_CJK}]", line):
        return line
    line = re.sub(rf"(?<=[{_CJK}）])([,;:!])|([,;:!])(?=[{_CJK}“（])", lambda m: _ASCII_TO_FULL[m.group(0)], line)
    return line.replace("(", "（").replace(")", "）")


def _remove_spam(line: str, phrases: tuple[str, ...], removed: list[Removal]) -> str:
    for phrase in phrases:
        pattern = re.compile(re.escape(phrase) + r"[:：]?")
        for match in pattern.finditer(line):
            removed.append(Removal("injected spam phrase", match.group(0)))
        line = pattern.sub("", line)
    return line


def clean(raw: str, spam_phrases: tuple[str, ...] = DEFAULT_SPAM_PHRASES) -> Cleaned:
    """Clean one scraped document (pure function)."""
    removed: list[Removal] = []
    header: dict[str, str] = {}
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\u3000", " ").replace("\xa0", " ")
    tags = _TAG.findall(text)
    if tags:
        removed.append(Removal("HTML tag debris", f"{len(tags)} tags, e.g. {tags[0]}"))
        text = _TAG.sub("", text)
    text = html.unescape(text)

    kept: list[str] = []
    seen: set[str] = set()
    lines = [part for line in text.split("\n") for part in _restore_breaks(line)]
    skip_next = False
    for index, raw_line in enumerate(lines):
        if skip_next:
            skip_next = False
            continue
        line = _BULLET.sub("", raw_line).strip()
        if not line:
            continue
        line = _remove_spam(line, spam_phrases, removed).strip()
        simplified = to_simplified(line)
        # Pipe tables and key/value header lines of the portal.
        fields = _split_fields(line)
        first = _FIELD.match(to_simplified(fields[0])) if fields else None
        if first and ("|" in line or len(line) <= 120 and (first.group(2) or len(fields) > 1 or len(line) <= 8)):
            _collect_fields(fields, header)
            key, value = first.group(1), first.group(2)
            if not value and len(fields) == 1 and index + 1 < len(lines):
                nxt = _BULLET.sub("", lines[index + 1]).strip()
                if nxt and _field_value_fits(key, to_simplified(nxt)):
                    header.setdefault(key, nxt)
                    removed.append(Removal("portal header field", f"{line} {nxt}"))
                    skip_next = True
                    continue
            removed.append(Removal("portal header field", line))
            continue
        rule = next((name for name, pattern in _JUNK_LINES.items() if pattern.match(simplified)), None)
        if rule:
            removed.append(Removal(rule, line))
            continue
        if "[阅读原文]" in line:
            line = line.replace("[阅读原文]", "").strip()
            removed.append(Removal("portal navigation", "[阅读原文]"))
        numbered = _SCRAPER_LINE_NO.sub("", line)
        if numbered in seen or (numbered != line and numbered in seen):
            removed.append(Removal("duplicated paragraph", line[:40] + "…"))
            continue
        if len(line) >= 12:
            seen.add(line)
        kept.append(line)

    damage = tuple(find_damage("\n".join(kept)))
    return Cleaned(text="\n".join(kept), removed=tuple(removed), header=header, damage=damage)


def _restore_breaks(line: str) -> list[str]:
    """A very long line is split where the page lost its paragraph breaks."""
    if len(line) <= _LONG_LINE:
        return [line]
    return [part for part in _LOST_BREAK.split(line) if part.strip()]


def _collect_fields(fields: list[str], header: dict[str, str]) -> None:
    """Pair header keys with the values that follow them on a line."""
    pending: str | None = None
    for part in fields:
        match = _FIELD.match(to_simplified(part))
        if match:
            pending = match.group(1).replace(" ", "")
            value = part[len(part) - len(match.group(2)) :].strip() if match.group(2) else ""
            if value:
                header.setdefault(pending, value)
                pending = None
        elif pending:
            header.setdefault(pending, part)
            pending = None
