"""The 答疑库 set (``qa/answer_book.jsonl``): entries staff published, and questions each either asking the same as
one of them in other words (answered from it) or something else (never answered from an entry). Scored by the
share of rephrasings answered from their entry and of other questions answered from none, per split (``dev``
chose ``answer_book_min_similarity``; ``test`` was not looked at for it). ``python -m evaluation.answer_book``
prints both, and each question's best similarity, for the settings' embedder."""

from __future__ import annotations

import argparse
import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

ANSWER_BOOK_SET = Path(__file__).resolve().parent.parent / "qa" / "answer_book.jsonl"


@dataclass(frozen=True)
class BookCase:
    """A question and the entry it asks the same as (None: none)."""

    question: str
    entry: str | None
    split: str


def load_set(path: Path = ANSWER_BOOK_SET) -> tuple[list[dict], list[BookCase]]:
    """The entries (as written) and the questions of the set."""
    entries, cases = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        data = json.loads(line)
        if data["kind"] == "entry":
            entries.append(data)
        else:
            cases.append(BookCase(data["question"], data["entry"], data["split"]))
    return entries, cases


def score(cases: list[BookCase], answered_from) -> dict:
    """``answered_from(question)`` → the set's entry id a question was answered from (None: not from the book).
    Per split: rephrasings answered from their entry, other questions answered from none, and the misses."""
    out = {}
    for split in sorted({c.split for c in cases}):
        these = [c for c in cases if c.split == split]
        got = {c.question: answered_from(c.question) for c in these}
        same = [c for c in these if c.entry]
        other = [c for c in these if not c.entry]
        out[split] = {
            "rephrasings_answered": sum(got[c.question] == c.entry for c in same) / len(same) if same else math.nan,
            "others_left_alone": sum(got[c.question] is None for c in other) / len(other) if other else math.nan,
            "misses": [c.question for c in these if got[c.question] != c.entry],
        }
    return out


def main(argv: list[str] | None = None) -> int:
    from core.settings import load_settings
    from index.embeddings import make_embedder
    from serve.answer_book import AnswerBook, EntryStore
    from serve.store import open_database

    parser = argparse.ArgumentParser(prog="python -m evaluation.answer_book", description=__doc__)
    parser.add_argument("--qa", type=Path, default=ANSWER_BOOK_SET)
    args = parser.parse_args(argv)
    settings = load_settings()
    entries, cases = load_set(args.qa)
    folder = tempfile.mkdtemp(prefix="answer-book-")
    store = EntryStore(open_database(f"sqlite:///{folder}/book.sqlite"))
    ids = {}
    for item in entries:
        entry, _ = store.add(item["question"], item["answer"], item["clauses"], settings.reply_unit,
                             settings.current_date())
        ids[entry.entry_id] = item["id"]
    book = AnswerBook(store, make_embedder(settings), 0.0)
    for case in cases:
        match = book.match(case.question)
        print(f"{case.split:5} {case.entry or '-':3} best {ids[match.entry.entry_id] if match else '-':3} "
              f"{match.similarity if match else 0:.3f}  {case.question}")
    book.min_similarity = settings.answer_book_min_similarity

    def answered_from(question: str) -> str | None:
        match = book.match(question)
        return ids[match.entry.entry_id] if match else None

    for split, figures in score(cases, answered_from).items():
        print(f"{split}: rephrasings answered from their entry {figures['rephrasings_answered']:.0%}, "
              f"other questions left alone {figures['others_left_alone']:.0%}; misses: {figures['misses']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
