"""The figures a text states (amounts, percentages, counts, dates), normalised so that the same quantity written
differently compares equal: 20万元 = 二十万元 = 200,000元, 百分之十 = 10%, 1.5亿 = 150000000.

Pure functions: what the LLM guard uses to check that every figure of an answer is stated by a clause it cites."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_MULTIPLIERS = {"万": Decimal(10_000), "亿": Decimal(100_000_000), "千": Decimal(1000)}
CHINESE_NUMERALS = "零〇一二两三四五六七八九十百千"  # the characters a Chinese number is written with
_CN = CHINESE_NUMERALS

# An Arabic number (thousands separators, decimals), full-width digits already folded by ``_fold``.
_ARABIC = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?")
# A Chinese number counts as a figure only where it is one: before 万/亿/元/%/倍 or after 百分之 (一家企业, 统一,
# 三、（一） are words and headings, not figures).
_CHINESE = re.compile(rf"(?<![\d.])(百分之)?([{_CN}]+)(?=万|亿|元|倍|%)")
_CHINESE_PERCENT = re.compile(rf"百分之([{_CN}]+)")
_FULL_WIDTH = str.maketrans("０１２３４５６７８９％，．", "0123456789%,.")


@dataclass(frozen=True)
class Figure:
    """A quantity as written (``text``) and its normalised value; ``percent`` when it is a share."""

    text: str
    value: Decimal
    percent: bool = False

    @property
    def key(self) -> tuple[Decimal, bool]:
        """What two figures must share to be the same quantity."""
        return self.value.normalize(), self.percent


def _fold(text: str) -> str:
    return text.translate(_FULL_WIDTH)


def chinese_number(text: str) -> int | None:
    """二十 → 20, 一百五十 → 150, 三千 → 3000, 十 → 10, 二〇二五 → 2025 (digit by digit); None when not a number."""
    if not text or any(ch not in _DIGITS and ch not in _SMALL_UNITS for ch in text):
        return None
    if not any(ch in _SMALL_UNITS for ch in text):  # 二〇二五: digit by digit
        return int("".join(str(_DIGITS[ch]) for ch in text))
    total, digit = 0, None
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        else:
            total += (1 if digit is None else digit) * _SMALL_UNITS[ch]
            digit = None
    return total + (digit or 0)


def _multiplier(after: str) -> tuple[Decimal, str]:
    """The 千/万/亿 right after a number (万亿 multiplies twice), and how they are written."""
    value, written = Decimal(1), ""
    for ch in after.lstrip()[:2]:
        if ch not in _MULTIPLIERS:
            break
        value *= _MULTIPLIERS[ch]
        written += ch
    return value, written


def figures(text: str) -> list[Figure]:
    """Every figure the text states, in order: Arabic numbers (with 万/亿 and %), and Chinese numbers used as
    figures (二十万元, 百分之十, 三倍)."""
    text = _fold(text)
    found: list[Figure] = []
    for match in _ARABIC.finditer(text):
        try:
            value = Decimal(match.group(1).replace(",", "") + (match.group(2) or ""))
        except InvalidOperation:
            continue
        after = text[match.end(): match.end() + 3]
        percent = after.lstrip().startswith("%")
        times, unit = _multiplier(after)
        written = match.group(0) + ("%" if percent else unit)
        found.append(Figure(written, value if percent else value * times, percent))
    for match in _CHINESE_PERCENT.finditer(text):
        number = chinese_number(match.group(1))
        if number is not None:
            found.append(Figure(match.group(0), Decimal(number), True))
    for match in _CHINESE.finditer(text):
        if match.group(1):
            continue  # 百分之…: counted above
        number = chinese_number(match.group(2))
        if number is None:
            continue
        after = text[match.end(): match.end() + 2]
        percent = after.startswith("%")
        times, unit = _multiplier(after)
        written = match.group(0) + ("%" if percent else unit)
        found.append(Figure(written, Decimal(number) * (1 if percent else times), percent))
    return found


def stated_keys(text: str) -> set[tuple[Decimal, bool]]:
    """The quantities a source text states. Generous on purpose: the start of a range shares the range's unit
    (10-20万元 states 100000 as well as 10), so an answer that spells the range out is not rejected."""
    keys = {figure.key for figure in figures(text)}
    folded = _fold(text)
    for match in re.finditer(r"(\d+(?:\.\d+)?)\s*[-—~～至到]\s*\d+(?:\.\d+)?\s*(万|亿|%)", folded):
        unit = match.group(2)
        value = Decimal(match.group(1))
        keys.add((value.normalize(), True) if unit == "%" else ((value * _MULTIPLIERS[unit]).normalize(), False))
    return keys


def unsupported(answer: str, sources: list[str]) -> list[str]:
    """The figures of ``answer`` (as written) that none of ``sources`` states, in order, each once."""
    stated: set[tuple[Decimal, bool]] = set()
    for source in sources:
        stated |= stated_keys(source)
    missing = [figure.text for figure in figures(answer) if figure.key not in stated]
    return list(dict.fromkeys(missing))
