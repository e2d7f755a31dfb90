"""Conversations: each keeps its own history, and follow-ups are resolved against it before retrieval."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from assistant.retrieval.lexical import words
from assistant.types import Answer
from index.gazetteer import Gazetteer

_FOLLOW_UP_START = re.compile(r"^(那|那么|那个|还有|另外|再问|再请问|如果是|换成|改成|而|和)")
_FOLLOW_UP_END = re.compile(r"(呢|的呢|怎么样|如何)[\s?？。!！]*$")
_PLACE_TAIL = re.compile(r"^(的|市|省|那边|这边)")


@dataclass
class Turn:
    """One exchange: the message, what it was resolved to, and the answer."""

    question: str
    resolved: str
    answer: Answer | None = None


@dataclass
class Conversation:
    """One user's conversation: history stays inside it."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    turns: list[Turn] = field(default_factory=list)
    traditional: bool = False

    def last_resolved(self) -> str | None:
        """The previous question, as resolved."""
        return self.turns[-1].resolved if self.turns else None

    def cited_docs(self) -> tuple[str, ...]:
        """The documents the previous answer cited, in the order it cited them."""
        answer = self.turns[-1].answer if self.turns else None
        if answer is None:
            return ()
        return tuple(dict.fromkeys(c.clause.doc.doc_id for c in answer.citations))

    def cited_clauses(self) -> tuple[str, ...]:
        """The clauses the previous answer cited."""
        answer = self.turns[-1].answer if self.turns else None
        return tuple(c.clause.clause_id for c in answer.citations) if answer else ()

    def context(self) -> str:
        """What the conversation asked before (the previous resolved question)."""
        return self.last_resolved() or ""


def is_follow_up(question: str) -> bool:
    """An elliptical message that only makes sense after the previous one ("那评估费呢?", "最多补几年?")."""
    stripped = question.strip()
    if _FOLLOW_UP_START.search(stripped) or _FOLLOW_UP_END.search(stripped):
        return True
    return len(set(words(stripped))) <= 3


@dataclass(frozen=True)
class Resolution:
    """A message made self-contained. ``follow_up``: it borrowed the previous question; ``place_swap``: it
    asked the previous question again about another place."""

    text: str
    follow_up: bool = False
    place_swap: bool = False


def resolve(question: str, previous: str | None, gazetteer: Gazetteer) -> Resolution:
    """The question made self-contained: a follow-up borrows the previous question, with a newly named
    place replacing the old one ("那江门呢?" after a question about Rizhao)."""
    if not previous or not is_follow_up(question):
        return Resolution(question)
    new_places = gazetteer.find(question)
    if new_places:
        old_places = gazetteer.find(previous)
        rewritten = previous
        for old in old_places:
            for name in (old.name, old.short):
                if name in rewritten:
                    rewritten = rewritten.replace(name, new_places[0].name if old is old_places[0] else "")
                    break
        if not old_places:
            rewritten = new_places[0].name + rewritten
        remainder = _strip_places(question, new_places)
        return Resolution(f"{rewritten} {remainder}".strip(), follow_up=True, place_swap=not remainder)
    return Resolution(f"{previous} {question}".strip(), follow_up=True)


def _strip_places(question: str, places) -> str:
    text = question
    for place in places:
        for name in (place.name, place.short):
            text = text.replace(name, "")
    text = _FOLLOW_UP_START.sub("", text.strip())
    text = _PLACE_TAIL.sub("", text)
    return "" if not re.search(r"[\u4e00-\u9fffA-Za-z0-9]", _FOLLOW_UP_END.sub("", text)) else text
