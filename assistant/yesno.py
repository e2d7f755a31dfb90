"""The yes of a yes/no question: "有没有…补贴?" answered by clauses that provide it opens with "有", then the
clauses say what is provided."""

from __future__ import annotations

import re

from assistant.types import Draft
from core.prompts import render
from core.textnorm import to_simplified

_ASKS_WHETHER_EXISTS = re.compile(r"有没有|有无|是否有|有没|(?<![没还])有[^，,。？?]{1,20}(吗|么|嘛)[？?]?$")
# Words with which a clause provides something (a subsidy, a service, a platform).
_PROVIDES = re.compile(r"给予|提供|支持|鼓励|补贴|补助|奖励|奖补|贴息|设立|建立|建设|开展|组织|实施|纳入|开放|免收|减免")


# Administrative levels, highest first: "省级及以上" covers 省级 and 国家级, not 市级.
LEVELS = ("国家级", "省级", "市级", "县级")
_LEVEL = re.compile(r"(国家|省|市|县)级(及以上|以上)?")


def levels_covered(text: str) -> set[str]:
    """The levels a text's provisions name ("对新获得认定的省级及以上…" → 省级, 国家级)."""
    covered: set[str] = set()
    for match in _LEVEL.finditer(text):
        level = match.group(1) + "级"
        covered.update(LEVELS[: LEVELS.index(level) + 1] if match.group(2) else (level,))
    return covered


def level_mismatch(question: str, quoted: str) -> bool:
    """Whether the question asks about a level ("评上市级专精特新有奖励吗?") that the quoted sentences, which
    name levels, do not cover: their "有" would be about another level."""
    asked = {m.group(1) + "级" for m in _LEVEL.finditer(question)}
    named = levels_covered(quoted)
    return bool(asked and named and not asked & named)


def asks_whether_exists(question: str) -> bool:
    """Whether a question asks if a policy provides something ("有没有补贴?", "省里有扶持吗?")."""
    return bool(_ASKS_WHETHER_EXISTS.search(to_simplified(question).strip()))


def provides(draft: Draft) -> bool:
    """Whether the sentences a draft quotes provide something, so that "有" is what they say."""
    return bool(_PROVIDES.search(to_simplified(draft.quoted)))


def with_yes_lead(question: str, drafts: list[tuple[str, Draft]]) -> list[tuple[str, Draft]]:
    """The parts of an answer, led by "有" when the question asks whether something exists and every part quotes
    clauses that provide it; unchanged otherwise."""
    says_yes = drafts[0][1].text.lstrip().startswith(("有", "是", "可以"))  # an LLM may have said it already
    if says_yes or not asks_whether_exists(question) or not all(provides(d) for _, d in drafts):
        return drafts
    if any(level_mismatch(to_simplified(question), to_simplified(d.quoted)) for _, d in drafts):
        return drafts
    lead = render("answer_yes_exists_several" if len(drafts) > 1 else "answer_yes_exists")
    return [("", Draft(lead, (), ())), *drafts]
