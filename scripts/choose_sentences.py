"""Choose the extractive generator's sentence choice on the public Q&A sets (assistant/rules/sentences.json):
`make fit-sentences`.

Two weights decide what the generator quotes (``assistant.generators.extractive``):
- ``rank_prior``, which clause: a sentence's score is its fit to the question plus ``rank_prior`` times its
  clause's retrieval score. A low prior follows the sentence that shares most words with the question (often a
  news lead restating it), a high one stays in the first-ranked clause.
- ``keep_ratio``, which sentences of that clause: the best one and those fitting at least ``keep_ratio`` as well;
- ``keep_ratio_open``, the same for the sentences after the best one when the question asks for no kind of answer
  (an amount, a date, a phone number…): "采取了哪些措施?" is answered by what follows a lead restating it.

One weight at a time (``--parameter``; the other at its committed value), every value of the grid is run through
the whole chain on every public set, each on its own knowledge base (as ``scripts/fit_decision.py`` collects them,
at the committed decision threshold):

- fitted on: the seed sets, train-seeds, ncp-natural-train and the 631 ncppolicies dev questions;
- held out, only reported: qa/laws-colloquial and qa/ncp-colloquial (documents no fitted set asks about).

The chosen value has the best mean accuracy over the fitted sets (each set weighs alike; a set's accuracy counts
its unanswerable questions handled right as well as its answerable ones answered right) among the values that
keep the unanswerable questions of the fitted sets refused at least MIN_UNANSWERABLE_REFUSED (issue 15); of
values within one ncp dev question of it, the one with the shortest answers. The table of every value and set is
written beside the choice. `make fit-sentences` chooses keep_ratio_open, keep_ratio, then rank_prior, each at the
values chosen before it. Run it before `make fit`: the decision is fitted on the answers the generator gives.

    .venv/bin/python scripts/choose_sentences.py --shared ../shared                           # rank_prior
    .venv/bin/python scripts/choose_sentences.py --shared ../shared --parameter keep_ratio_open
    .venv/bin/python scripts/choose_sentences.py --shared ../shared --parameter keep_ratio
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.fit_decision import MIN_UNANSWERABLE_REFUSED, SEED_SETS, assistants_on, ncp_dev_cases  # noqa: E402

# keep_ratio starts at 0.3: at 0.2 (two ncp dev questions more) a clause's sentence before the best one that shares
# only the question's generic words is quoted — "达到考核目标的区县最高奖励多少?" opens on the 独角兽 award (the page
# and fault tests caught it) — and the judges, which count what an answer holds, cannot see a quote on another
# subject. keep_ratio_open may go lower: it only reaches the sentences after the best one.
GRIDS = {"rank_prior": (0.5, 1.0, 1.75, 2.5, 4.0, 6.0, 10.0), "keep_ratio_open": (0.05, 0.1, 0.15, 0.2, 0.3),
         "keep_ratio": (0.3, 0.45, 0.6)}
OUT = ROOT / "assistant" / "rules" / "sentences.json"
HELD_OUT = ("laws-colloquial", "ncp-colloquial")
_SOURCES = re.compile(r"\n[来來]源：")  # where an answer's list of sources begins (types.Answer.text)


def runs(shared: Path, work: Path) -> list[tuple[str, Path, str]]:
    """(set, Q&A file, knowledge base) for every set: fitted ones first, then the held-out ones."""
    ncp = shared / "bench" / "ncppolicies"
    return [*((name, ROOT / "qa" / f"{name}.jsonl", "seeds") for name in SEED_SETS),
            ("train-seeds", shared / "qa" / "train-seeds.jsonl", "seeds"),
            ("ncp-natural-train", shared / "qa" / "ncp-natural-train.jsonl", "ncp"),
            ("ncp-dev", ncp_dev_cases(ncp, work / "ncp-dev.cases.jsonl"), "ncp"),
            ("laws-colloquial", ROOT / "qa" / "laws-colloquial.jsonl", "laws"),
            ("ncp-colloquial", ROOT / "qa" / "ncp-colloquial.jsonl", "ncp")]


def body_chars(answer: str) -> int:
    """The length of an answer without its list of sources: what the asker reads."""
    return len(_SOURCES.split(answer)[0].strip())


def measure(shared: Path, work: Path, parameter: str, grid: tuple[float, ...]) -> dict[float, dict[str, dict]]:
    """Every set's figures at every value of the parameter: {value: {set: {"cases" (answerable), "right",
    "unanswerable", "unanswerable_refused"}}}. Each knowledge base is opened once; the generator's weight is set
    per value."""
    from core.settings import load_settings
    from evaluation.runner import evaluate

    on = assistants_on(load_settings(), shared)
    table: dict[float, dict[str, dict]] = {}
    work.mkdir(parents=True, exist_ok=True)
    for value in grid:
        table[value] = {}
        for name, qa, kb in runs(shared, work):
            assistant = on(kb)
            setattr(assistant.refresh(), parameter, value)  # the snapshot's generator, which every question uses
            run = evaluate(assistant, qa, work / f"{name}-{parameter}-{value}.jsonl")
            verdicts = [(case.answerable, v) for case, v in zip(run["cases"], run["verdicts"], strict=True)]
            unanswerable = [v["refusal_ok"] for answerable, v in verdicts if not answerable]
            answered = [body_chars(result["answer"]) for result in run["results"] if not result["refused"]]
            table[value][name] = {"cases": sum(answerable for answerable, _ in verdicts),
                                  "right": sum(v["correct"] for answerable, v in verdicts if answerable),
                                  "unanswerable": len(unanswerable), "unanswerable_refused": sum(unanswerable),
                                  "answered": len(answered), "answer_chars": sum(answered)}
            row = table[value][name]
            print(f"{parameter} {value:<5} {name:<20} {row['right']:>4}/{row['cases']:<4} right  "
                  f"unanswerable refused {row['unanswerable_refused']}/{row['unanswerable']}", flush=True)
    return table


def choose(table: dict[float, dict[str, dict]]) -> float:
    """The value with the best mean accuracy over the fitted sets that keeps their unanswerable questions refused;
    of values within one ncp dev question of it, the one whose answers are shortest (mean characters before the
    sources over the fitted sets' answers): a quote that only holds an answer span because it is longer has not
    answered better, and the asker reads every character. A set's accuracy counts its unanswerable questions
    too (refused, or answered saying the clause states no figure): a value that answers one more notice question
    but also "国家级的呢?" from the clause on provincial incubators just quoted has gained nothing."""
    def fitted(row: dict) -> dict:
        return {name: figures for name, figures in row.items() if name not in HELD_OUT}

    def mean_accuracy(value: float) -> float:
        sets = fitted(table[value]).values()
        return sum((f["right"] + f["unanswerable_refused"]) / (f["cases"] + f["unanswerable"]) for f in sets) / len(sets)

    def refuses_enough(value: float) -> bool:
        sets = fitted(table[value]).values()
        total = sum(f["unanswerable"] for f in sets)
        return total == 0 or sum(f["unanswerable_refused"] for f in sets) / total >= MIN_UNANSWERABLE_REFUSED

    def answer_length(value: float) -> float:
        sets = fitted(table[value]).values()
        return sum(f["answer_chars"] for f in sets) / max(sum(f["answered"] for f in sets), 1)

    allowed = [v for v in sorted(table) if refuses_enough(v)] or sorted(table)
    best = max(mean_accuracy(v) for v in allowed)
    one_case = 1 / max(table[allowed[0]].get("ncp-dev", {"cases": 1})["cases"], 1) / len(fitted(table[allowed[0]]))
    return min((v for v in allowed if mean_accuracy(v) >= best - one_case - 1e-12), key=lambda v: (answer_length(v), v))


def print_table(table: dict[float, dict[str, dict]]) -> None:
    names = list(next(iter(table.values())))
    print(f"{'set':<22}" + "".join(f"{v:>10}" for v in table))
    for name in names:
        held = " (held out)" if name in HELD_OUT else ""
        print(f"{name + held:<22}" + "".join(f"{table[v][name]['right'] / table[v][name]['cases']:>10.3f}" for v in table))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"), help="the folder with qa/ and bench/")
    parser.add_argument("--work", default=str(ROOT / "data" / "fit-sentences"), help="where the runs go")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--parameter", choices=list(GRIDS), default="rank_prior")
    parser.add_argument("--grid", help="comma-separated values (default: the parameter's GRIDS)")
    parser.add_argument("--extend", action="store_true",
                        help="measure only --grid's values and choose among them and those already in --out's table")
    parser.add_argument("--choose-only", action="store_true", help="measure nothing: choose again on --out's table")
    args = parser.parse_args()
    out = Path(args.out)
    grid = tuple(float(v) for v in args.grid.split(",")) if args.grid else GRIDS[args.parameter]
    data = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    table = {}
    if args.extend:
        table = {float(v): rows for v, rows in data["tables"][args.parameter].items()}
    if args.choose_only:
        table = {float(v): rows for v, rows in data["tables"][args.parameter].items()}
    else:
        table |= measure(Path(args.shared), Path(args.work), args.parameter, grid)
    table = dict(sorted(table.items()))
    print_table(table)
    value = choose(table)
    print(f"{args.parameter} {value} → {out}")
    data.update({args.parameter: value, "chosen_by": "scripts/choose_sentences.py", "held_out": list(HELD_OUT)})
    data.setdefault("tables", {})[args.parameter] = {str(v): rows for v, rows in table.items()}
    out.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
