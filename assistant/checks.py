"""Checks on an answer, as pure functions over a draft and the clauses it was written from.

Citations are keys that are checked: every ``[n]`` of a draft is mapped to a retrieved clause and renumbered into
the answer's keys; a key that maps to nothing is removed and logged, never shown."""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from dataclasses import dataclass

from assistant.types import Citation, Draft

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
