"""The default answer generator: it writes no words of its own about policy, it picks the sentences of the
retrieved clauses that answer the question and cites each one. Every claim can be checked against its clause."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from assistant.question import AnswerKind, states_wanted, wanted_kinds
from assistant.retrieval.lexical import bigrams, normalize, without_framing
from assistant.types import Clause, Draft, Evidence, Query
from core.textnorm import to_simplified

_SENTENCE = re.compile(r"[^。；;！？!?\n]+[。；;！？!?]?")
_ASKS_QUANTITY = re.compile(r"多少|几|比例|上限|最高|最多|标准|金额|额度|多久|期限|补贴|补助|奖励|目标|达到|费率|利率|%|万元")
_NUMBER = re.compile(r"\d")
_RESPONSIBLE = re.compile(r"^[（(](责任单位|.*负责[）)]?$)")
_RESPONSIBILITY_NOTE = re.compile(r"[（(]((?:责任单位|牵头单位)[:：][^（）()]+|[^（）()]{2,60}负责)[）)]")


def responsibility(clause: Clause) -> str | None:
    """The bodies a clause names as responsible ("(责任单位:省工业和信息化厅、省财政厅)"), as written."""
    found = _RESPONSIBILITY_NOTE.search(clause.text)
    return found.group(0) if found else None


@dataclass(frozen=True)
class Pick:
    """A sentence chosen from a clause, with its score."""

    clause: Clause
    sentence: str
    score: float  # how well it answers, its clause's rank counted
    fit: float = 0.0  # how well the sentence itself answers (what further sentences of the clause are held to)


_NUMBERING = re.compile(r"^([一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[)）]|\d+[.．、]|第.+?[条章])\s*")
BARE_HEADING_CHARS = 12  # a heading longer than this (after its number) says something: it may be quoted
# A question that first describes the asker: the share of a sentence's score that comes from the asking part.
ASKED_SHARE = 0.5
# Which clause answers: a sentence's score gains ``rank_prior`` times its clause's retrieval score. The clause
# ranking (words and meaning of the whole clause) says more about where the answer is than one sentence's shared
# words, which favour a news lead restating the question's topic. Which sentences of that clause answer: the best
# one, and the others that fit the question at least ``keep_ratio`` as well; for an open question ("采取了哪些
# 措施?", "有何用处?") the sentences after the best one at least ``keep_ratio_open`` as well: the best sentence is
# often a lead restating the question, and what was done follows it. Not for a question asking for a kind of
# answer (an amount, a date…), where the clause's other sentences stating one are about something else, nor for
# the sentences before the best one ("吉林…专利保险费有补助吗?" must not open on the clause's loan subsidy). All
# three are chosen on the public Q&A sets by scripts/choose_sentences.py (``make fit-sentences``) and read from
# rules/sentences.json.
WEIGHTS = ("rank_prior", "keep_ratio", "keep_ratio_open")
SENTENCES_PATH = Path(__file__).parent.parent / "rules" / "sentences.json"


@lru_cache(maxsize=1)
def sentence_weights(path: Path = SENTENCES_PATH) -> dict[str, float]:
    """The sentence choice's weights scripts/choose_sentences.py chose (rules/sentences.json)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {name: float(data[name]) for name in WEIGHTS}


def bare_heading(clause: Clause) -> str:
    """A clause's heading without its number when it is too short to say anything itself ("2.市内运输" →
    "市内运输"): it is not quoted, but it names what the clause's sentences are about. Empty otherwise."""
    heading = clause.headings[-1] if clause.headings else ""
    topic = _NUMBERING.sub("", heading).strip("。 ")
    return topic if len(topic) <= BARE_HEADING_CHARS else ""


def sentences_of(clause: Clause) -> list[str]:
    """The sentences of a clause, without its bare heading and responsibility notes."""
    heading = clause.headings[-1] if clause.headings else ""
    bare = len(_NUMBERING.sub("", heading)) <= BARE_HEADING_CHARS
    out = []
    for match in _SENTENCE.finditer(clause.text):
        sentence = match.group(0).strip()
        if len(sentence) < 6 or (bare and sentence.rstrip("。") == heading) or _RESPONSIBLE.match(to_simplified(sentence)):
            continue
        out.append(sentence)
    return out


_PARTICLES = re.compile(r"[那呢吗吧啊呀么了的?？!！。，,\s]+")


def fit_sentence(sentence: str, focus: str, context: str, idf, asked: str = "") -> float:
    """How well a sentence's words fit the question: IDF-weighted bigram overlap with the message (and, for a
    follow-up, with the question it follows, at a lower weight; when the message first describes the asker, with
    the part that ``asked`` at a higher one)."""
    present = set(bigrams(sentence))

    def overlap(text: str) -> float:
        grams = set(bigrams(_PARTICLES.sub(" ", without_framing(normalize(text)))))
        total = sum(idf(g) for g in grams)
        return sum(idf(g) for g in grams if g in present) / total if total else 0.0

    own = overlap(focus)
    if asked:
        own = ASKED_SHARE * overlap(asked) + (1 - ASKED_SHARE) * own
    return own if not context else 0.7 * own + 0.3 * overlap(context)


def kind_bonus(sentence: str, kinds: tuple[AnswerKind, ...], asks_quantity: bool) -> float:
    """What a sentence gains for stating the kind of answer asked (``kinds``), or any number when the question
    asks "how much" of something no kind names."""
    if kinds and states_wanted(kinds, sentence):
        return 0.15
    return 0.08 if asks_quantity and _NUMBER.search(sentence) else 0.0


def kinds_asked(focus: str, context: str) -> tuple[AnswerKind, ...]:
    """The kinds of answer a message (with what it follows) asks for (``assistant.question.wanted_kinds``)."""
    return wanted_kinds(normalize(focus + " " + context))


class ExtractiveGenerator:
    """Answers with the best sentences of the retrieved clauses, each cited."""

    name = "extractive"

    def __init__(self, gram_df: Mapping[str, int], clause_count: int, max_clauses: int = 4,
                 keep_ratio: float | None = None, max_extra: int = 3, max_chars: int = 260,
                 next_part: Callable[[Clause], Clause | None] | None = None, rank_prior: float | None = None,
                 keep_ratio_open: float | None = None):
        """``gram_df``: in how many clauses each character bigram occurs (the knowledge base counts them);
        sentences of the best clause scoring ``keep_ratio`` of the best (``keep_ratio_open`` for those after it,
        when the question asks for no kind of answer) are quoted too, at most ``max_extra`` more and while the
        quote is under ``max_chars``; weights not given are the chosen ones (rules/sentences.json). ``next_part``:
        the next part of a clause the index cut in parts (a long 前言), so that a quote goes on where the cut fell
        inside it."""
        self.next_part = next_part or (lambda clause: None)
        chosen = sentence_weights()
        self.rank_prior = chosen["rank_prior"] if rank_prior is None else rank_prior
        self.max_clauses = max_clauses
        self.keep_ratio = chosen["keep_ratio"] if keep_ratio is None else keep_ratio
        self.keep_ratio_open = chosen["keep_ratio_open"] if keep_ratio_open is None else keep_ratio_open
        self.max_extra = max_extra
        self.max_chars = max_chars
        self._df = gram_df
        self._n = max(clause_count, 1)

    def idf(self, gram: str) -> float:
        """Inverse document frequency of a bigram over the knowledge base's clauses; 0 for a bigram no clause
        has (it cannot tell sentences apart, e.g. one spanning two words of the question)."""
        df = self._df.get(gram, 0)
        return math.log((self._n + 1) / (df + 0.5)) if df else 0.0

    def pick(self, focus: str, context: str, evidence: list[Evidence], asked: str = "") -> list[Pick]:
        """Candidate sentences from the top clauses, best first (ties: the better-ranked clause). The
        document's own title is no evidence that a sentence answers (news-style notices repeat it in their
        lead), and a question of an FAQ document is not its answer (the answer follows it)."""
        kinds = kinds_asked(focus, context)
        asks_quantity = bool(_ASKS_QUANTITY.search(normalize(focus + " " + context)))
        picks = []
        for item in evidence[: self.max_clauses]:
            title = item.clause.doc.title
            topic = bare_heading(item.clause)
            for sentence in sentences_of(item.clause):
                scored = sentence.replace(title, " ") if title else sentence
                # Which sentence answers: its words, a figure of the kind asked, and the clause's bare heading
                # ("2.市内运输": what every sentence of the clause is about, though none says it again). Which
                # further sentences are quoted: their own words only (every sentence of a clause on awards
                # states an amount, and most are about other awards).
                fit = fit_sentence(scored, focus, context, self.idf, asked)
                about = fit_sentence(f"{scored} {topic}", focus, context, self.idf, asked) if topic else fit
                about += kind_bonus(f"{scored} {topic}" if topic else scored, kinds, asks_quantity)
                if sentence.rstrip().endswith(("？", "?")):
                    fit, about = fit * 0.5, about * 0.5
                picks.append(Pick(item.clause, sentence, about + self.rank_prior * item.score, fit))
        return sorted(picks, key=lambda p: -p.score)

    def answer(self, query: Query, evidence: list[Evidence]) -> Draft:
        """The sentences of the best clause that answer, each run of consecutive sentences quoted as written
        and followed by its citation marker."""
        picks = self.pick(query.original, query.context, evidence, query.asked)
        if not picks:
            return Draft("", (), ())
        best = picks[0]
        order = sentences_of(best.clause)
        chosen = set(continued(order, order.index(best.sentence)))
        if query.whole:
            chosen = set(range(len(order)))
        # More sentences only from the same clause (a second clause would be cited on weaker grounds), those
        # that answer nearly as well: criteria, measures and amounts are often spread over several sentences.
        open_question = not kinds_asked(query.original, query.context)
        first = order.index(best.sentence)
        extra = 0
        for other in picks[1:]:
            if extra >= self.max_extra or sum(len(order[i]) for i in chosen) > self.max_chars:
                break
            if other.clause.clause_id != best.clause.clause_id:
                continue
            index = order.index(other.sentence)
            ratio = self.keep_ratio_open if open_question and index > first else self.keep_ratio
            if other.fit >= ratio * best.fit and index not in chosen:
                chosen.add(index)
                extra += 1
        runs = _runs(sorted(chosen))
        quoted = tuple(order[i] for i in sorted(chosen))
        text = f"根据{best.clause.name}：" + "".join(
            "".join(order[i] for i in run).rstrip("。；;，,") + "[1]。" for run in runs
        )
        sources, sentences = (best.clause,), (quoted,)
        following = self._went_on(best.clause, order, sorted(chosen), evidence) if not query.whole else ()
        if following:  # the quote goes on in the clause's next part: that part is cited too
            text += "".join(following).rstrip("。；;，,") + "[2]。"
            sources, sentences = (best.clause, self.next_part(best.clause)), (quoted, following)
        asks_who = any(kind.name == "who" for kind in wanted_kinds(to_simplified(query.original)))
        responsible = responsibility(best.clause) if asks_who else None
        if responsible:  # "找哪个部门?": the bodies the clause makes responsible
            text += f"{responsible}[1]。"
            sentences = ((*sentences[0], responsible), *sentences[1:])
        return Draft(text, sources, sentences)

    def _went_on(self, clause: Clause, order: list[str], chosen: list[int], evidence: list[Evidence]
                 ) -> tuple[str, ...]:
        """The sentences of the clause's next part that complete a quote ending on the clause's last sentence,
        as ``continued`` completes one within a clause (the index cut a long section in parts there). Only a
        retrieved part is quoted: what an answer cites is shown among its evidence."""
        if not chosen or chosen[-1] != len(order) - 1:
            return ()
        after = self.next_part(clause)
        if after is None or all(item.clause.clause_id != after.clause_id for item in evidence):
            return ()
        run = [order[i] for i in _runs(chosen)[-1]]
        next_sentences = sentences_of(after)
        joined = continued([*run, *next_sentences], 0, len(run))
        return tuple(next_sentences[: len(joined) - len(run)])


# A quote goes on past a sentence that introduces what follows (：), asks (FAQ), or is too short to stand
# alone, and through a list of items separated by ；, up to these lengths.
_CONTINUE_SHORT = 60
_CONTINUE_MAX = 120
_CONTINUE_LIST_MAX = 150


_POINTS_BACK = re.compile(r"^\s*(当日|当天|同日|同一天|当晚|次日|随后|此后|对此|为此)")


def continued(sentences: list[str], start: int, through: int = 1) -> list[int]:
    """The index of the best sentence and of those that complete it: the one before when it opens on a word
    pointing back to it ("当日，…正式启用…" says when only together with the sentence before). ``through``: the
    sentences from ``start`` already quoted (a run that goes on in the next part of its clause)."""
    chosen = [start - 1, start] if start > 0 and _POINTS_BACK.match(sentences[start]) else [start]
    chosen += list(range(start + 1, start + through))
    length = sum(len(sentences[i]) for i in range(start, start + through))
    while chosen[-1] + 1 < len(sentences):
        last = sentences[chosen[-1]].rstrip()
        opens = last.endswith(("：", ":", "？", "?")) or length < _CONTINUE_SHORT
        listing = last.endswith(("；", ";"))
        if not ((opens and length < _CONTINUE_MAX) or (listing and length < _CONTINUE_LIST_MAX)):
            break
        chosen.append(chosen[-1] + 1)
        length += len(sentences[chosen[-1]])
    return chosen


def _runs(indexes: list[int]) -> list[list[int]]:
    """Consecutive indexes grouped: [1, 2, 4] → [[1, 2], [4]]."""
    runs: list[list[int]] = []
    for index in indexes:
        if runs and runs[-1][-1] + 1 == index:
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs
