"""An audit of finished answers, independent of the guard that produced them: every [n] of an answer's text is one
of its citations, and every figure of the text is stated by a clause the answer cites. Run over evaluation
records (``Answer.record()``); it counts what the guard let through, and how often the guard stepped in."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.numbers import unsupported

_MARKER = re.compile(r"\[(\d{1,2})\]")


@dataclass(frozen=True)
class Audit:
    """Counts over a run's records."""

    answers: int = 0  # answered (not refused)
    unknown_citations: int = 0  # answers with a marker that is none of their citations
    unsupported_numbers: int = 0  # answers with a figure no cited clause states
    llm_checked: int = 0  # answers an LLM wrote or tried to write (they carry guard decisions)
    regenerated: int = 0
    fallback: int = 0
    errors: int = 0  # the model could not answer at all (down, timeout, garbage)
    examples: tuple[str, ...] = ()


def body_of(answer_text: str) -> str:
    """The answer's text without its list of sources."""
    return answer_text.split("\n来源：")[0]


def audit(records: list[dict], computed: tuple[str, ...] = ("按您提供的数字",)) -> Audit:
    """Count the records whose text holds an unknown citation or an unsupported figure. Sentences the code
    computed from the enterprise's own figures (``computed``, e.g. "按您提供的数字，6÷80=7.5%…") are left out:
    they state the asker's numbers on purpose."""
    answers = unknown = figures = checked = regenerated = fallback = errors = 0
    examples: list[str] = []
    for record in records:
        guard = record.get("guard")
        if guard:
            checked += 1
            regenerated += bool(guard["regenerated"])
            fallback += bool(guard["fallback"])
            errors += bool(guard.get("error"))
        if record["refused"]:
            continue
        answers += 1
        body = body_of(record["answer"])
        keys = {int(k) for k in _MARKER.findall(body)}
        if not keys <= set(range(1, len(record["citations"]) + 1)):
            unknown += 1
            examples.append(f"unknown citation: {body[:80]}")
        sources = [f"《{c['title']}》{c.get('doc_number') or ''}{c['clause']} {c['text']}" for c in record["citations"]]
        # The answer's parts are the lines that cite; the notes (status, fallback) cite nothing and state dates of
        # their own ("截至2026年11月23日").
        lines = [line for line in body.splitlines() if _MARKER.search(line) and not any(m in line for m in computed)]
        sentences = [s for line in lines for s in re.split(r"(?<=[。；！？])", line) if not any(m in s for m in computed)]
        missing = unsupported(_MARKER.sub("", "".join(sentences)), sources)
        if missing:
            figures += 1
            examples.append(f"unsupported {missing}: {body[:80]}")
    return Audit(answers, unknown, figures, checked, regenerated, fallback, errors, tuple(examples))
