"""Benchmark the index build on the seed corpus: cold build, unchanged rebuild, embedding throughput.

Prints figures (and the goals they are read against); it asserts nothing about time.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.settings import Settings
from index.build import build
from index.embeddings import make_embedder


def main() -> int:
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(data_dir=Path(data))
        embedder = make_embedder(settings)
        started = time.perf_counter()
        cold = build(settings, embedder, progress=False)
        cold_seconds = time.perf_counter() - started
        started = time.perf_counter()
        warm = build(settings, embedder, progress=False)
        warm_seconds = time.perf_counter() - started
    clauses = len(cold.generation.clauses)
    print(f"corpus: {len(cold.generation.docs)} documents, {clauses} clauses, embedder {embedder.name}")
    for doc_id, count in sorted(cold.generation.clause_counts().items()):
        print(f"  {doc_id}: {count} clauses")
    print(f"cold build:          {cold_seconds:7.2f} s   (goal ≤ 60 s)")
    print(f"unchanged rebuild:   {warm_seconds:7.2f} s   (goal ≤ 5 s; {warm.embedded} clauses embedded)")
    print(f"  ratio unchanged/cold: {warm_seconds / cold_seconds:.3f}")
    if cold.embed_seconds:
        print(
            f"embedding: {cold.embedded / cold.embed_seconds:.1f} clauses/s, "
            f"{cold.embedded_chars / cold.embed_seconds:.0f} characters/s "
            f"({cold.embed_seconds:.1f} s of the cold build)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
