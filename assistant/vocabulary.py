"""The bridge between how enterprises ask and how policies are written: a reviewed vocabulary of everyday words
(营收 → 营业收入, 市里 → 市级, 评上 → 认定) and typo repair against the knowledge base's own words
(专精特心 → 专精特新, 互连网 → 互联网), by sound. Used by retrieval (the policy terms are added to the search)
and by the support judgment (a question's word counts as found when its policy term is)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from assistant.retrieval.lexical import normalize

log = logging.getLogger(__name__)
DEFAULT_PATH = Path(__file__).with_name("vocabulary.yaml")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


class VocabularyError(ValueError):
    """The vocabulary file cannot be read or has a malformed entry."""


@dataclass(frozen=True)
class Vocabulary:
    """Everyday word → the policy terms it stands for (first one canonical)."""

    terms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> Vocabulary:
        """Read a vocabulary file (see vocabulary.yaml for the format)."""
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise VocabularyError(f"cannot read vocabulary {path}: {exc}") from exc
        terms = {}
        for word, targets in (data.get("terms") or {}).items():
            if not isinstance(word, str) or not isinstance(targets, list) or not targets or not all(
                isinstance(t, str) and t for t in targets
            ):
                raise VocabularyError(f"{path}: entry {word!r} must map a word to a non-empty list of terms")
            terms[normalize(word)] = tuple(normalize(t) for t in targets)
        return cls(terms)

    def found(self, text: str) -> list[str]:
        """The vocabulary's words among a (normalised) text's words: whole words only (工人 is not in 务工人员)."""
        return [word for word in self._segment(text) if word in self.terms]

    def rewrite(self, text: str) -> str:
        """The text with each everyday word replaced by its canonical policy term."""
        return "".join(self.terms[w][0] if w in self.terms else w for w in self._segment(text))

    def _segment(self, text: str) -> list[str]:
        segmenter = _segmenter(tuple(self.terms))
        return segmenter.lcut(text, HMM=False)

    def expansions(self, text: str) -> list[str]:
        """Policy terms to add to a search for this text (those it does not already contain)."""
        out: list[str] = []
        for word in self.found(text):
            out.extend(t for t in self.terms[word] if t not in text and t not in out)
        return out

    def alternatives(self) -> dict[str, tuple[str, ...]]:
        """Canonical term → every policy term an everyday word stands for (for judging whether it is found)."""
        out: dict[str, tuple[str, ...]] = {}
        for targets in self.terms.values():
            out[targets[0]] = tuple(dict.fromkeys(out.get(targets[0], ()) + targets))
        return out

    def policy_terms(self) -> set[str]:
        """Every policy term the vocabulary maps to (the segmenter must keep them whole)."""
        return {t for targets in self.terms.values() for t in targets}


@lru_cache(maxsize=4)
def _segmenter(words: tuple[str, ...]):
    """A segmenter of its own, taught the vocabulary's everyday words (the search's segmenter is not changed:
    the lexical index and its queries must keep segmenting alike)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    for word in words:
        tokenizer.add_word(word)
    return tokenizer


@lru_cache(maxsize=1)
def default_vocabulary() -> Vocabulary:
    """The product's reviewed vocabulary (assistant/vocabulary.yaml)."""
    return Vocabulary.load()


def _pinyin(chars: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin

    return tuple(lazy_pinyin(chars))


def _all_words(text: str) -> bool:
    """Whether a text is made of common dictionary words only (天津|城市): such a text is written as meant.
    Rare dictionary entries (互连网) do not count: they are often the typo itself."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    pieces = jieba.lcut(text, HMM=False)
    return all(len(p) >= 2 and jieba.dt.FREQ.get(p, 0) >= COMMON_WORD_FREQUENCY for p in pieces)


COMMON_WORD_FREQUENCY = 100  # jieba's dictionary count above which a word is in everyday use


class TypoRepair:
    """Repairs words a user mistyped by sound (the usual typo of Chinese input methods): a run of three or four
    characters that is no word of the knowledge base but sounds like one of its words, differing in one
    character, is replaced by it. Two-character words are left alone: too many of them sound alike."""

    def __init__(self, lexicon: Iterable[str], known: Iterable[str] = ()):
        """``lexicon``: the knowledge base's words (three or four characters); ``known``: texts in which a
        window that occurs is never a typo."""
        self._by_sound: dict[tuple[str, ...], list[str]] = {}
        for word in set(lexicon):
            if 3 <= len(word) <= 4 and _CJK_RUN.fullmatch(word):
                self._by_sound.setdefault(_pinyin(word), []).append(word)
        self._known = "\n".join(known)

    def repair(self, text: str) -> str:
        """The text with sound-alike typos replaced (longest windows first)."""
        if not self._by_sound:
            return text
        out = text
        for run in _CJK_RUN.findall(text):
            sounds = _pinyin(run)
            if len(sounds) != len(run):
                continue
            for size in (4, 3):
                for start in range(len(run) - size + 1):
                    window = run[start : start + size]
                    if self._is_known(window):
                        continue
                    fix = self._sound_alike(window, sounds[start : start + size])
                    if fix and self._repairs_unseen(window, fix) and not _all_words(window):
                        log.info("typo repaired: %s → %s", window, fix)
                        out = out.replace(window, fix)
        return out

    def _is_known(self, window: str) -> bool:
        return window in self._known

    def _repairs_unseen(self, window: str, fix: str) -> bool:
        """A typo leaves a pair of characters the knowledge base never writes (特心, 连网), and the repair
        replaces a character of that pair: 上海市为 is not a typo of 上海市委, whose every pair is common."""
        changed = next(i for i, (a, b) in enumerate(zip(window, fix, strict=True)) if a != b)
        pairs = [window[i : i + 2] for i in (changed - 1, changed) if 0 <= i < len(window) - 1]
        return any(pair not in self._known for pair in pairs)

    def _sound_alike(self, window: str, sounds: tuple[str, ...]) -> str | None:
        for word in self._by_sound.get(tuple(sounds), ()):
            if sum(a != b for a, b in zip(word, window, strict=True)) == 1:
                return word
        return None
