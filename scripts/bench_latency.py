"""Latency of `ask` over a Q&A set with the index warm: p50/p95 of the judged turn, against the retrieval
alone (BM25 only, then the hybrid) measured in the same run. Prints figures; asserts nothing about time."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.conversation import Conversation
from assistant.retrieval.knowledge import BM25_ONLY
from core.settings import Settings
from evaluation.runner import load_cases
from evaluation.stats import percentile
from serve.factory import make_assistant


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--qa", default="qa/dev.jsonl")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--corpus", action="append", help="on a knowledge base of these documents (folders or a BEIR "
                        "folder, repeatable; built in a data directory of its own), not the product's index")
    parser.add_argument("--goal-ms", type=float, default=300, help="the p95 the whole chain should stay under")
    args = parser.parse_args()
    settings = Settings()
    embedder = None
    if args.corpus:
        from evaluation.knowledge_bases import build_knowledge_base, default_home
        from index.embeddings import make_embedder

        sources = [Path(c) for c in args.corpus]
        embedder = make_embedder(settings)
        settings = build_knowledge_base(settings, sources, default_home(settings, sources), embedder)
    assistant = make_assistant(settings, embedder)
    cases, _ = load_cases(Path(args.qa))
    assistant.ask("预热：吉林省专利保险费补助", Conversation())  # load models and indexes once
    asks, hybrid, bm25 = [], [], []
    for _ in range(args.rounds):
        for case in cases:
            conversation = Conversation()
            for turn in case.turns[:-1]:
                assistant.ask(turn, conversation)
            assistant.kb.forget_query_vectors()  # every round embeds its questions, as a new user's would be
            started = time.perf_counter()
            assistant.ask(case.turns[-1], conversation)
            asks.append((time.perf_counter() - started) * 1000)
            assistant.kb.forget_query_vectors()
            started = time.perf_counter()
            assistant.kb.search(case.turns[-1], 8)
            hybrid.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            assistant.kb.search(case.turns[-1], 8, config=BM25_ONLY)
            bm25.append((time.perf_counter() - started) * 1000)
    print(f"{len(asks)} asks ({len(cases)} cases × {args.rounds} rounds), index warm")
    for name, values in (("ask (whole chain)", asks), ("hybrid retrieval", hybrid), ("BM25 retrieval", bm25)):
        print(f"{name:<20} p50 {statistics.median(values):7.1f} ms   p95 {percentile(values, 0.95):7.1f} ms"
              f"   max {max(values):7.1f} ms")
    print(f"ratio ask/BM25 at p50: {statistics.median(asks) / statistics.median(bm25):.1f}×;"
          f" goal p95 ≤ {args.goal_ms:.0f} ms: {'met' if percentile(asks, 0.95) <= args.goal_ms else 'not met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
