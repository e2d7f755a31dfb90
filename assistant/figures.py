"""Figures in questions and clauses, compared by code, never guessed.

An enterprise often states its own situation ("公司80个人里搞研发的只有6个，比例够不够?", "去年营收800多万"). When a
cited clause sets a threshold of the same kind (不低于10%, 2000万元以上, 最高不超过3%), the answer says how the stated
figure compares. When the question asks for an amount and the cited clause states none, the answer says so
rather than leaving the impression that one exists. Pure functions over text, and ``with_figures``, which says
both in a draft."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from assistant.numbers import CHINESE_NUMERALS, chinese_number
from assistant.question import states_wanted, wanted_kinds
from assistant.retrieval.lexical import bigrams, normalize, words
from assistant.types import Draft
from core.prompts import render

# Units a figure can carry, and the kind of quantity each measures.
_UNIT_KIND = {
    "亿元": "money", "万元": "money", "元": "money", "亿": "money", "万": "money",
    "%": "percent",  # full-width ％ is % after normalize()
    "人": "people", "名": "people",
}
_SCALE = {"亿元": 1e8, "亿": 1e8, "万元": 1e4, "万": 1e4, "元": 1.0}
# Arabic or Chinese numerals (八百多万, 两千万, 一年半).
_NUMBER = rf"(\d+(?:\.\d+)?|[{CHINESE_NUMERALS}]+)"
_FIGURE = re.compile(_NUMBER + r"\s*(多|余|来)?\s*(亿元|万元|亿|万|元|%|个人|人|名)")
# A length of time in years ("注册满两年", "一年半", "18个月"); a four-digit number before 年 is a year, not one.
_DURATION = re.compile(rf"(?<![\d{CHINESE_NUMERALS}])(\d{{1,2}}(?:\.\d+)?|[{CHINESE_NUMERALS}]{{1,3}})\s*(多)?\s*(年半|年(?![度底初末级])|个月)")
# An enterprise states how long it has existed with one of these right before the figure.
# Words that say how long an enterprise has existed; a clause's minimum age stands after one of them too.
_AGE = "注册|成立|登记|设立|开业|经营|运营"
_HAS_EXISTED = re.compile(rf"({_AGE}|办了|开了|干了|做了)(了)?(才|已|已经|刚|刚刚|刚满|满|不到|未满|没满|不满|还不到|快)?\s*$")
_AGE_WORDS = re.compile(_AGE)
_SHORT_OF = ("不到", "未满", "没满", "不满", "快")  # "注册不到两年": less than the figure
_AT_LEAST = re.compile(r"(不低于|不少于|不小于|达到|满|(?<!不)超过|(?<!不)高于|(?<!不)大于|≥)\s*$")
_AT_MOST = re.compile(r"(最高不超过|不超过|不高于|不大于|最高|最多|(?<!不)低于|(?<!不)少于|(?<!不)小于|≤)\s*$")
_AT_LEAST_AFTER = re.compile(r"^\s*(以上|及以上|或以上)")
_AT_MOST_AFTER = re.compile(r"^\s*(以下|及以下|以内)")
# Questions that ask for an amount of money, and those that ask for a rate.
_PEOPLE = re.compile(r"人员|职工|员工|人数|从业人|人才|人")
_ASKS_MONEY = re.compile(r"多少钱|多少万|多少元|金额|补多少|奖多少|奖励多少|补贴多少|补助多少|给多少|拿多少|能拿到?多少|最高多少|最多多少|上限")
_ASKS_RATE = re.compile(r"比例是?多少|多少%|费率是?多少|利率是?多少|贴息多少|百分之几")


@dataclass(frozen=True)
class Figure:
    """A number with its unit: ``value`` in the unit's base (元 for money, percent points, persons)."""

    value: float
    kind: str
    text: str
    approximate: bool = False


@dataclass(frozen=True)
class Threshold:
    """A limit a clause sets: at least (``minimum``) or at most a figure; ``context`` is what precedes it
    (科技人员占职工总数比例不低于10%: the limit is on that share)."""

    figure: Figure
    minimum: bool
    text: str
    context: str = ""


def number_value(number: str) -> float:
    """An Arabic or Chinese numeral's value: "3.5" → 3.5, "八百" → 800, "两千五百" → 2500, "十二" → 12."""
    return float(number) if number[0].isdigit() else float(chinese_number(number) or 0)


def _figure_matches(text: str) -> list[tuple[re.Match, Figure]]:
    """Each figure of a normalised text with where it stands, in order."""
    out = []
    for match in _FIGURE.finditer(text):
        number, more, unit = match.groups()
        unit = "人" if unit == "个人" else unit
        value = number_value(number) * _SCALE.get(unit, 1.0)
        out.append((match, Figure(value, _UNIT_KIND[unit], match.group(0), approximate=bool(more))))
    for match in _DURATION.finditer(text):
        number, more, unit = match.groups()
        value = number_value(number) / 12 if unit == "个月" else number_value(number) + (0.5 if unit == "年半" else 0)
        out.append((match, Figure(value, "years", match.group(0), approximate=bool(more))))
    return sorted(out, key=lambda found: found[0].start())


def figures(text: str) -> list[Figure]:
    """The figures written in a text, in order."""
    return [figure for _, figure in _figure_matches(normalize(text))]


def thresholds(text: str) -> list[Threshold]:
    """The limits a clause sets: a figure with 不低于/不超过/最高 before it or 以上/以下 after it."""
    text = normalize(text)
    out = []
    for match, figure in _figure_matches(text):
        before, after = text[max(0, match.start() - 6) : match.start()], text[match.end() : match.end() + 4]
        minimum = bool(_AT_LEAST.search(before) or _AT_LEAST_AFTER.search(after))
        maximum = bool(_AT_MOST.search(before) or _AT_MOST_AFTER.search(after))
        if minimum == maximum:
            continue
        lead = _AT_LEAST.search(before) or _AT_MOST.search(before)
        tail = _AT_LEAST_AFTER.search(after) or _AT_MOST_AFTER.search(after)
        start = match.start() - (len(lead.group(0)) if lead else 0)
        end = match.end() + (len(tail.group(0)) if tail else 0)
        context = re.split(r"[,，。；;、]", text[max(0, start - 12) : start])[-1]
        out.append(Threshold(figure, minimum, text[start:end].strip(), context))
    return out


def stated_figures(question: str) -> list[Figure]:
    """The enterprise's own figures in a question; two head counts ("80个人里…6个") also give their share."""
    text = normalize(question)
    # How long the enterprise has existed counts only when it says so ("注册才一年半"); "三年行动计划" does not.
    found = []
    for match, figure in _figure_matches(text):
        if figure.kind == "years":
            existed = _HAS_EXISTED.search(text[: match.start()])
            if not existed:
                continue
            if (existed.group(3) or "").endswith(_SHORT_OF):
                figure = replace(figure, value=figure.value - 0.01, text=existed.group(3) + figure.text)
        found.append(figure)
    people = [f for f in found if f.kind == "people"]
    counts = re.findall(r"(\d+)\s*个(?!人)", normalize(question))
    if len(people) == 1 and counts:  # "80个人里搞研发的只有6个"
        people.append(Figure(float(counts[0]), "people", f"{counts[0]}个"))
    if len(people) == 2 and people[0].value and people[1].value:
        small, large = sorted(people, key=lambda f: f.value)
        share = 100 * small.value / large.value
        found.append(Figure(share, "percent", f"{_number(small.value)}÷{_number(large.value)}={_number(share)}%"))
    return found


@dataclass(frozen=True)
class Comparison:
    """How a stated figure compares with a clause's threshold."""

    stated: Figure
    threshold: Threshold

    @property
    def meets(self) -> bool:
        """Whether the stated figure is within the threshold."""
        if self.threshold.minimum:
            return self.stated.value >= self.threshold.figure.value
        return self.stated.value <= self.threshold.figure.value

    def sentence(self) -> str:
        """The comparison in words, e.g. 按您提供的数字，6÷80=7.5%，未达到条款中的“不低于10%”。"""
        if self.threshold.minimum:
            relation = "达到" if self.meets else "未达到"
        else:
            relation = "在…以内" if self.meets else "超出"
        about = "（约数，请以实际数字核对）" if self.stated.approximate else ""
        limit = f"条款中的“{self.threshold.text}”"
        said = f"在{limit}以内" if relation == "在…以内" else f"{relation}{limit}"
        return f"按您提供的数字，{self.stated.text}{about}，{said}；其他条件请对照条款逐项核实"


def compare(question: str, clause_text: str, stated: Sequence[Figure] | None = None) -> list[Comparison]:
    """The stated figures of a question (``stated``, when already read: ``Question.stated_figures``) set against
    the thresholds of the same kind in a clause."""
    limits = thresholds(clause_text)
    asked = set(bigrams(question))
    out = []
    for figure in stated_figures(question) if stated is None else stated:
        same = [t for t in limits if t.figure.kind == figure.kind]
        if "÷" in figure.text:  # a share of head counts is limited where the clause speaks of people
            same = [t for t in same if _PEOPLE.search(t.context)]
        if figure.kind == "years":  # an enterprise's age against a minimum age, not against 最多补3年
            same = [t for t in same if _AGE_WORDS.search(t.context)]
        if not same:
            continue
        # The limit on what the question is about: the one whose wording shares most with the question.
        best = max(same, key=lambda t: len(asked & set(bigrams(t.context))))
        if len(same) > 1 and not asked & set(bigrams(best.context)):
            continue
        out.append(Comparison(figure, best))
    return out


def missing_figure(question: str, quoted: str) -> str | None:
    """What the question asks for that the quoted text does not state: 'amount', 'rate' or None."""
    asked = normalize(question)
    present = {f.kind for f in figures(quoted)}
    if _ASKS_MONEY.search(asked) and "money" not in present:
        return "amount"
    if _ASKS_RATE.search(asked) and "percent" not in present:
        return "rate"
    return None


_QUANTITY_AFTER = re.compile(r"多少(?:的)?([\u4e00-\u9fff]{2,6}?)(?=[？?。，,！!]|$)")
_QUANTITY_BEFORE = re.compile(r"([\u4e00-\u9fff]{2,6}?)(?:是|有|为|能有|能拿|可以拿)?多少(?=[？?。，,！!]|$)")
_NOT_A_SUBJECT = re.compile(r"^(能享受|可以享受|享受|能拿到|能拿|能获得|可获得|给|补|奖|最高|最多|一共|大概|具体)")


# "联系电话是多少?" asks for a number written as a run of digits, not a figure with a unit.
_NUMBER_ASKED = re.compile(r"电话|热线|号码|手机|邮编|编号")
_DIGITS = re.compile(r"\d{5,}")


def asked_quantity(question: str) -> str | None:
    """What a "how much" question asks the amount of: 多少价格扣除 → 价格扣除, 补贴比例是多少 → 补贴比例."""
    text = normalize(question)
    found = _QUANTITY_AFTER.search(text) or _QUANTITY_BEFORE.search(text)
    if not found:
        return None
    subject = _NOT_A_SUBJECT.sub("", found.group(1))
    return subject if len(subject) >= 2 else None


def unanswered_quantity(question: str, quoted: str) -> str | None:
    """The quantity a question asks for when the quoted sentences name none of its words and state no figure:
    they are not about it, so the knowledge base has no basis for the amount (sentences that name it but
    state no figure are answered, saying so)."""
    subject = asked_quantity(question)
    text = normalize(quoted)
    kinds = wanted_kinds(normalize(question))
    if subject is None or figures(text) or (_NUMBER_ASKED.search(subject) and _DIGITS.search(text)) \
            or (kinds and states_wanted(kinds, text)):  # "占多少?" and "百分之六十": the kind asked is stated
        return None
    parts = [w for w in words(subject) if len(w) >= 2] or [subject]
    return None if any(w in text for w in parts) else subject


def with_figures(question: str, draft: Draft, stated: Sequence[Figure] | None = None) -> Draft:
    """A draft that also says how the enterprise's own figures (``stated``, when already read) compare with the
    cited clause's thresholds (computed, never guessed), or that the clause states no amount when one is asked for."""
    clause = draft.sources[0]
    said = [f"{c.sentence()}[1]。" for c in compare(question, clause.text, stated)]
    missing = missing_figure(question, draft.quoted)
    if missing:
        said.append(render(f"no_figure_{missing}"))
    return replace(draft, text=draft.text + "".join(said)) if said else draft


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")
