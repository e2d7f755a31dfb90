"""End-to-end answering benchmark on a BEIR folder with answer spans (ncppolicies/README.md).

The benchmark's documents become the product's own corpus, in a data directory of their own (the same one
``bench-retrieval`` uses, so the vectors are embedded once), and every question goes through the whole chain,
``Assistant.ask``, in a new conversation, exactly as a user would ask it. An answer is right when its text holds
the gold span and it cites a passage holding it. The benchmark's hybrid retrieval runs on the
same questions beside it, so what the chain loses between retrieval and answer shows as a difference.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from assistant.chain import Assistant
from assistant.retrieval.knowledge import KnowledgeBase
from core.textnorm import normalize_for_match
from evaluation.bench import QueryCache, index_beir, load_beir
from index.build import open_index

log = logging.getLogger(__name__)
# Why a question was not answered right, in the order they are decided.
FAILURES = {
    "refused": "refused",
    "not_in_top5": "answer span not in the top-5 evidence",
    "not_in_answer": "in the evidence, not in the answer text",
    "wrong_citation": "in the answer, no cited passage holds it",
}
LONG_SPAN, SPAN_PREFIX = 60, 30
_CLOSING = "。．.，,、；;：:！!？?…"
_MARKER = re.compile(r"\[\d+\]")


def gold_span(answer: str) -> str:
    """The piece of a gold answer that must appear: the whole answer, or its first 30 characters when it is over
    60; closing punctuation dropped (the generator ends every quoted sentence its own way); FORMAT.md-normalised."""
    piece = answer.strip()
    if len(piece) > LONG_SPAN:
        piece = piece[:SPAN_PREFIX]
    return normalize_for_match(piece.rstrip(_CLOSING + " \n"))


def text_holds(text: str, span: str) -> bool:
    """Whether a text (an answer or a passage) holds a normalised span; citation markers are not words of it."""
    return bool(span) and span in normalize_for_match(_MARKER.sub("", text))


def passage_holds(passage: dict, span: str, gold_docs: set[str]) -> bool:
    """The protocol's relevance: a passage of a gold document that holds the span."""
    return passage.get("doc_id") in gold_docs and text_holds(passage.get("text", ""), span)


def first_hit(passages: list[dict], span: str, gold_docs: set[str]) -> int | None:
    """Rank (1-based) of the first relevant passage, or None."""
    return next((rank for rank, p in enumerate(passages, 1) if passage_holds(p, span, gold_docs)), None)


@dataclass(frozen=True)
class Verdict:
    """How one question went: right or not, where the gold span was found, and why it failed."""

    correct: bool
    hit_at_1: bool
    hit_at_5: bool
    hybrid_hit_at_5: bool
    refused: bool
    failure: str = ""  # a key of FAILURES, empty when correct
    cites_gold: bool = False  # right, and a cited passage holding the span is of a gold document


def judge(record: dict, span: str, gold_docs: set[str], hybrid_rank: int | None = None) -> Verdict:
    """Score one answer record (``Answer.record()``): right when not refused, its text holds the span and one
    of its citations holds it; otherwise the first failure that applies. Hit rates follow the retrieval
    protocol (a passage of a gold document holding the span)."""
    rank = first_hit(record.get("retrieved", []), span, gold_docs)
    in_answer = not record["refused"] and text_holds(record["answer"], span)
    # Any passage holding the span counts as a right citation: the corpus has near-copies of notices (a news
    # report quoting the notice) that the qrels do not list. ``cites_gold`` says whether one was a gold document.
    cited = [c for c in record.get("citations", []) if text_holds(c.get("text", ""), span)]
    correct = in_answer and bool(cited)
    failure = ""
    if not correct:
        if record["refused"]:
            failure = "refused"
        elif rank is None or rank > 5:
            failure = "not_in_top5"
        elif not in_answer:
            failure = "not_in_answer"
        else:
            failure = "wrong_citation"
    return Verdict(correct, rank == 1, rank is not None and rank <= 5,
                   hybrid_rank is not None and hybrid_rank <= 5, record["refused"], failure,
                   correct and any(c.get("doc_id") in gold_docs for c in cited))


def summarise(verdicts: list[Verdict], reasons: list[str]) -> dict:
    """Figures over a set of questions: accuracy, hit rates, refusals and the split of failures."""
    n = len(verdicts)

    def share(count: int, total: int = n) -> float | None:
        return round(count / total, 4) if total else None

    answered = [v for v in verdicts if not v.refused]
    failures = Counter(v.failure for v in verdicts if v.failure)
    return {
        "questions": n,
        "accuracy": share(sum(v.correct for v in verdicts)),
        "accuracy_when_answered": share(sum(v.correct for v in answered), len(answered)),
        "accuracy_gold_cited": share(sum(v.cites_gold for v in verdicts)),
        "hit@1": share(sum(v.hit_at_1 for v in verdicts)),
        "hit@5": share(sum(v.hit_at_5 for v in verdicts)),
        "refusal_rate": share(len(verdicts) - len(answered)),
        "hybrid_hit@5": share(sum(v.hybrid_hit_at_5 for v in verdicts)),
        "failures": {key: failures.get(key, 0) for key in FAILURES},
        "refusal_reasons": dict(Counter(r for v, r in zip(verdicts, reasons, strict=True) if v.refused).most_common()),
    }


def print_table(groups: dict[str, dict]) -> None:
    """The figures side by side, one column a group of questions."""
    names = list(groups)
    print(f"\n{'':<44}" + "".join(f"{name:>12}" for name in names))

    def row(label: str, values) -> None:
        print(f"{label:<44}" + "".join(f"{value:>12}" for value in values))

    def fig(value) -> str:
        return "—" if value is None else f"{value:.3f}"

    row("questions", [groups[g]["questions"] for g in names])
    for key, label in (("accuracy", "answer accuracy"), ("accuracy_when_answered", "accuracy when answered"),
                       ("accuracy_gold_cited", "accuracy citing a gold document"),
                       ("hit@1", "chain hit@1"), ("hit@5", "chain hit@5"), ("refusal_rate", "refusal rate"),
                       ("hybrid_hit@5", "benchmark hybrid hit@5 (same questions)")):
        row(label, [fig(groups[g][key]) for g in names])
    print("failures")
    for key, label in FAILURES.items():
        row(f"  {label}", [groups[g]["failures"][key] for g in names])
    reasons = dict.fromkeys(r for g in names for r in groups[g]["refusal_reasons"])
    for reason in reasons:
        row(f"    refused: {reason}", [groups[g]["refusal_reasons"].get(reason, 0) for g in names])


def run_answer_bench(settings, beir: Path, ids_file: Path | None, out: Path, limit: int | None = None,
                     home: Path | None = None, embedder=None) -> int:
    """Index the benchmark corpus (cached), ask every question through the chain, score, print and write."""
    corpus, queries, qrels, answers = load_beir(beir, ids_file)
    queries = [q for q in queries if q["_id"] in answers]
    if limit:
        queries = queries[:limit]
    home = home or Path(settings.data_dir) / "bench" / beir.name
    bench_settings, embedder = index_beir(settings, corpus, home, embedder)
    store = open_index(bench_settings)
    cache = store.cache()
    knowledge = KnowledgeBase(store, QueryCache(embedder, cache), bench_settings.current_date)
    assistant = Assistant(knowledge, bench_settings)
    verdicts: list[Verdict] = []
    reasons: list[str] = []
    sme: list[bool] = []
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        with out.open("w", encoding="utf-8") as handle:
            for query in queries:
                gold = answers[query["_id"]]
                gold_docs = qrels.get(query["_id"], set()) | {gold["docid"]}
                span = gold_span(gold["answer"])
                answer = assistant.ask(query["text"])
                record, reason = answer.record(), answer.reason
                hybrid = [{"doc_id": e.clause.doc.doc_id, "text": e.clause.text} for e in knowledge.search(query["text"], 5)]
                verdict = judge(record, span, gold_docs, first_hit(hybrid, span, gold_docs))
                verdicts.append(verdict)
                reasons.append(reason)
                sme.append(bool(gold.get("gold_doc_mentions_sme")))
                handle.write(json.dumps({
                    "query_id": query["_id"], "question": query["text"],
                    "gold": {"answer": gold["answer"], "span": span, "doc_ids": sorted(gold_docs)},
                    "sme": sme[-1], "answer": record["answer"], "refused": record["refused"], "reason": reason,
                    "citations": record["citations"], "retrieved": record["retrieved"][:5],
                    "verdict": asdict(verdict), "latency_ms": record["latency_ms"],
                }, ensure_ascii=False) + "\n")
    finally:
        cache.close()
    print(f"{len(queries)} questions through the chain in {time.perf_counter() - started:.1f} s; results → {out}")
    groups = {
        "all": summarise(verdicts, reasons),
        "sme": summarise([v for v, s in zip(verdicts, sme, strict=True) if s], [r for r, s in zip(reasons, sme, strict=True) if s]),
    }
    print_table(groups)
    return 0


__all__ = ["FAILURES", "Verdict", "first_hit", "gold_span", "judge", "passage_holds", "run_answer_bench", "summarise", "text_holds"]
