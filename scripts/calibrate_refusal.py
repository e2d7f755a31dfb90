"""Show how the support score separates answerable from unanswerable questions on Q&A sets, and the
threshold halfway between the weakest answerable and the strongest unanswerable case. Questions declined
before retrieval (injection, chit-chat, uncovered region) have no support score and are listed apart."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.conversation import Conversation
from core.settings import Settings
from evaluation.runner import load_cases
from serve.factory import make_assistant


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--qa", nargs="+", default=["qa/dev.jsonl", "qa/extended.jsonl"])
    args = parser.parse_args()
    assistant = make_assistant(Settings())
    seen: list[float] = []
    original = assistant.support

    def spy(question, evidence, skip):
        value = original(question, evidence, skip)
        seen.append(value)
        return value

    assistant.support = spy
    answerable, unanswerable = [], []
    for path in args.qa:
        cases, _ = load_cases(Path(path))
        for case in cases:
            conversation = Conversation()
            for turn in case.turns:
                seen.clear()
                answer = assistant.ask(turn, conversation)
            if not seen:
                print(f"  {case.id:<6} declined before retrieval ({answer.reason or 'status answer'})")
                continue
            value = min(seen)
            (answerable if case.answerable else unanswerable).append(value)
            print(f"  {case.id:<6} {'answerable  ' if case.answerable else 'unanswerable'} support {value:.2f}  {case.turns[-1][:40]}")
    low, high = min(answerable, default=1.0), max(unanswerable, default=0.0)
    print(f"weakest answerable {low:.2f}, strongest unanswerable {high:.2f}, midpoint {(low + high) / 2:.2f};"
          f" in use: {assistant.thresholds.min_support:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
