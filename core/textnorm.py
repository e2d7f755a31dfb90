"""Chinese script conversion and the normalisation used for matching (FORMAT.md)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_CJK = re.compile(r"[\u3400-\u9fff]")
# Quote marks and brackets FORMAT.md removes before comparing.
_MATCH_STRIP = re.compile("[\\s\"'“”‘’「」『』《》〈〉]")


@lru_cache(maxsize=2)
def _converter(config: str):
    from opencc import OpenCC

    return OpenCC(config)


@lru_cache(maxsize=1024)
def to_simplified(text: str) -> str:
    """Traditional → simplified characters (OpenCC t2s). Cached: one question's text is converted by many steps
    (OpenCC's pure-Python matching costs ~1 ms per 1,000 characters each time)."""
    return _converter("t2s").convert(text) if text else text


def to_traditional(text: str) -> str:
    """Simplified → traditional characters (OpenCC s2t)."""
    return _converter("s2t").convert(text) if text else text


def traditional_ratio(text: str) -> float:
    """Share of Chinese characters that t2s changes: high means the text is in traditional script."""
    chars = _CJK.findall(text)
    if not chars:
        return 0.0
    sample = "".join(chars[:4000])
    converted = to_simplified(sample)
    changed = sum(1 for a, b in zip(sample, converted, strict=False) if a != b)
    return changed / len(sample)


def is_traditional(text: str, threshold: float = 0.04) -> bool:
    """True when the text is written in traditional characters."""
    return traditional_ratio(text) >= threshold


def normalize_for_match(text: str) -> str:
    """FORMAT.md's normalisation: t2s, NFKC, no whitespace or quote marks."""
    return _MATCH_STRIP.sub("", unicodedata.normalize("NFKC", to_simplified(text)))


def shorten(text: str, limit: int) -> str:
    """The text cut to ``limit`` characters, with "…" where it was cut."""
    return text if len(text) <= limit else text[:limit] + "…"


def has_cjk(text: str) -> bool:
    """True when the text holds at least one Chinese character."""
    return bool(_CJK.search(text))


# Invisible characters that change how text reads or is matched: bidirectional embeddings, overrides and isolates,
# zero-width spaces and joiners, the byte-order mark.
_INVISIBLE = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u200c\u200d\u2060\ufeff\u00ad")


def clean_input(text: str) -> str:
    """Text from outside (a question, a history message, a form field) as the answering path may read it: no
    control characters (newline and tab stay; a carriage return becomes a newline), no invisible formatting
    characters or Unicode line and paragraph separators, no lone surrogates (they cannot be encoded: a JSON "\\udc00" is one)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        ch for ch in text
        if ch in "\n\t" or not (unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") or ch in _INVISIBLE)
    )
