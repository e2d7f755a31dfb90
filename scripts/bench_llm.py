"""Benchmark the local LLM generator through the whole chain: time to first token, generation tokens/s, time
per answer (p50/p95), and how often the guard had the answer written again or fell back to the extractive one.

    .venv/bin/python scripts/bench_llm.py --qa qa/dev.jsonl [--limit 10] [--generator llamacpp]

Each case's first message is asked in a new conversation, with the index warm and the model loaded first."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from langchain_core.callbacks import BaseCallbackHandler

from assistant.conversation import Conversation
from core.settings import load_settings
from evaluation.stats import percentile
from serve.factory import make_assistant


class CallTimer(BaseCallbackHandler):
    """Per model call: when it started, its first token, its last, and how many tokens came."""

    def __init__(self):
        self.calls: list[dict] = []

    def on_chat_model_start(self, *args, **kwargs):
        self.calls.append({"start": time.perf_counter(), "first": None, "end": None, "tokens": 0})

    def on_llm_new_token(self, token, **kwargs):
        call = self.calls[-1]
        call["tokens"] += 1
        call["first"] = call["first"] or time.perf_counter()

    def on_llm_end(self, *args, **kwargs):
        self.calls[-1]["end"] = time.perf_counter()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qa", default="qa/dev.jsonl")
    parser.add_argument("--limit", type=int, help="only the first N cases")
    parser.add_argument("--generator", default="llamacpp")
    args = parser.parse_args()
    settings = load_settings().model_copy(update={"generator": args.generator})
    assistant = make_assistant(settings)
    generator = assistant.refresh()
    timer = CallTimer()
    generator.chain.steps[1].callbacks = [timer]  # the chat model of prompt | model | parser
    questions = [json.loads(line)["turns"][0] for line in Path(args.qa).read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = questions[: args.limit] if args.limit else questions
    assistant.ask("专精特新企业有哪些支持政策?", Conversation())  # load the model, warm the index
    timer.calls.clear()
    totals, first_tokens, rates, prompt_times = [], [], [], []
    regenerated = fallback = checked = errors = 0
    for number, question in enumerate(questions, 1):
        before = len(timer.calls)
        started = time.perf_counter()
        answer = assistant.ask(question, Conversation())
        total = time.perf_counter() - started
        calls = [c for c in timer.calls[before:] if c["first"] and c["end"]]
        if calls:
            totals.append(total)
            first_tokens.append(calls[0]["first"] - started)
            prompt_times += [c["first"] - c["start"] for c in calls]
            rates += [(c["tokens"] - 1) / (c["end"] - c["first"]) for c in calls if c["tokens"] > 1 and c["end"] > c["first"]]
        if answer.guard:
            checked += 1
            regenerated += answer.guard.regenerated
            fallback += answer.guard.fallback
            errors += bool(answer.guard.error)
        guard = "—" if not answer.guard else ("fallback" if answer.guard.fallback else
                                              "regenerated" if answer.guard.regenerated else "passed")
        print(f"[{number}/{len(questions)}] {total:6.1f}s  {len(calls)} call(s)  guard={guard:<11} {question[:30]}", flush=True)
    print(f"\n{args.generator} on {args.qa}: {len(questions)} questions, {len(totals)} answered by the LLM "
          f"({sum(1 for c in timer.calls if c['end'])} model calls)")
    if totals:
        print(f"time to first token: p50 {statistics.median(first_tokens):.1f}s  p95 {percentile(first_tokens, 0.95):.1f}s "
              f"(retrieval + reading the prompt; prompt reading alone p50 {statistics.median(prompt_times):.1f}s)")
        if rates:
            print(f"generation: {statistics.median(rates):.1f} tokens/s (p50 over calls)")
        print(f"time per answer: p50 {statistics.median(totals):.1f}s  p95 {percentile(totals, 0.95):.1f}s")
    print(f"guard: {checked} answers checked, regenerated {regenerated} ({regenerated / max(checked, 1):.0%}), "
          f"fell back {fallback} ({fallback / max(checked, 1):.0%}), model errors {errors}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
