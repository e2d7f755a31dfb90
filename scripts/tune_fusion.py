"""Grid-search the hybrid's weights on a BEIR folder's tuning ids (never the held-out half).

Scores of each system are computed once per query, then every weighting is evaluated on them offline.
Run `python -m assistant bench-retrieval` first: it builds and caches the benchmark index.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from pathlib import Path

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.retrieval.fusion import max_normalize, min_max_normalize, ranked, weighted_sum
from assistant.retrieval.knowledge import KnowledgeBase, RetrievalConfig
from core.settings import Settings
from evaluation.bench import QueryCache, load_beir, relevant
from index.embeddings import make_embedder
from index.store import IndexStore


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--beir", required=True)
    parser.add_argument("--ids", required=True)
    parser.add_argument("--candidates", type=int, default=100)
    args = parser.parse_args()
    settings = Settings()
    beir = Path(args.beir)
    _, queries, qrels, answers = load_beir(beir, Path(args.ids))
    home = Path(settings.data_dir) / "bench" / beir.name / "data" / "index"
    store = IndexStore(home)
    cache = store.cache()
    embedder = QueryCache(make_embedder(settings), cache)
    kb = KnowledgeBase(store, embedder, settings.current_date, RetrievalConfig(candidates=args.candidates))
    raw = [kb.system_scores(q["text"], None, ["bm25", "dense", "doc"]) for q in queries]
    texts = {c.clause_id: (c.doc.doc_id, c.text) for c in kb.clauses}
    results = []
    grid = [i / 10 for i in range(11)]
    for w_bm25, w_dense, w_doc in itertools.product(grid, grid, grid):
        if abs(w_bm25 + w_dense + w_doc - 1.0) > 1e-9:
            continue
        weights = {"bm25": w_bm25, "dense": w_dense, "doc": w_doc}
        hit5 = mrr = 0.0
        for query, scores in zip(queries, raw, strict=True):
            candidates = set(scores["bm25"]) | set(scores["dense"])
            normalised = {
                "bm25": max_normalize(scores["bm25"]),
                "dense": min_max_normalize(scores["dense"]),
                "doc": max_normalize(scores["doc"]),
            }
            fused = weighted_sum({n: {c: normalised[n].get(c, 0.0) for c in candidates} for n in weights}, weights)
            top = ranked(fused, 10)
            gold = qrels.get(query["_id"], set())
            answer = answers.get(query["_id"], {}).get("answer")
            first = next((i for i, (cid, _) in enumerate(top, 1) if relevant(*texts[cid], gold, answer)), None)
            if first:
                hit5 += first <= 5
                mrr += 1 / first
        results.append((mrr / len(queries), hit5 / len(queries), weights))
    cache.close()
    for mrr, hit5, weights in sorted(results, key=lambda r: -r[0])[:12]:
        print(f"MRR@10 {mrr:.3f}  hit@5 {hit5:.3f}  {weights}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
