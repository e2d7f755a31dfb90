"""Whether the knowledge base supports an answer: how much of the question the best retrieved clauses
speak to. Pure functions of the question's terms and the texts, so the cut-off is testable by tables."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence

from assistant.lexical import FRAMING_WORDS, bigrams, content_terms, subwords
from index.textnorm import has_cjk

_YEAR = re.compile(r"\d{4}年?")


def question_terms(question: str, skip: Collection[str] = ()) -> dict[str, float]:
    """The question's content words with weights, without place names (``skip``), framing words and years
    ("那江门呢?" after a question about Rizhao's 2025 goals asks about Jiangmen's)."""
    terms = {
        word: weight for word, weight in content_terms(question).items()
        if word not in skip and word not in FRAMING_WORDS and not _YEAR.fullmatch(word)
    }
    if any(has_cjk(t) for t in terms):  # a mixed-language question: its Chinese words say what it asks
        terms = {t: w for t, w in terms.items() if has_cjk(t) or any(ch.isdigit() for ch in t)}
    return terms


def term_found(term: str, text: str) -> float:
    """How far a (normalised) text contains a term: 1 when whole; a long word by the share of its bigrams
    (最多补 is half there in 最多可获得, but 个人所得税 is not 企业所得税); a compound whose parts are all
    there (贷款额度: 再贷款…额度) half; else 0."""
    if term in text:
        return 1.0
    grams = bigrams(term)
    share = sum(1 for g in grams if g in text) / len(grams) if len(term) > 2 and grams else 0.0
    if share >= (0.5 if len(term) == 3 else 0.75):
        return share
    parts = subwords(term)
    return 0.5 if len(parts) > 1 and all(p in text for p in parts) else 0.0


def support_score(terms: Mapping[str, float], passages: Sequence[str], corpus: Sequence[str]) -> float:
    """The best passage's IDF-weighted share of the terms (0..1); IDF over the corpus of clause texts (a term
    occurs in a text when it stands there whole)."""
    if not terms or not passages:
        return 0.0
    n = len(corpus)
    idf = {
        term: weight * math.log((n + 1) / (sum(term in text for text in corpus) + 0.5))
        for term, weight in terms.items()
    }
    total = sum(idf.values())
    if total <= 0:
        return 0.0
    return max(sum(idf[t] * term_found(t, passage) for t in terms) / total for passage in passages)


def supported(score: float, threshold: float) -> bool:
    """The cut-off: an answer is given only when the support reaches the calibrated threshold."""
    return score >= threshold
