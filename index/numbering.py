"""The numbering of Chinese policy documents and laws, defined once: 第X章 / 第X节 / 第X条 / 一、 / （一） / 1."""

from __future__ import annotations

import re

CN_NUMERALS = "一二三四五六七八九十百零〇"
# (kind, level, pattern without anchor); a smaller level is higher in the hierarchy.
MARKER_PATTERNS: tuple[tuple[str, int, str], ...] = (
    ("chapter", 0, rf"第[{CN_NUMERALS}]+章"),
    ("section", 1, rf"第[{CN_NUMERALS}]+节"),
    ("article", 2, rf"第[{CN_NUMERALS}]+条"),
    ("l1", 3, rf"[{CN_NUMERALS}]+、"),
    ("l2", 4, rf"[（(][{CN_NUMERALS}]+[）)]"),
    ("l3", 5, r"(\d{1,2})[.．、](?!\d)"),
)
# A line that starts with one of them.
MARKERS: tuple[tuple[str, int, re.Pattern], ...] = tuple(
    (kind, level, re.compile("^" + pattern)) for kind, level, pattern in MARKER_PATTERNS
)
# One of them anywhere (without its capture groups), for finding numbering inside run-on text.
ANY_MARKER = "(?:" + "|".join(pattern.replace(r"(\d{1,2})", r"\d{1,2}") for _, _, pattern in MARKER_PATTERNS) + ")"
