"""Concurrency of answering on the real index: questions answered per second with 1, 2 and 4 conversations
asking at once (threads calling Assistant.ask on the Q&A set's conversations), the same with every question
behind one lock (as the page answered before), and the latency of a question asked while a forced re-index
(build + reload) runs, next to the same question without one. Figures are ratios against this run's
single-thread baseline; nothing about time is asserted."""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.conversation import Conversation
from core.settings import Settings
from evaluation.runner import Case, load_cases
from index.build import build
from serve.factory import make_assistant


def converse(assistant, case: Case, lock: threading.Lock | None) -> int:
    """Ask a case's turns in one conversation; returns how many questions were asked."""
    conversation = Conversation()
    for turn in case.turns:
        if lock is None:
            assistant.ask(turn, conversation)
        else:
            with lock:
                assistant.ask(turn, conversation)
    return len(case.turns)


def throughput(assistant, cases: list[Case], rounds: int, threads: int, lock: threading.Lock | None = None) -> float:
    """Questions answered per second with ``threads`` conversations asking at once."""
    work: queue.Queue[Case] = queue.Queue()
    for _ in range(rounds):
        for case in cases:
            work.put(case)
    asked = [0] * threads

    def worker(slot: int) -> None:
        while True:
            try:
                case = work.get_nowait()
            except queue.Empty:
                return
            asked[slot] += converse(assistant, case, lock)

    pool = [threading.Thread(target=worker, args=(slot,)) for slot in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return sum(asked) / (time.perf_counter() - started)


def latency_ms(assistant, question: str) -> float:
    started = time.perf_counter()
    assistant.ask(question, Conversation())
    return (time.perf_counter() - started) * 1000


def during_reindex(assistant, settings, questions: list[str]) -> tuple[list[float], list[float], int, list[float]]:
    """Each question asked alone, then again while a forced re-index runs: (baseline ms, during ms, generations
    published, re-index seconds)."""
    baseline = [latency_ms(assistant, q) for q in questions]
    during: list[float] = []
    reindex_seconds: list[float] = []
    running, stop = threading.Event(), threading.Event()
    first = assistant.kb.generation.number

    def reindex() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            running.set()
            build(settings, assistant.kb.embedder, progress=False, force=True)
            assistant.refresh(wait=True)
            running.clear()
            reindex_seconds.append(time.perf_counter() - started)

    thread = threading.Thread(target=reindex)
    thread.start()
    try:
        for question in questions:
            while True:  # measure only questions that start while a re-index is under way
                running.wait()
                ms = latency_ms(assistant, question)
                if running.is_set():
                    during.append(ms)
                    break
    finally:
        stop.set()
        thread.join()
    return baseline, during, assistant.kb.generation.number - first, reindex_seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--qa", default="qa/dev.jsonl")
    parser.add_argument("--rounds", type=int, default=3, help="times each conversation is asked per measurement")
    parser.add_argument("--threads", default="1,2,4")
    args = parser.parse_args()
    settings = Settings()
    assistant = make_assistant(settings)
    cases, _ = load_cases(Path(args.qa))
    questions = [turn for case in cases for turn in case.turns]
    assistant.ask("预热：吉林省专利保险费补助", Conversation())  # load models and indexes once
    print(f"{len(cases)} conversations, {len(questions)} questions × {args.rounds} rounds per measurement; "
          f"index generation {assistant.kb.generation.number}, {len(assistant.kb.clauses)} clauses; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (figures are as noisy as the machine is busy)")

    counts = [int(n) for n in args.threads.split(",")]
    rates = {n: throughput(assistant, cases, args.rounds, n) for n in counts}
    base = rates[counts[0]]
    for n in counts:
        print(f"{n} conversation(s) at once: {rates[n]:6.1f} questions/s   ×{rates[n] / base:.2f} vs {counts[0]}")
    widest = counts[-1]
    locked = throughput(assistant, cases, args.rounds, widest, lock=threading.Lock())
    print(f"{widest} conversations behind one lock (the page before): {locked:6.1f} questions/s"
          f"   ×{locked / base:.2f} vs {counts[0]}")

    baseline, during, published, seconds = during_reindex(assistant, settings, questions)
    p50_base, p50_during = statistics.median(baseline), statistics.median(during)
    ratios = [d / b for d, b in zip(during, baseline, strict=True)]
    print(f"re-index (forced build + reload): {published} generations published, "
          f"median {statistics.median(seconds):.2f} s each (×{statistics.median(seconds) * 1000 / p50_base:.0f} "
          f"a question)")
    print(f"question alone:          p50 {p50_base:7.1f} ms   ×1.00")
    print(f"question during re-index: p50 {p50_during:7.1f} ms   ×{p50_during / p50_base:.2f}"
          f"   (per question: median ×{statistics.median(ratios):.2f}, max ×{max(ratios):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
