"""A question read once: its forms (as typed, simplified with typos repaired, resolved against the conversation,
and its focus: what it asks about, without the places it names), the places it names, the question it follows and
the clauses cited before, its script, the kinds of answer it wants, what it asks as against what only describes the
asker, and the enterprise's stated figures. The chain reads the message into a ``Question`` before anything else;
the decisions (``assistant.decide``) and the steps read it from there.

The support measure (``assistant.support``) still splits each text it weighs (the question, the question a follow-up
follows) into what asks and what describes the asker on its own: it weighs texts other than the question too."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from assistant.conversation import Resolution
from assistant.regions import RegionMatch
from assistant.support import asked_text

if TYPE_CHECKING:
    from assistant.figures import Figure

ANSWER_KINDS_PATH = Path(__file__).parent / "rules" / "answer_kinds.yaml"
CANTONESE_PATH = Path(__file__).parent / "rules" / "cantonese.yaml"


@lru_cache(maxsize=1)
def _cantonese(path: Path = CANTONESE_PATH) -> tuple[re.Pattern, dict[str, str]]:
    words = {str(k): str(v) for k, v in yaml.safe_load(path.read_text(encoding="utf-8"))["words"].items()}
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))), words


def mandarin(text: str) -> str:
    """A simplified text with its Cantonese written words in Mandarin ("有冇专门嘅贷款" → "有没有专门的贷款"):
    policies are written in Mandarin (``rules/cantonese.yaml``)."""
    pattern, words = _cantonese()
    return pattern.sub(lambda m: words[m.group(0)], text)


@dataclass(frozen=True)
class AnswerKind:
    """A kind of answer (``rules/answer_kinds.yaml``): how a question asks for it, how a sentence states it."""

    name: str
    asked: re.Pattern
    stated: re.Pattern


@lru_cache(maxsize=1)
def answer_kinds(path: Path = ANSWER_KINDS_PATH) -> tuple[AnswerKind, ...]:
    """The kinds of answer, in the file's order."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(AnswerKind(name, re.compile(entry["asked"]), re.compile(entry["stated"])) for name, entry in data.items())


def wanted_kinds(text: str) -> tuple[AnswerKind, ...]:
    """The kinds of answer a (simplified) text asks for: "补多少钱?" an amount, "找哪个部门?" who."""
    return tuple(kind for kind in answer_kinds() if kind.asked.search(text))


def states_wanted(kinds: tuple[AnswerKind, ...], text: str) -> bool:
    """Whether a text states an answer of one of the kinds asked (True when none is asked)."""
    return not kinds or any(kind.stated.search(text) for kind in kinds)


@dataclass(frozen=True)
class Question:
    """One message, read once (see the module's docstring)."""

    typed: str  # as typed, stripped and cut to the length limit
    simplified: str  # in simplified characters and Mandarin words, input-method typos repaired
    resolution: Resolution  # against the conversation: the resolved text, whether a follow-up, a place swap
    places: RegionMatch  # the places it names, covered or not by the knowledge base
    traditional: bool  # answered in traditional script
    context: str = ""  # for a follow-up: what the conversation asked before
    cited: tuple[str, ...] = ()  # for a follow-up: the clauses the previous answer cited
    rewritten: str = ""  # what an LLM rewrote a follow-up into (then also the resolution's text)
    # What it asks about, without the place names: the simplified message, or for a place swap ("那江门呢?") the
    # whole question it resolves to. Sentences are chosen, and figures read, on it.
    focus: str = ""

    @property
    def resolved(self) -> str:
        return self.resolution.text

    @property
    def wants(self) -> tuple[AnswerKind, ...]:
        """The kinds of answer asked for (an amount, a date, a contact, who is responsible …)."""
        return wanted_kinds(self.simplified)

    @property
    def place_names(self) -> set[str]:
        """The names of the places it names (full and short for those covered, short for the others): left out of
        what is weighed, since they say where rather than what."""
        covered = [place for place, _ in self.places.covered]
        return {p.short for p in covered} | {p.name for p in covered} | {p.short for p in self.places.uncovered}

    @cached_property
    def asked(self) -> str:
        """The sentences of the focus that ask, without those that only describe the asker ("我们是吉林一家会计师事务所，
        …省里对服务费用有补助吗?" asks "省里对服务费用有补助吗?")."""
        return asked_text(self.focus)

    @property
    def describes_asker(self) -> bool:
        """Whether some sentence of the focus only describes the asker."""
        return self.asked != self.focus

    @cached_property
    def stated_figures(self) -> tuple[Figure, ...]:
        """The enterprise's own figures in the focus ("去年营收800多万", "80个人里搞研发的只有6个")."""
        from assistant.figures import stated_figures  # figures reads the kinds of answer from this module

        return tuple(stated_figures(self.focus))


__all__ = ["ANSWER_KINDS_PATH", "CANTONESE_PATH", "AnswerKind", "Question", "answer_kinds", "mandarin", "states_wanted",
           "wanted_kinds"]
