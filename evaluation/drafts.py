"""The drafts set (``qa/drafts.jsonl``): citizens' messages, and what each reply draft must and must not contain.
Besides each case's own checks, every draft is checked for what any reply must be: no [n] marker, not the chat's
refusal sentence, each source listed once, the replying unit and date in the sign-off, and (answered or not) what
the case expects. ``python -m evaluation.drafts`` prints each failure and the share of drafts that pass."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.prompts import REFUSAL

DRAFTS_SET = Path(__file__).resolve().parent.parent / "qa" / "drafts.jsonl"
_MARKER = re.compile(r"\[\d+\]")
_SOURCE_LINE = re.compile(r"^\d+\. (.+)$", re.M)


@dataclass(frozen=True)
class DraftCase:
    """One citizen's message and what its draft must and must not contain."""

    case_id: str
    message: str
    must_contain: tuple[str, ...]
    must_not_contain: tuple[str, ...]
    answerable: bool = True


def load_cases(path: Path = DRAFTS_SET) -> list[DraftCase]:
    """The cases of a drafts set."""
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            data = json.loads(line)
            cases.append(DraftCase(data["id"], data["message"], tuple(data["must_contain"]),
                                   tuple(data["must_not_contain"]), data.get("answerable", True)))
    return cases


def failures(case: DraftCase, draft: str, unit: str, date: str) -> list[str]:
    """What is wrong with a draft for this case (empty: nothing)."""
    found = [f"lacks {text!r}" for text in case.must_contain if text not in draft]
    found += [f"contains {text!r}" for text in case.must_not_contain if text in draft]
    if _MARKER.search(draft):
        found.append("holds a [n] marker")
    if REFUSAL in draft:
        found.append("holds the chat's refusal sentence")
    if not draft.rstrip().endswith(f"{unit}\n{date}"):
        found.append("does not end with the replying unit and date")
    sources = _SOURCE_LINE.findall(draft)
    if len(sources) != len(set(sources)):
        found.append("lists a source twice")
    if case.answerable != ("政策依据：" in draft):
        found.append("answers what has no basis" if not case.answerable else "answers nothing")
    return found


def run(cases: list[DraftCase], drafter: Callable[[str], str], unit: str, date: str) -> dict:
    """Every case drafted and checked: the failures by case id and the share of drafts that pass."""
    failed = {}
    for case in cases:
        problems = failures(case, drafter(case.message), unit, date)
        if problems:
            failed[case.case_id] = problems
    return {"cases": len(cases), "failed": failed, "passed": 1 - len(failed) / len(cases) if cases else 0.0}


def main(argv: list[str] | None = None) -> int:
    from core.settings import load_settings
    from serve.drafts import reply_draft, sign_off_date
    from serve.factory import make_assistant

    parser = argparse.ArgumentParser(prog="python -m evaluation.drafts", description=__doc__)
    parser.add_argument("--qa", type=Path, default=DRAFTS_SET)
    args = parser.parse_args(argv)
    settings = load_settings()
    assistant = make_assistant(settings)
    result = run(load_cases(args.qa), lambda message: reply_draft(message, assistant, settings),
                 settings.reply_unit, sign_off_date(settings))
    for case_id, problems in result["failed"].items():
        print(f"{case_id}: {'; '.join(problems)}")
    print(f"{result['cases'] - len(result['failed'])}/{result['cases']} drafts pass ({result['passed']:.0%})")
    return 0 if not result["failed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
