"""Whether the knowledge base supports an answer: how much of what the question asks the best retrieved clauses
speak to. Pure functions of the question's terms and the texts, so the cut-off is testable by tables; the
cut-offs themselves (``Thresholds``), calibrated on the Q&A sets.

People describe themselves before they ask ("我们是吉林一家会计师事务所，…省里对服务费用有补助吗?"): words of a
sentence that only says who the asker is weigh less than the words of the sentence that asks. Everyday words
are first put in the policies' terms (``assistant.vocabulary``), and a word the knowledge base has never seen
weighs no more than a rare word it has: it may be the subject the knowledge base lacks, or only the asker's
own way of saying it."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from assistant.retrieval.lexical import FRAMING_WORDS, bigrams, content_terms, normalize, subwords
from assistant.types import Clause, Evidence
from core.textnorm import has_cjk

_YEAR = re.compile(r"\d{4}年?")
_SEGMENT = re.compile(r"[^，,。；;！!？?\n：:]+[，,。；;！!？?\n：:]*")
# A sentence that says who or what the asker is, rather than what is asked.
_ABOUT_ASKER = re.compile(r"^(我们|我司|我公司|本公司|我方|我是|我家|咱们|他们|她们|公司|企业情况|窗口有|有企业|有家企业|老板说)")
_ASKS = re.compile(r"[吗呢么？?]|有没有|能不能|可不可以|是否|多少|几[个家年项次]|哪|什么|啥|怎么|怎样|如何|咋|够不够|算不算|行不行|给不给|出不出|有无")
# A word no clause contains: a verb or an adjective ("挺快", "买不起") counts like a word two clauses contain, it
# is mostly the asker's way of saying things; a noun of the asking sentence ("环评", "公积金") names a subject,
# and a subject no clause names is the strongest sign that the knowledge base does not answer.
UNSEEN_DOCUMENT_FREQUENCY = 2.0
UNSEEN_SUBJECT_DOCUMENT_FREQUENCY = 0.3
# What answers is said in one place: the best stretch of WINDOW_SENTENCES sentences weighs WINDOW_SHARE.
WINDOW_SHARE = 0.5
WINDOW_SENTENCES = 2


def segments(question: str) -> list[tuple[str, bool]]:
    """The question's sentences, each with whether it only describes the asker (when another one asks)."""
    parts = [m.group(0) for m in _SEGMENT.finditer(question) if m.group(0).strip()]
    asking = [bool(_ASKS.search(p)) for p in parts]
    if not any(asking):
        return [(p, False) for p in parts]
    return [(p, bool(_ABOUT_ASKER.match(p.strip())) and not asks) for p, asks in zip(parts, asking, strict=True)]


def asked_text(question: str) -> str:
    """The sentences of a question that ask, without those that only describe the asker."""
    return "".join(part for part, background in segments(question) if not background)


def question_terms(question: str, skip: Collection[str] = (), vocabulary=None) -> dict[str, float]:
    """The question's content words with weights, without place names (``skip``), framing words and years
    ("那江门呢?" after a question about Rizhao's 2025 goals asks about Jiangmen's); everyday words in the
    vocabulary's policy terms."""
    return split_terms(question, skip, vocabulary)[0]


def split_terms(question: str, skip: Collection[str] = (), vocabulary=None) -> tuple[dict[str, float], set[str]]:
    """The question's terms (see ``question_terms``) and those of them that only describe the asker: a clause
    need not name them, but one that does is the more likely answer."""
    text = normalize(question)
    if vocabulary is not None:
        text = vocabulary.rewrite(text)
    terms: dict[str, float] = {}
    asked: set[str] = set()
    for part, background in segments(text):
        for word, weight in content_terms(part).items():
            # "天津泰达医院": a place's name glued to what is asked about is not part of it.
            place = next((name for name in skip if word.startswith(name) and len(word) - len(name) >= 2), None)
            word = word[len(place):] if place else word
            if word in skip or word in FRAMING_WORDS or _YEAR.fullmatch(word):
                continue
            terms[word] = max(terms.get(word, 0.0), weight)
            if not background:
                asked.add(word)
    if any(has_cjk(t) for t in terms):  # a mixed-language question: its Chinese words say what it asks
        terms = {t: w for t, w in terms.items() if has_cjk(t) or any(ch.isdigit() for ch in t)}
    return terms, set(terms) - asked


def term_found(term: str, text: str) -> float:
    """How far a (normalised) text contains a term: 1 when whole; a long word by the share of its bigrams
    (最多补 is half there in 最多可获得, but 个人所得税 is not 企业所得税); a compound whose parts are all
    there (贷款额度: 再贷款…额度) half; else 0."""
    return _Term(term).found(text)


class _Term:
    """A term looked for in texts (see ``term_found``). Its bigrams and the words it is made of are worked out
    once, when first needed: one support measure looks for it in every passage and every stretch of one."""

    def __init__(self, term: str):
        self.term = term

    @cached_property
    def grams(self) -> list[str]:
        return bigrams(self.term)

    @cached_property
    def parts(self) -> list[str]:
        return subwords(self.term)

    def found(self, text: str) -> float:
        term = self.term
        if term in text:
            return 1.0
        grams = self.grams
        share = sum(1 for g in grams if g in text) / len(grams) if len(term) > 2 and grams else 0.0
        if share >= (0.5 if len(term) == 3 else 0.75):
            return share
        parts = self.parts
        return 0.5 if len(parts) > 1 and all(p in text for p in parts) else 0.0


class DocumentFrequencies:
    """In how many clause texts a word stands whole. The texts' characters and bigrams are indexed once (the chain
    does it once per index generation), so a question's words are counted without reading every text again."""

    def __init__(self, texts: Sequence[str]):
        self.texts = tuple(texts)
        # Each character and bigram → the texts it stands in: a longer word can only stand in the texts that
        # hold its rarest bigram, and only those are read.
        containing: dict[str, list[int]] = {}
        for i, text in enumerate(self.texts):
            for gram in {*text, *(text[j : j + 2] for j in range(len(text) - 1))}:
                containing.setdefault(gram, []).append(i)
        self._containing = containing

    def __len__(self) -> int:
        return len(self.texts)

    def count(self, forms: Iterable[str]) -> int:
        """How many texts contain at least one of the forms whole."""
        found: set[int] = set()
        for form in forms:
            found.update(self._texts_with(form))
        return len(found)

    def _texts_with(self, form: str) -> Iterable[int]:
        if len(form) <= 2:
            return self._containing.get(form, ()) if form else range(len(self.texts))
        rarest = min((self._containing.get(form[j : j + 2], ()) for j in range(len(form) - 1)), key=len)
        return (i for i in rarest if form in self.texts[i])


@dataclass(frozen=True)
class SupportMeasure:
    """What the support measure found: ``score`` (0..1, see ``support_score``), the share of the required terms'
    weight that no clause of the knowledge base contains (``unseen``: the subject it may lack), the share of it the
    best passage lacks (``missing``), and how many terms were sought."""

    score: float = 0.0
    unseen: float = 0.0
    missing: float = 1.0
    terms: int = 0


def support_score(
    terms: Mapping[str, float],
    passages: Sequence[str],
    corpus: Sequence[str] | DocumentFrequencies,
    alternatives: Mapping[str, Sequence[str]] | None = None,
    optional: Collection[str] = (),
) -> float:
    """The best passage's IDF-weighted share of the terms (0..1); IDF over the corpus of clause texts (a term
    occurs in a text when it, or one of its ``alternatives`` policy terms, stands there whole), given as the
    texts or as their ``DocumentFrequencies`` built once. An ``optional`` term (one that describes the asker)
    counts where it is found and is not missed where it is not."""
    return measure_support(terms, passages, corpus, alternatives, optional).score


def measure_support(
    terms: Mapping[str, float],
    passages: Sequence[str],
    corpus: Sequence[str] | DocumentFrequencies,
    alternatives: Mapping[str, Sequence[str]] | None = None,
    optional: Collection[str] = (),
) -> SupportMeasure:
    """The support measure (``support_score``) with its parts (``SupportMeasure``)."""
    if not terms or not passages:
        return SupportMeasure(terms=len(terms))
    alternatives = alternatives or {}
    forms = {term: tuple(dict.fromkeys((term, *alternatives.get(term, ())))) for term in terms}
    sought = {form: _Term(form) for term_forms in forms.values() for form in term_forms}
    frequencies = corpus if isinstance(corpus, DocumentFrequencies) else DocumentFrequencies(corpus)
    n = len(frequencies)
    idf = {}
    unseen = set()
    for term, weight in terms.items():
        df = frequencies.count(forms[term])
        if not df:
            unseen.add(term)
            df = UNSEEN_SUBJECT_DOCUMENT_FREQUENCY if weight >= 1.0 else UNSEEN_DOCUMENT_FREQUENCY
        idf[term] = weight * max(math.log((n + 1) / (df + 0.5)), 0.0)
    required = sum(w for t, w in idf.items() if t not in optional)

    def found_in(text: str) -> dict[str, float]:
        return {t: max(sought[form].found(text) for form in forms[t]) for t in terms}

    def share(found: dict[str, float]) -> float:
        total = required + sum(idf[t] * found[t] for t in optional if t in idf)
        return sum(idf[t] * found[t] for t in terms) / total if total > 0 else 0.0

    # What answers is said in one place: the passage as a whole and its best stretch of two sentences count
    # alike (the words of 价格扣除 scattered over a long clause are not an answer about 价格扣除).
    best, best_found = -1.0, {}
    for passage in passages:
        found = found_in(passage)
        score = (1 - WINDOW_SHARE) * share(found) + WINDOW_SHARE * max(
            share(found_in(w)) for w in windows(passage, WINDOW_SENTENCES))
        if score > best:
            best, best_found = score, found
    asked = {t: w for t, w in idf.items() if t not in optional}
    weight = sum(asked.values())
    return SupportMeasure(
        score=best,
        unseen=sum(w for t, w in asked.items() if t in unseen) / weight if weight > 0 else 0.0,
        missing=sum(w * (1 - best_found[t]) for t, w in asked.items()) / weight if weight > 0 else 0.0,
        terms=len(terms),
    )


_SENTENCE_END = re.compile(r"(?<=[。；;！!？?\n])")


def windows(passage: str, size: int = 2) -> list[str]:
    """Stretches of ``size`` consecutive sentences of a passage (the passage itself if it is shorter)."""
    sentences = [s for s in _SENTENCE_END.split(passage) if s.strip()]
    if len(sentences) <= size:
        return [passage]
    return ["".join(sentences[i : i + size]) for i in range(len(sentences) - size + 1)]


def supported(score: float, threshold: float) -> bool:
    """Whether a support score reaches a cut-off (which clause a follow-up is answered from)."""
    return score >= threshold


# The chain's support measures, lent to the steps that judge a ranking of their own (other documents, the place
# named): how much of a question the best of the top three retrieved clauses speak to, and given clauses.
EvidenceSupport = Callable[[str, list[Evidence], set[str]], float]
ClauseSupport = Callable[[str, list[Clause], set[str]], float]


@dataclass(frozen=True)
class Thresholds:
    """The cut-offs of the steps that follow the decision (whether the question is answered at all is the fitted
    model's, ``assistant.decide``): which clause a follow-up is answered from, and which other documents add a part
    (``assistant.decide.decide_other_document`` applies it)."""

    # A follow-up is answered from the clause just cited when this share of its own words is found there.
    min_follow_up_words: float = 0.45
    # A question naming no place is also answered from other documents among the best-ranked this deep whose
    # own best clauses support an answer; at most this many more documents.
    other_document_depth: int = 12
    max_other_documents: int = 3
    # The support another document's part needs: the first part has already shown what the question is about.
    min_support_other_document: float = 0.5
