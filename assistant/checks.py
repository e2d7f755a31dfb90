"""Checks on an answer, as pure functions over a draft and the clauses it was written from.

Citations are keys that are checked: every ``[n]`` of a draft is mapped to a retrieved clause and renumbered into
the answer's keys; a key that maps to nothing is removed and logged, never shown. An LLM's answer is checked
further (``check_llm_answer``): every figure it states must be stated by a clause it cites."""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from assistant.numbers import unsupported
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


def check_llm_answer(raw: str, sources: Sequence[str], refusal: str) -> LLMCheck:
    """Check an LLM's answer against the texts of the clauses it was given (``sources[n-1]`` for ``[n]``): every
    marker maps to a clause (others are removed and logged); every figure of a sentence is stated by a clause the
    sentence cites (a sentence without a marker: by any clause the answer cites); a refusal cites nothing; an
    answer that is not a refusal cites something and gives no eligibility verdict of its own."""
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
        checked = check_llm_answer(attributed, sources, refusal)
        return replace(checked, removed_keys=removed_keys + checked.removed_keys, cited_by_code=True)
    missing: list[str] = []
    for sentence in _ANSWER_SENTENCE.findall(text):
        cited = [int(k) for k in _MARKER.findall(sentence)] or list(keys)
        missing += unsupported(_MARKER.sub("", sentence), [sources[k - 1] for k in cited])
    missing = list(dict.fromkeys(missing))
    failure = ""
    if missing:
        failure = f"回答中的数字{'、'.join(missing)}在所引条款中找不到"
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
