"""Fit the answer-or-not decision (assistant/rules/decision.json) on the public Q&A sets: `make fit`.

1. collect: every set is run through the chain on its own knowledge base (the seeds for the seed sets, the 599
   ncppolicies notices for the ncp sets, and the ncp questions asked of the seeds as questions that knowledge base
   does not answer); each answer records the features its decision was taken on (``assistant.decide``).
2. fit: a logistic regression (scikit-learn, deterministic) over those features, answerable → 1, unanswerable → 0;
   answerable cases whose gold clause is not among the top 5 are left out (no decision can make them right). Each
   set weighs alike. Leave-one-set-out cross-validation gives every set's figures from a model not fitted on it; the
   threshold is chosen on those out-of-fold probabilities; the final model is fitted on all sets.

    .venv/bin/python scripts/fit_decision.py --shared ../shared            # collect, then fit
    .venv/bin/python scripts/fit_decision.py --shared ../shared --fit-only # fit on the last collection
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FEATURES = ("support", "support_first", "unseen", "missing_first", "bm25_first", "dense_first", "agreed", "cover_top",
            "cover_best", "fused_margin", "log_terms", "log_clauses", "follow_up", "follows", "wants_kind", "kind_missing")
SEED_SETS = ("dev", "extended", "probe", "natural-dev", "colloquial", "situations")
MODEL = ROOT / "assistant" / "rules" / "decision.json"
# The smallest share of unanswerable questions refused that the threshold must keep (issue 15: ≥ 0.85).
MIN_UNANSWERABLE_REFUSED = 0.85


def ncp_dev_cases(beir: Path, out: Path) -> Path:
    """The ncppolicies dev questions as a Q&A set (the answer span is both the fact and the gold clause)."""
    from evaluation.bench import load_beir
    from evaluation.bench_answers import gold_span

    _, queries, _, answers = load_beir(beir, beir / "dev_ids.txt")
    with out.open("w", encoding="utf-8") as handle:
        for q in queries:
            if q["_id"] not in answers:
                continue
            span = gold_span(answers[q["_id"]]["answer"])
            handle.write(json.dumps({"id": q["_id"], "turns": [q["text"]], "answerable": True, "expected_facts": [[span]],
                                     "gold_clauses": [span], "category": "ncp-dev"}, ensure_ascii=False) + "\n")
    return out


def unanswerable(qa: Path, out: Path) -> Path:
    """A set's questions as questions the knowledge base does not answer (asked of another knowledge base)."""
    with out.open("w", encoding="utf-8") as handle:
        for line in qa.read_text(encoding="utf-8").splitlines():
            if line.strip():
                case = json.loads(line)
                case.update(answerable=False, expected_facts=[], gold_clauses=[], category="other-kb")
                handle.write(json.dumps(case, ensure_ascii=False) + "\n")
    return out


def collect(shared: Path, work: Path, only: set[str] | None = None) -> None:
    """Run every set (or the ``only`` ones) on its knowledge base; results (with each decision's features) in
    ``work/<set>.jsonl``."""
    from core.settings import load_settings
    from evaluation.knowledge_bases import build_knowledge_base
    from evaluation.runner import evaluate
    from index.build import build
    from index.embeddings import make_embedder
    from serve.factory import make_assistant

    settings = load_settings()
    embedder = make_embedder(settings)
    build(settings, embedder, progress=False)
    seeds = make_assistant(settings, embedder)
    work.mkdir(parents=True, exist_ok=True)
    ncp = None
    if only is None or any(name.startswith("ncp-") and "@" not in name for name in only):
        ncp_settings = build_knowledge_base(settings, [shared / "bench" / "ncppolicies"],
                                            Path(settings.data_dir) / "bench" / "ncppolicies", embedder)
        ncp = make_assistant(ncp_settings, embedder)
    runs = [(name, ROOT / "qa" / f"{name}.jsonl", seeds) for name in SEED_SETS]
    runs += [("train-seeds", shared / "qa" / "train-seeds.jsonl", seeds),
             ("ncp-natural-train", shared / "qa" / "ncp-natural-train.jsonl", ncp),
             ("ncp-dev", ncp_dev_cases(shared / "bench" / "ncppolicies", work / "ncp-dev.cases.jsonl"), ncp),
             ("ncp-natural-train@seeds",
              unanswerable(shared / "qa" / "ncp-natural-train.jsonl", work / "ncp-natural-train@seeds.cases.jsonl"), seeds)]
    for name, qa, assistant in runs:
        if only is not None and name not in only:
            continue
        run = evaluate(assistant, qa, work / f"{name}.jsonl")
        overall = run["scores"]["overall"]
        print(f"{name:<26} {overall['cases']:>4} cases  accuracy {overall.get('answer_accuracy')}  "
              f"unanswerable refused {overall.get('unanswerable_refused')}", flush=True)
        (work / f"{name}.cases").write_text(str(qa), encoding="utf-8")


def rows(work: Path) -> list[dict]:
    """One row per case whose last turn was decided by the model: its set, features, label and hit@5."""
    from evaluation.runner import judge, load_cases

    out = []
    for marker in sorted(work.glob("*.cases")):
        name = marker.stem
        cases, _ = load_cases(Path(marker.read_text(encoding="utf-8")))
        results = [json.loads(line) for line in (work / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]
        for case, result in zip(cases, results, strict=True):
            decision = result.get("decision")
            if not decision:
                continue  # declined by a rule before retrieval (place, guard, status)
            verdict = judge(case, result)
            out.append({"set": name, "id": case.id, "category": case.category, "label": int(case.answerable),
                        "hit5": bool(verdict.get("hit@5", True)), "x": [decision["features"][f] for f in FEATURES]})
    return out


def fit_model(train: list[dict]):
    """A standardised logistic regression; each set weighs alike, and the two classes alike."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    x = np.array([r["x"] for r in train], dtype=float)
    y = np.array([r["label"] for r in train])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-6] = 1.0  # a feature constant over the data (one knowledge base) weighs nothing
    sizes: dict[tuple[str, int], int] = {}
    for r in train:
        sizes[(r["set"], r["label"])] = sizes.get((r["set"], r["label"]), 0) + 1
    sets = {c: len({s for s, lab in sizes if lab == c}) for c in (0, 1)}
    # Each set's share of its class is equal; the classes weigh alike.
    weight = np.array([1.0 / (sets[r["label"]] * sizes[(r["set"], r["label"])]) for r in train])
    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit((x - mean) / scale, y, sample_weight=weight / weight.mean())
    return model, mean, scale


def predict(fitted, data: list[dict]):
    import numpy as np

    model, mean, scale = fitted
    x = np.array([r["x"] for r in data], dtype=float)
    return model.predict_proba((x - mean) / scale)[:, 1]


def figures(data: list[dict], p, threshold: float) -> dict:
    """Answerable answered (of those retrieved in the top 5) and unanswerable refused, at a threshold."""
    answerable = [q >= threshold for r, q in zip(data, p, strict=True) if r["label"] and r["hit5"]]
    refused = [q < threshold for r, q in zip(data, p, strict=True) if not r["label"]]
    return {"answerable": len(answerable), "answered": sum(answerable) / len(answerable) if answerable else None,
            "unanswerable": len(refused), "refused": sum(refused) / len(refused) if refused else None}


def choose_threshold(data: list[dict], p) -> float:
    """The threshold that answers most answerable questions (each set alike) while the unanswerable ones of all
    sets together are refused at least MIN_UNANSWERABLE_REFUSED; the best balance when none does."""
    names = sorted({r["set"] for r in data})
    best, best_score = 0.5, -1.0
    for step in range(5, 96):
        t = step / 100
        by_set = [figures([r for r in data if r["set"] == n], [q for r, q in zip(data, p, strict=True) if r["set"] == n], t)
                  for n in names]
        answered = [f["answered"] for f in by_set if f["answered"] is not None]
        whole = figures(data, p, t)
        score = sum(answered) / len(answered) + (whole["refused"] >= MIN_UNANSWERABLE_REFUSED) + 0.5 * whole["refused"]
        if score > best_score:
            best, best_score = t, score
    return best


def fit(work: Path, model_path: Path) -> None:
    data = [r for r in rows(work) if r["hit5"] or not r["label"]]
    names = sorted({r["set"] for r in data})
    oof = [0.0] * len(data)
    for name in names:
        held = [i for i, r in enumerate(data) if r["set"] == name]
        fitted = fit_model([r for r in data if r["set"] != name])
        for i, q in zip(held, predict(fitted, [data[i] for i in held]), strict=True):
            oof[i] = float(q)
    threshold = choose_threshold(data, oof)
    fitted = fit_model(data)
    model, mean, scale = fitted
    in_sample = predict(fitted, data)
    report = {}
    print(f"threshold {threshold:.2f} (chosen on leave-one-set-out probabilities)")
    print(f"{'set':<26}{'answerable':>11}{'answered cv':>12}{'fit':>7}{'unanswerable':>14}{'refused cv':>11}{'fit':>7}")
    for name in [*names, "all"]:
        idx = [i for i, r in enumerate(data) if name in ("all", r["set"])]
        sub = [data[i] for i in idx]
        cv = figures(sub, [oof[i] for i in idx], threshold)
        ins = figures(sub, [in_sample[i] for i in idx], threshold)
        report[name] = {"cv": cv, "fit": ins}

        def pct(v):
            return "—" if v is None else f"{v:.2f}"
        print(f"{name:<26}{cv['answerable']:>11}{pct(cv['answered']):>12}{pct(ins['answered']):>7}"
              f"{cv['unanswerable']:>14}{pct(cv['refused']):>11}{pct(ins['refused']):>7}")
    weights = dict(zip(FEATURES, (round(float(c), 4) for c in model.coef_[0]), strict=True))
    print("weights (standardised features):", json.dumps(weights, ensure_ascii=False))
    model_path.write_text(json.dumps({
        "features": list(FEATURES), "mean": [round(float(v), 6) for v in mean],
        "scale": [round(float(v), 6) for v in scale], "coef": [round(float(c), 6) for c in model.coef_[0]],
        "intercept": round(float(model.intercept_[0]), 6), "threshold": threshold,
        "fitted_on": {n: sum(1 for r in data if r["set"] == n) for n in names},
        "cross_validated": report,
        "made_by": "scripts/fit_decision.py (make fit)",
    }, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"model → {model_path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"), help="the folder with qa/ and bench/")
    parser.add_argument("--work", default=str(ROOT / "data" / "fit"), help="where the collected runs go")
    parser.add_argument("--fit-only", action="store_true", help="fit on the runs collected last time")
    parser.add_argument("--model", default=str(MODEL))
    parser.add_argument("--sets", help="collect only these sets (comma-separated names), keep the others' last runs")
    args = parser.parse_args()
    if not args.fit_only:
        collect(Path(args.shared), Path(args.work), set(args.sets.split(",")) if args.sets else None)
    fit(Path(args.work), Path(args.model))
    return 0


if __name__ == "__main__":
    sys.exit(main())
