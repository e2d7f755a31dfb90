"""``python -m index build | list | export``: the indexing command line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from core.errors import PolicyQAError
from core.settings import Settings, load_settings
from core.types import STATUS_LABELS


def _build(settings: Settings, args) -> int:
    from index.build import build, index_dir
    from index.embeddings import make_embedder

    result = build(settings, make_embedder(settings), progress=not args.quiet, notify=lambda line: print(line, flush=True),
                   force=args.force)
    for report in result.reports:
        removed = ", ".join(f"{rule} ×{count}" for rule, count in report.removed.items()) or "nothing"
        print(f"{report.source}: removed {removed}")
        for defect in report.defects:
            print(f"  ! {defect}")
        if report.from_catalog:
            print(f"  catalog set: {', '.join(report.from_catalog)}")
    for error in result.skipped:
        print(f"SKIPPED {error.source}: {error.reason}")
    generation = result.generation
    state = "unchanged, nothing to do" if result.unchanged else f"generation {generation.number}"
    print(
        f"index {state}: {len(generation.docs)} documents, {len(generation.clauses)} clauses, "
        f"{result.embedded} embedded, {len(result.skipped)} skipped, {result.seconds:.1f} s → {index_dir(settings)}"
    )
    return 0


def _generation(settings: Settings):
    from index.build import index_dir
    from index.store import IndexStore

    return IndexStore(index_dir(settings)).require_current()


def _list(settings: Settings, args) -> int:
    generation = _generation(settings)
    today = settings.current_date()
    counts = generation.clause_counts()
    rows = [doc.metadata(today) | {"clauses": counts.get(doc.doc_id, 0)} for doc in generation.docs]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        print(
            f"{row['doc_id']}  {row['title']}  {row['doc_number'] or '—'}  {row['issuer'] or '—'}  "
            f"{row['region'] or '—'}  {STATUS_LABELS[row['status']]}  {row['clauses']} clauses"
        )
    for skipped in generation.skipped:
        print(f"(skipped {skipped['source']}: {skipped['reason']})")
    return 0


def _export(settings: Settings, args) -> int:
    generation = _generation(settings)
    today = settings.current_date()
    out = Path(args.out)
    with out.open("w", encoding="utf-8") as handle:
        for clause in generation.clauses:
            handle.write(json.dumps(clause.record(today), ensure_ascii=False) + "\n")
    print(f"{len(generation.clauses)} clauses → {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m index", description="Build and inspect the clause index.")
    sub = parser.add_subparsers(dest="command", required=True)
    build_parser = sub.add_parser("build", help="build or update the index from the corpus folder")
    build_parser.add_argument("--quiet", action="store_true", help="no progress bar")
    build_parser.add_argument("--force", action="store_true",
                              help="publish a new generation from the corpus even when nothing changed (e.g. after "
                              "the vector store was deleted or damaged); cached vectors are reused")
    list_parser = sub.add_parser("list", help="one row per indexed document")
    list_parser.add_argument("--json", action="store_true", help="a JSON array of document metadata")
    export_parser = sub.add_parser("export", help="every clause as JSON lines")
    export_parser.add_argument("--out", required=True, help="output .jsonl file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
        return {"build": _build, "list": _list, "export": _export}[args.command](settings, args)
    except PolicyQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
