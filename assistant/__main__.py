"""``python -m assistant ask | chat | eval | bench-retrieval | bench-answers``: the assistant's command line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assistant.generators import LLM_GENERATORS
from core.errors import PolicyQAError
from core.settings import Settings, load_settings
from core.types import STATUS_LABELS


def _ask(settings: Settings, args) -> int:
    from serve.factory import make_assistant

    statuses = tuple(args.status) if args.status else None
    doc_ids = tuple(args.doc) if args.doc else None
    answer = make_assistant(settings).ask(args.question, region=args.region, doc_ids=doc_ids, statuses=statuses)
    if args.json:
        print(json.dumps({"id": None, **answer.record(), **answer.fields()}, ensure_ascii=False, indent=2))
    else:
        print(answer.text)
    return 0


def _chat(settings: Settings, args) -> int:
    from assistant.conversation import Conversation
    from serve.factory import make_assistant

    assistant = make_assistant(settings)
    conversation = Conversation()
    print("政策在线答疑（输入问题；“新对话”重新开始；Ctrl-D 退出）")
    while True:
        try:
            question = input("\n问：")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if question.strip() in ("新对话", "/new"):
            conversation = Conversation()
            print("（已开始新对话）")
            continue
        if settings.generator in LLM_GENERATORS:  # the LLM's words as they come, then the checked answer
            from assistant.generators.llm import streaming_to

            print("（生成中）", end="", flush=True)
            with streaming_to(lambda token: print(token, end="", flush=True)):
                answer = assistant.ask(question, conversation)
            print("\n（已核对）")
        else:
            answer = assistant.ask(question, conversation)
        print("答：" + answer.text)


def _eval(settings: Settings, args) -> int:
    from evaluation.report import write_report
    from evaluation.runner import evaluate
    from serve.factory import make_assistant

    qa = Path(args.qa)
    if not qa.exists():
        print(f"error: no such Q&A file: {qa}", file=sys.stderr)
        return 2
    if args.generator:
        settings = settings.model_copy(update={"generator": args.generator})
    embedder = None
    if args.corpus:
        from evaluation.knowledge_bases import build_knowledge_base, default_home
        from index.embeddings import make_embedder

        sources = [Path(c) for c in args.corpus]
        home = Path(args.home) if args.home else default_home(settings, sources)
        embedder = make_embedder(settings)
        settings = build_knowledge_base(settings, sources, home, embedder)
    run = evaluate(make_assistant(settings, embedder), qa, Path(args.out), limit=args.limit)
    for error in run["errors"]:
        print(f"skipped {qa}: {error}", file=sys.stderr)
    _print_scores(run)
    print(f"results → {args.out}")
    if settings.generator != "extractive":
        _compare_with_extractive(settings, qa, Path(args.out), run, args.limit)
    if args.report:
        write_report(run, Path(args.report), f"Evaluation of {qa.name}")
        print(f"report → {args.report}")
    return 0


def _print_scores(run: dict) -> None:
    overall = run["scores"]["overall"]
    print(f"{'category':<16}{'cases':>6}{'accuracy':>10}{'hit@5':>8}{'cite-prec':>10}{'refusal':>9}")
    for name, figures in [("overall", overall), *run["scores"]["by_category"].items()]:
        def pct(key, figures=figures):
            value = figures.get(key)
            return "—" if value is None else f"{value:.0%}"
        print(f"{name:<16}{figures['cases']:>6}{pct('answer_accuracy'):>10}{pct('hit@5'):>8}"
              f"{pct('citation_precision'):>10}{pct('refusal_accuracy'):>9}")


def _compare_with_extractive(settings: Settings, qa: Path, out: Path, run: dict, limit: int | None) -> None:
    """The same cases answered by the extractive generator, its accuracy beside the LLM's, and the audit of the
    LLM's finished answers (unknown citations, unsupported figures; how often the guard stepped in)."""
    from evaluation.guard_audit import audit
    from evaluation.runner import evaluate
    from serve.factory import make_assistant

    baseline_out = out.with_name(out.stem + ".extractive.jsonl")
    baseline = evaluate(make_assistant(settings.model_copy(update={"generator": "extractive"})), qa, baseline_out,
                        limit=limit)
    llm, extractive = run["scores"]["overall"], baseline["scores"]["overall"]

    def pct(figures, key):
        value = figures.get(key)
        return "—" if value is None else f"{value:.0%}"

    print(f"accuracy: {settings.generator} {pct(llm, 'answer_accuracy')} | extractive {pct(extractive, 'answer_accuracy')}"
          f" (same {llm['cases']} cases); refusal: {pct(llm, 'refusal_accuracy')} | {pct(extractive, 'refusal_accuracy')}")
    checked = audit(run["results"])
    print(f"guard: {checked.llm_checked} answers checked, {checked.regenerated} regenerated, {checked.fallback} fell back "
          f"({checked.errors} model errors); after the guard: {checked.unknown_citations} with an unknown citation, "
          f"{checked.unsupported_numbers} with an unsupported figure, of {checked.answers} answers")
    for example in checked.examples:
        print(f"  {example}")


def _bench(settings: Settings, args) -> int:
    from evaluation.bench import run_bench

    return run_bench(settings, Path(args.beir), Path(args.ids) if args.ids else None, Path(args.out), args.limit)


def _bench_answers(settings: Settings, args) -> int:
    from evaluation.bench_answers import run_answer_bench

    return run_answer_bench(settings, Path(args.beir), Path(args.ids) if args.ids else None, Path(args.out), args.limit,
                            home=Path(args.data_dir) if args.data_dir else None)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m assistant", description="Ask the policy Q&A assistant.")
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the per-case object of qa/FORMAT.md and the answer's parts")
    ask.add_argument("--region", help="only documents of this region (e.g. 吉林省)")
    ask.add_argument("--doc", action="append", help="only this document id (repeatable; see python -m index list)")
    ask.add_argument("--status", action="append", choices=list(STATUS_LABELS),
                     help="only documents with this status (repeatable)")
    sub.add_parser("chat", help="a conversation in the terminal")
    ev = sub.add_parser("eval", help="run a Q&A set (qa/FORMAT.md) and score it")
    ev.add_argument("--qa", required=True)
    ev.add_argument("--out", required=True)
    ev.add_argument("--report", help="also write an HTML report here")
    ev.add_argument("--generator", help="answer generator for this run (default: POLICYQA_GENERATOR); an LLM one is "
                                        "compared with the extractive one on the same cases")
    ev.add_argument("--limit", type=int, help="only the first N cases (a subset, for slow generators)")
    ev.add_argument("--corpus", action="append", help="evaluate on a knowledge base of these documents instead of the "
                    "product's index: a folder of documents or a BEIR folder (repeatable; e.g. --corpus corpus "
                    "--corpus ../shared/extra-corpus), built in a data directory of its own")
    ev.add_argument("--home", help="where that knowledge base's corpus copy and data live (default: <data dir>/kb/…)")
    bench = sub.add_parser("bench-retrieval", help="chunk-level retrieval benchmark on a BEIR folder")
    bench.add_argument("--beir", required=True, help="folder with corpus.jsonl, queries.jsonl, qrels/test.tsv")
    bench.add_argument("--ids", help="file of query ids to run (e.g. dev_ids.txt)")
    bench.add_argument("--out", required=True, help="per-query hits, JSON lines")
    bench.add_argument("--limit", type=int, help="only the first N queries (smoke runs)")
    answers = sub.add_parser("bench-answers", help="end-to-end answering benchmark on a BEIR folder with answer spans")
    answers.add_argument("--beir", required=True, help="folder with corpus.jsonl, queries.jsonl, qrels/test.tsv, answers.jsonl")
    answers.add_argument("--ids", help="file of query ids to run (e.g. dev_ids.txt)")
    answers.add_argument("--out", required=True, help="per-question results, JSON lines")
    answers.add_argument("--data-dir", help="where the benchmark's corpus copy and its own data directory live "
                                            "(default: <data dir>/bench/<folder name>, shared with bench-retrieval)")
    answers.add_argument("--limit", type=int, help="only the first N questions (smoke runs)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    handlers = {"ask": _ask, "chat": _chat, "eval": _eval, "bench-retrieval": _bench, "bench-answers": _bench_answers}
    try:
        settings = load_settings()
        return handlers[args.command](settings, args)
    except PolicyQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
