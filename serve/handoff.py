"""When a conversation turn is handed to a person: the rules (``serve/rules/handoff.yaml``) as pure functions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from assistant.types import Answer
from core.textnorm import to_simplified

HANDOFF_RULES_PATH = Path(__file__).parent / "rules" / "handoff.yaml"
_PUNCTUATION = re.compile(r"[\s,，.。!！?？~～、:：;；]+")

# Why a ticket was opened, in the staff desk's words.
TICKET_REASONS = {
    "refused": "无依据拒答",
    "not_sure": "不确定（列出可能相关条款）",
    "thumbs_down": "用户点踩",
    "asked_for_person": "用户要求转人工",
}


@dataclass(frozen=True)
class HandoffRules:
    """The asker's phrases asking for a person, and the refusal reasons handed to staff."""

    asks_for_person: tuple[str, ...]
    refusals_handed_off: frozenset[str]


@lru_cache(maxsize=4)
def handoff_rules(path: Path = HANDOFF_RULES_PATH) -> HandoffRules:
    """The rules file, read once."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return HandoffRules(tuple(data["asks_for_person"]), frozenset(data["refusals_handed_off"]))


def asks_for_person(message: str, rules: HandoffRules | None = None) -> bool:
    """Whether the asker's message asks for a person ("转人工", "我要找人工客服!"), in either script."""
    rules = rules or handoff_rules()
    text = _PUNCTUATION.sub("", to_simplified(message or ""))
    return any(phrase in text for phrase in rules.asks_for_person)


def handoff_reason(answer: Answer, rules: HandoffRules | None = None) -> str | None:
    """Why this answer opens a ticket ("refused" or "not_sure"), or None when it does not."""
    rules = rules or handoff_rules()
    if not answer.refused or answer.reason not in rules.refusals_handed_off:
        return None
    return "not_sure" if answer.related else "refused"


def closest_clause_ids(answer: Answer) -> list[str]:
    """The clauses a ticket shows staff: what the answer cited, else its possibly related clauses, else the best
    retrieved ones (up to three)."""
    if answer.citations:
        return [c.clause.clause_id for c in answer.citations]
    if answer.related:
        return [e.clause.clause_id for e in answer.related]
    return [e.clause.clause_id for e in answer.evidence[:3]]
