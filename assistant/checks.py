"""Checks on an answer, as pure functions over a draft and the clauses it was written from.

Citations are keys that are checked: every ``[n]`` of a draft is mapped to a retrieved clause and renumbered into
the answer's keys; a key that maps to nothing is removed and logged, never shown. An LLM's answer is checked
further (``check_llm_answer``): every figure it states must be stated by a clause it cites, and bound there to what
the sentence says it is of (``misbound``)."""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from assistant.numbers import figures, stated_keys, unsupported
from assistant.types import Citation, Draft
from core.textnorm import to_simplified

log = logging.getLogger(__name__)
_MARKER = re.compile(r"\[(\d{1,2})\]")  # a citation marker; [2020] in a quoted clause is a year, not a marker


@dataclass(frozen=True)
class CheckedDraft:
    """A draft's text with its markers renumbered into the answer's keys, the answer's citations so far, and the
    draft's own keys that were removed (they mapped to no retrieved clause)."""

    text: str
    citations: tuple[Citation, ...]
    removed_keys: tuple[int, ...] = ()


def check_citations(draft: Draft, retrieved: Collection[str], cited: tuple[Citation, ...] = ()) -> CheckedDraft:
    """Map each of the draft's keys to a retrieved clause id, continuing the numbering of ``cited`` (the citations
    of the answer's earlier parts; a clause cited there keeps its key); remove the markers of the others."""
    citations = list(cited)
    mapping: dict[int, int] = {}
    for key, (clause, sentences) in enumerate(zip(draft.sources, draft.sentences, strict=True), 1):
        if clause.clause_id not in retrieved:
            log.warning("generator cited a clause that was not retrieved: %s (removed)", clause.clause_id)
            continue
        existing = next((c for c in citations if c.clause.clause_id == clause.clause_id), None)
        if existing is None:
            existing = Citation(len(citations) + 1, clause, sentences)
            citations.append(existing)
        mapping[key] = existing.key
    removed: list[int] = []

    def renumber(found: re.Match) -> str:
        key = int(found.group(1))
        if key not in mapping:
            log.warning("citation marker [%s] maps to no retrieved clause: removed", key)
            removed.append(key)
            return ""
        return f"[{mapping[key]}]"

    text = _MARKER.sub(renumber, draft.text)
    return CheckedDraft(text, tuple(citations), tuple(dict.fromkeys(removed)))


# A sentence of an answer, for attributing figures to the markers of the sentence they are in.
_MARKER_AFTER_STOP = re.compile(r"([。；;！？!?])((?:\[\d{1,2}\])+)")  # "…。[1]" → "…[1]。"
_ANSWER_SENTENCE = re.compile(r"[^。；;！？!?\n]+[。；;！？!?\n]*")
# An eligibility verdict ("能申报", "不符合条件"): only code comparing the enterprise's figures may say so.
_VERDICT = re.compile(r"(能|可以|可|无法|不能|不可以)(申报|申请|享受)|(不)?符合(申报|申请)?(条件|要求)|(未)?达到申报")


@dataclass(frozen=True)
class LLMCheck:
    """The guard's verdict on an LLM's answer to numbered clauses: the text without unknown markers, the keys it
    cites (1-based into the clauses, in order of first use), what was removed or found unsupported, and
    ``failure``, a sentence naming what is wrong (empty when the answer may be shown)."""

    text: str
    keys: tuple[int, ...]
    removed_keys: tuple[int, ...] = ()
    unsupported_numbers: tuple[str, ...] = ()
    refusal: bool = False
    failure: str = ""
    cited_by_code: bool = False  # the model wrote no marker; each sentence was given the clause that states it


def check_llm_answer(raw: str, sources: Sequence[str], refusal: str, bodies: Sequence[str] | None = None) -> LLMCheck:
    """Check an LLM's answer against the texts of the clauses it was given (``sources[n-1]`` for ``[n]``): every
    marker maps to a clause (others are removed and logged); every figure of a sentence is stated by a clause the
    sentence cites (a sentence without a marker: by any clause the answer cites) and bound there to the sentence's
    own subject (in ``bodies``, the clauses' own texts, when the sources also carry titles: a title's words, such
    as its place, are no other subject); a refusal cites nothing; an answer that is not a refusal cites something
    and gives no eligibility verdict of its own."""
    bodies = sources if bodies is None else bodies
    text = raw.strip()
    removed: list[int] = []

    def keep_known(found: re.Match) -> str:
        key = int(found.group(1))
        if 1 <= key <= len(sources):
            return found.group(0)
        log.warning("LLM cited [%s], which maps to no clause it was given: removed", key)
        removed.append(key)
        return ""

    text = _MARKER.sub(keep_known, _MARKER_AFTER_STOP.sub(r"\2\1", text))
    keys = tuple(dict.fromkeys(int(k) for k in _MARKER.findall(text)))
    removed_keys = tuple(dict.fromkeys(removed))
    if not text:
        return LLMCheck("", (), removed_keys, failure="回答为空")
    if to_simplified(refusal).rstrip("。") in to_simplified(text):
        failure = "拒答时不得引用条款编号" if keys else ""
        return LLMCheck(text, keys, removed_keys, refusal=True, failure=failure)
    if not keys:
        attributed = attribute_citations(text, sources)
        if attributed is None:
            return LLMCheck(text, keys, removed_keys, failure="回答没有在句末用[1]、[2]这样的编号标注所依据的条款")
        log.info("LLM answer without markers: cited by code")
        checked = check_llm_answer(attributed, sources, refusal, bodies)
        return replace(checked, removed_keys=removed_keys + checked.removed_keys, cited_by_code=True)
    missing: list[str] = []
    misplaced: list[str] = []
    for sentence in _ANSWER_SENTENCE.findall(text):
        cited = [int(k) for k in _MARKER.findall(sentence)] or list(keys)
        plain, cited_texts = _MARKER.sub("", sentence), [sources[k - 1] for k in cited]
        absent = unsupported(plain, cited_texts)
        missing += absent
        misplaced += [figure for figure in misbound(plain, [bodies[k - 1] for k in cited]) if figure not in absent]
    missing = list(dict.fromkeys(missing))
    misplaced = [figure for figure in dict.fromkeys(misplaced) if figure not in missing]
    failure = ""
    if missing:
        failure = f"回答中的数字{'、'.join(missing)}在所引条款中找不到"
    elif misplaced:
        failure = (f"回答中的数字{'、'.join(misplaced)}在所引条款中说的是另一个对象；每个数字只能写给条款中"
                   "与它在同一分句（、；。之间）的对象")
        missing = misplaced
    elif _VERDICT.search(to_simplified(text)):
        failure = "回答自行判断了能否申报；只能引用条件并提醒企业自行核对"
    return LLMCheck(text, keys, removed_keys, tuple(missing), failure=failure)


def attribute_citations(text: str, sources: Sequence[str], min_overlap: float = 0.5) -> str | None:
    """An answer written without any marker, cited by code: each sentence gets the clause that states every
    figure of it and shares most of its wording (at least ``min_overlap`` of its character bigrams); None when a
    sentence has no such clause (the answer then fails the guard as uncited)."""
    cited = []
    for sentence in _ANSWER_SENTENCE.findall(text.strip()):
        body = sentence.rstrip("。；;！？!?\n")
        grams = _bigrams(body)
        if not grams:
            cited.append(sentence)
            continue
        best, best_share = 0, 0.0
        for key, source in enumerate(sources, 1):
            if unsupported(body, [source]):
                continue
            share = len(grams & _bigrams(source)) / len(grams)
            if share > best_share:
                best, best_share = key, share
        if best_share < min_overlap:
            return None
        cited.append(f"{body}[{best}]{sentence[len(body):]}")
    return "".join(cited)


def _bigrams(text: str) -> set[str]:
    chars = [ch for ch in to_simplified(text) if not ch.isspace() and ch not in "，,。；;：:、“”\"'()（）"]
    return {a + b for a, b in zip(chars, chars[1:], strict=False)}


# Binding a figure to its subject. A clause states a figure in a stretch (a sentence, or a part of it between ；/。,
# or ，对…); with 分别 each listed subject takes the figure at its position. An answer's figure is bound when one
# stretch stating it covers the answer's own words for it (from the previous figure, or the sentence start, up to
# it) and leaves out none of the clause's words for another subject.
_STRETCH = re.compile(r"[^。；;！？!?\n]+")
_NEW_SUBJECT = re.compile(r"[，,](?=对)")
_RESPECTIVELY = "分别"
_ITEM_SPLIT = re.compile(r"、")
_LAST_AND = re.compile(r"^(.*)(?:和|及|与)(.+)$")
_LEVEL = re.compile(r"(国家级|省级|市级|县级|区级)")
# Words of any award sentence: they name no subject.
_GENERIC = frozenset(
    "对于 新获 获得 得认 认定 定的 的企 给予 予最 最高 高奖 奖励 一次 次性 性奖 补贴 补助 资助 予补 每年 年补 不超 超过 过万"
    " 企业 万元 元的 按照 可以 可获 能拿 能获 以上 以下 最多 多可 元一 元奖 奖补 支持 市财 财政 政给 对新".split()
)
_MIN_SUBJECT_COVERAGE = 0.5


def subject_stretches(source: str) -> list[tuple[set, str]]:
    """The stretches of a clause and the figures each states (as keys), a 分别 list already resolved: each listed
    subject with its own figure, the shared words before and after kept."""
    stretches: list[tuple[set, str]] = []
    for sentence in _STRETCH.findall(source):
        for part in _NEW_SUBJECT.split(sentence):
            stretches += _respective(part) or [(stated_keys(part), part)]
    return stretches


def _respective(part: str) -> list[tuple[set, str]]:
    """"对A、B和C分别给予最高50万元、30万元和20万元" → (50万, 对A…给予…), (30万, 对B…), (20万, 对C…); [] when the
    stretch is not such a list (or the counts differ)."""
    before, found, after = part.partition(_RESPECTIVELY)
    amounts = figures(after)
    if not found or len(amounts) < 2:
        return []  # no list, or one figure for all of them: the stretch as a whole
    items = _ITEM_SPLIT.split(before)
    if len(items) == len(amounts) - 1 and (last := _LAST_AND.match(items[-1])):
        items = [*items[:-1], last.group(1), last.group(2)]
    if len(items) != len(amounts):
        return []  # a list this reading cannot align: the stretch as a whole
    head, _, first = items[0].rpartition("的")
    prefix = head + "的" if head else ""
    items[0] = first or items[0]
    # "国家级单项冠军企业、产品和专精特新“小巨人”企业": the first item's level holds for the items naming none.
    if level := _LEVEL.match(items[0]):
        items = [items[0], *(item if _LEVEL.match(item) else level.group(0) + item for item in items[1:])]
    tail = after
    for amount in amounts:
        tail = tail.replace(amount.text, "", 1)
    return [({amount.key}, prefix + item + _RESPECTIVELY + tail) for item, amount in zip(items, amounts, strict=True)]


def misbound(sentence: str, sources: Sequence[str]) -> list[str]:
    """The figures of an answer's sentence that its cited clauses state only for another subject: no stretch
    stating the figure covers the sentence's words for it (at least half of them that name something), or every
    such stretch leaves out words the clauses use for another subject."""
    stretches = [stretch for source in sources for stretch in subject_stretches(source)]
    everywhere = set().union(*(_bigrams(text) for _, text in stretches)) if stretches else set()
    wrong, start = [], 0
    for at, figure in _in_order(sentence):
        words = _bigrams(sentence[start:at]) - _GENERIC
        start = at + len(figure.text)
        candidates = [_bigrams(text) for keys, text in stretches if figure.key in keys]
        if not candidates or len(words) < 2:
            continue  # stated nowhere (the unsupported check says so) or nothing it is said of
        if not any(_bound(words, candidate, everywhere) for candidate in candidates):
            wrong.append(figure.text)
    return wrong


def _in_order(sentence: str) -> list:
    """The sentence's figures with where each is written, in reading order."""
    placed, searched_from = [], {}
    for figure in figures(sentence):
        at = sentence.find(figure.text, searched_from.get(figure.text, 0))
        if at >= 0:
            searched_from[figure.text] = at + len(figure.text)
            placed.append((at, figure))
    return sorted(placed, key=lambda item: item[0])


def _bound(words: set, stretch: set, everywhere: set) -> bool:
    foreign = (words & everywhere) - stretch  # the clause's words for something else
    covered = len(words & stretch) / len(words)
    return len(foreign) < 2 and covered >= _MIN_SUBJECT_COVERAGE
