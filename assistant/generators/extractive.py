"""The default answer generator: it writes no words of its own about policy, it picks the sentences of the
retrieved clauses that answer the question and cites each one. Every claim can be checked against its clause."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from assistant.lexical import bigrams, normalize, without_framing
from assistant.types import Clause, Draft, Evidence, Query
from index.textnorm import to_simplified

_SENTENCE = re.compile(r"[^。；;！？!?\n]+[。；;！？!?]?")
_ASKS_QUANTITY = re.compile(r"多少|几|比例|上限|最高|最多|标准|金额|额度|多久|期限|补贴|补助|奖励|目标|达到|费率|利率|%|万元")
_NUMBER = re.compile(r"\d")
# What kind of figure a question asks for, and how the answering sentence writes it.
_UNITS = (
    (re.compile(r"(多少|几)(家|户|个|件|名|人)"), re.compile(r"\d+(\.\d+)?\s*(家|户|个|件|名|人)")),
    (re.compile(r"多少钱|多少万|金额|多少元|奖励多少|补贴多少|补助多少|最高多少|上限"), re.compile(r"\d+(\.\d+)?\s*(万元|亿元|元)")),
    (re.compile(r"比例|比重|费率|利率|百分|覆盖率|普及率|多少%"), re.compile(r"\d+(\.\d+)?\s*%")),
    (re.compile(r"几年|多少年|多久|期限"), re.compile(r"\d+\s*年")),
)
_RESPONSIBLE = re.compile(r"^[（(](责任单位|.*负责[）)]?$)")


@dataclass(frozen=True)
class Pick:
    """A sentence chosen from a clause, with its score."""

    clause: Clause
    sentence: str
    score: float


def sentences_of(clause: Clause) -> list[str]:
    """The sentences of a clause, without its bare heading and responsibility notes."""
    heading = clause.headings[-1] if clause.headings else ""
    out = []
    for match in _SENTENCE.finditer(clause.text):
        sentence = match.group(0).strip()
        if len(sentence) < 6 or sentence.rstrip("。") == heading or _RESPONSIBLE.match(to_simplified(sentence)):
            continue
        out.append(sentence)
    return out


_PARTICLES = re.compile(r"[那呢吗吧啊呀么了的?？!！。，,\s]+")


def score_sentence(sentence: str, focus: str, context: str, idf) -> float:
    """How well a sentence answers: IDF-weighted bigram overlap with the message (and, for a follow-up, with
    the question it follows, at a lower weight), plus a bonus for a figure when the question asks for one."""
    present = set(bigrams(sentence))

    def overlap(text: str) -> float:
        grams = set(bigrams(_PARTICLES.sub(" ", without_framing(normalize(text)))))
        total = sum(idf(g) for g in grams)
        return sum(idf(g) for g in grams if g in present) / total if total else 0.0

    value = overlap(focus) if not context else 0.7 * overlap(focus) + 0.3 * overlap(context)
    asked = normalize(focus + " " + context)
    units = [figure for question, figure in _UNITS if question.search(asked)]
    if units and any(figure.search(sentence) for figure in units):
        value += 0.15
    elif _ASKS_QUANTITY.search(asked) and _NUMBER.search(sentence):
        value += 0.08
    return value


class ExtractiveGenerator:
    """Answers with the best sentences of the retrieved clauses, each cited."""

    name = "extractive"

    def __init__(self, gram_df: Mapping[str, int], clause_count: int, max_clauses: int = 4,
                 keep_ratio: float = 0.6, max_extra: int = 3, max_chars: int = 260):
        """``gram_df``: in how many clauses each character bigram occurs (the knowledge base counts them);
        sentences of the best clause scoring ``keep_ratio`` of the best are quoted too, at most ``max_extra``
        more and while the quote is under ``max_chars``."""
        self.max_clauses = max_clauses
        self.keep_ratio = keep_ratio
        self.max_extra = max_extra
        self.max_chars = max_chars
        self._df = gram_df
        self._n = max(clause_count, 1)

    def idf(self, gram: str) -> float:
        """Inverse document frequency of a bigram over the knowledge base's clauses; 0 for a bigram no clause
        has (it cannot tell sentences apart, e.g. one spanning two words of the question)."""
        df = self._df.get(gram, 0)
        return math.log((self._n + 1) / (df + 0.5)) if df else 0.0

    def pick(self, focus: str, context: str, evidence: list[Evidence]) -> list[Pick]:
        """Candidate sentences from the top clauses, best first (ties: the better-ranked clause)."""
        picks = []
        for item in evidence[: self.max_clauses]:
            prior = 0.1 * item.score
            for sentence in sentences_of(item.clause):
                picks.append(Pick(item.clause, sentence, score_sentence(sentence, focus, context, self.idf) + prior))
        return sorted(picks, key=lambda p: -p.score)

    def answer(self, query: Query, evidence: list[Evidence]) -> Draft:
        """One or two sentences that answer, each followed by its citation marker."""
        picks = self.pick(query.original, query.context, evidence)
        if not picks:
            return Draft("", (), ())
        best = picks[0]
        chosen = [best]
        # More sentences only from the same clause (a second clause would be cited on weaker grounds), those
        # that answer nearly as well: criteria, measures and amounts are often spread over several sentences.
        for other in picks[1:]:
            if len(chosen) > self.max_extra or sum(len(p.sentence) for p in chosen) > self.max_chars:
                break
            if other.clause.clause_id == best.clause.clause_id and other.score >= self.keep_ratio * best.score:
                chosen.append(other)
        order = sentences_of(best.clause)
        chosen.sort(key=lambda p: order.index(p.sentence) if p.sentence in order else len(order))
        sources: list[Clause] = []
        used: dict[str, list[str]] = {}
        parts = []
        for pick in chosen:
            if pick.clause not in sources:
                sources.append(pick.clause)
            key = sources.index(pick.clause) + 1
            used.setdefault(pick.clause.clause_id, []).append(pick.sentence)
            parts.append(f"{pick.sentence.rstrip('。；;')}[{key}]。")
        intro = f"根据{sources[0].name}：" if len(sources) == 1 else "根据知识库中的政策文件："
        text = intro + "".join(parts)
        return Draft(text, tuple(sources), tuple(tuple(used[c.clause_id]) for c in sources))
