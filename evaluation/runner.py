"""The evaluation runner: reads a Q&A set (qa/FORMAT.md), asks every case, writes results and scores them."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.conversation import Conversation
from core.prompts import render
from core.textnorm import normalize_for_match

log = logging.getLogger(__name__)
REQUIRED = {"id": str, "turns": list, "answerable": bool}
OPTIONAL = {"expected_facts": list, "gold_clauses": list, "category": str}


@dataclass(frozen=True)
class Case:
    """One Q&A case."""

    id: str
    turns: list[str]
    answerable: bool
    expected_facts: list[list[str]] = field(default_factory=list)
    gold_clauses: list[str] = field(default_factory=list)
    category: str = "uncategorised"
    line: int = 0


@dataclass(frozen=True)
class LineError:
    """A line of a Q&A file that could not be read as a case."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def load_cases(path: Path) -> tuple[list[Case], list[LineError]]:
    """Every readable case of a Q&A file, and what was wrong with the others (they never stop the run)."""
    cases: list[Case] = []
    errors: list[LineError] = []
    seen: set[str] = set()
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        return [], [LineError(0, "the file is not UTF-8 text")]
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            errors.append(LineError(number, f"bad JSON ({exc.msg} at column {exc.colno})"))
            continue
        problem = _check(data, seen)
        if problem:
            errors.append(LineError(number, problem))
            continue
        seen.add(data["id"])
        cases.append(
            Case(
                id=data["id"], turns=[str(t) for t in data["turns"]], answerable=data["answerable"],
                expected_facts=[[str(a) for a in (fact if isinstance(fact, list) else [fact])] for fact in data.get("expected_facts") or []],
                gold_clauses=[str(g) for g in data.get("gold_clauses") or []],
                category=data.get("category") or "uncategorised", line=number,
            )
        )
    return cases, errors


def _check(data: object, seen: set[str]) -> str:
    if not isinstance(data, dict):
        return "a case must be a JSON object"
    for key, kind in REQUIRED.items():
        if key not in data:
            return f"missing field {key!r}"
        if not isinstance(data[key], kind):
            return f"field {key!r} must be {kind.__name__}"
    for key, kind in OPTIONAL.items():
        if key in data and data[key] is not None and not isinstance(data[key], kind):
            return f"field {key!r} must be {kind.__name__}"
    if not data["turns"] or not all(isinstance(t, str) for t in data["turns"]):
        return "field 'turns' must be a non-empty list of strings"
    if data["id"] in seen:
        return f"duplicate id {data['id']!r}"
    return ""


def has_fact(answer: str, alternatives: list[str]) -> bool:
    """Whether one spelling of a fact appears in the answer (FORMAT.md normalisation)."""
    normalised = normalize_for_match(answer)
    return any(normalize_for_match(alt) in normalised for alt in alternatives)


def holds(passages: list[dict], gold: str) -> bool:
    """Whether some passage contains a gold clause piece."""
    piece = normalize_for_match(gold)
    return any(piece in normalize_for_match(p.get("text", "")) for p in passages)


def run_case(assistant, case: Case) -> dict:
    """Ask a case's turns in one new conversation; the last answer is the one judged."""
    conversation = Conversation()
    answer = None
    for turn in case.turns:
        answer = assistant.ask(turn, conversation)
    return {"id": case.id, **answer.record()}


def states_no_figure(answer: str) -> bool:
    """Whether an answer says plainly that its clauses state no figure ("所引条款未规定具体金额…")."""
    text = normalize_for_match(answer)
    return any(normalize_for_match(render(f"no_figure_{kind}")) in text for kind in ("amount", "rate"))


def judge(case: Case, result: dict) -> dict:
    """Per-case verdicts used by the scores (qa/FORMAT.md): an unanswerable question is answered right by a
    refusal that cites nothing, or by quoting the clause on its subject and saying it states no figure."""
    cited = result.get("citations", [])
    retrieved = result.get("retrieved", [])
    if case.answerable:
        refusal_ok = not result["refused"]
    else:
        refusal_ok = (result["refused"] and not cited) or (bool(cited) and states_no_figure(result.get("answer", "")))
    verdict = {"refusal_ok": refusal_ok}
    if case.answerable:
        facts = all(has_fact(result["answer"], alts) for alts in case.expected_facts)
        gold_cited = all(holds(cited, g) for g in case.gold_clauses)
        verdict.update(
            facts=facts, gold_cited=gold_cited, correct=facts and gold_cited and not result["refused"],
            **{f"hit@{k}": all(holds(retrieved[:k], g) for g in case.gold_clauses) for k in (1, 3, 5, 10)},
            cited=len(cited), cited_gold=sum(1 for c in cited if any(holds([c], g) for g in case.gold_clauses)),
        )
    return verdict


def score(cases: list[Case], verdicts: list[dict]) -> dict:
    """Overall and per-category scores."""

    def figures(pairs) -> dict:
        answerable = [v for c, v in pairs if c.answerable]
        cited = sum(v["cited"] for v in answerable)
        out = {
            "cases": len(pairs),
            "answerable": len(answerable),
            "refusal_accuracy": _ratio(sum(v["refusal_ok"] for _, v in pairs), len(pairs)),
            "unanswerable_refused": _ratio(sum(v["refusal_ok"] for c, v in pairs if not c.answerable),
                                           sum(1 for c, _ in pairs if not c.answerable)),
        }
        if answerable:
            out["answer_accuracy"] = _ratio(sum(v["correct"] for v in answerable), len(answerable))
            for k in (1, 3, 5, 10):
                out[f"hit@{k}"] = _ratio(sum(v[f"hit@{k}"] for v in answerable), len(answerable))
            out["citation_precision"] = _ratio(sum(v["cited_gold"] for v in answerable), cited)
            out["answerable_refused"] = _ratio(sum(not v["refusal_ok"] for v in answerable), len(answerable))
        return out

    pairs = list(zip(cases, verdicts, strict=True))
    categories = sorted({c.category for c in cases})
    return {"overall": figures(pairs), "by_category": {cat: figures([p for p in pairs if p[0].category == cat]) for cat in categories}}


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def evaluate(assistant, qa_path: Path, out_path: Path, progress: Callable[[int, int], None] | None = None,
             limit: int | None = None) -> dict:
    """Run a Q&A file (its first ``limit`` cases, if given), write the results file (one object per case, input
    order) and return the scores."""
    cases, errors = load_cases(qa_path)
    cases = cases[:limit] if limit else cases
    for error in errors:
        log.warning("%s: %s", qa_path, error)
    results, verdicts = [], []
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with out_path.open("w", encoding="utf-8") as handle:
        for index, case in enumerate(cases, 1):
            result = run_case(assistant, case)
            results.append(result)
            verdicts.append(judge(case, result))
            handle.write(json.dumps(result, ensure_ascii=False) + "\n")
            if progress:
                progress(index, len(cases))
    return {"scores": score(cases, verdicts), "cases": cases, "results": results, "verdicts": verdicts, "errors": errors}
