"""Chunk-level retrieval benchmark on a BEIR folder (protocol: ncppolicies/README.md).

The benchmark's documents go through the product's own pipeline (clean → clauses, 500-character limit) into
an index of their own under the data directory, cached: a second run embeds nothing. Several systems run in
the same process on the same chunks, so their figures compare directly.
"""

from __future__ import annotations

import csv
import json
import logging
import time
from dataclasses import replace
from pathlib import Path

from assistant.retrieval.knowledge import BM25_ONLY, DENSE_ONLY, KnowledgeBase, RetrievalConfig
from index.build import build, open_index
from index.embeddings import make_embedder
from index.store import EmbeddingCache

log = logging.getLogger(__name__)
SYSTEMS: dict[str, RetrievalConfig] = {
    "bm25": BM25_ONLY,
    "dense": DENSE_ONLY,
    "hybrid": RetrievalConfig(),
}
KS = (1, 3, 5, 10)


class QueryCache:
    """An embedder wrapper that caches query vectors on disk (benchmark queries repeat across runs)."""

    def __init__(self, embedder, cache: EmbeddingCache):
        self.inner = embedder
        self.name = embedder.name
        self.cache = cache

    def embed_batch(self, texts, kind="passage"):
        if kind != "query":
            return self.inner.embed_batch(texts, kind)
        keys = ["query:" + text for text in texts]
        found = self.cache.get(self.name, keys)
        missing = [t for t, k in zip(texts, keys, strict=True) if k not in found]
        if missing:
            vectors = self.inner.embed_batch(missing, kind)
            self.cache.put(self.name, [("query:" + t, v) for t, v in zip(missing, vectors, strict=True)])
            found.update({"query:" + t: v for t, v in zip(missing, vectors, strict=True)})
        return [found[k] for k in keys]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_beir(folder: Path, ids_file: Path | None):
    """Corpus, queries (optionally only the listed ids), qrels and answers of a BEIR folder."""
    corpus = read_jsonl(folder / "corpus.jsonl")
    queries = read_jsonl(folder / "queries.jsonl")
    if ids_file:
        wanted = set(ids_file.read_text(encoding="utf-8").split())
        queries = [q for q in queries if q["_id"] in wanted]
    qrels: dict[str, set[str]] = {}
    with (folder / "qrels" / "test.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            qrels.setdefault(row["query-id"], set()).add(row["corpus-id"])
    answers = {a["_id"]: a for a in read_jsonl(folder / "answers.jsonl")} if (folder / "answers.jsonl").exists() else {}
    return corpus, queries, qrels, answers


def write_corpus(corpus: list[dict], target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for doc in corpus:
        path = target / f"{doc['_id']}.txt"
        text = doc.get("title", "") + "\n" + doc["text"] if doc.get("title") else doc["text"]
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def index_beir(settings, corpus: list[dict], home: Path, embedder=None):
    """Index a benchmark's documents as a corpus of their own (``home/corpus``, data in ``home/data``), cached by
    clause content hash; the settings for that corpus and the embedder used."""
    write_corpus(corpus, home / "corpus")
    bench_settings = replace_settings(settings, corpus_dir=home / "corpus", data_dir=home / "data", catalog_path=home / "catalog.yaml")
    embedder = embedder or make_embedder(bench_settings)
    started = time.perf_counter()
    result = build(bench_settings, embedder, progress=True)
    print(f"bench index: {len(result.generation.clauses)} chunks from {len(result.generation.docs)} documents, "
          f"{result.embedded} embedded now, {time.perf_counter() - started:.1f} s"
          f" (longest chunk {max(len(c.text) for c in result.generation.clauses)} characters)")
    return bench_settings, embedder


def relevant(hit_doc: str, text: str, gold_docs: set[str], answer: str | None) -> bool:
    """The protocol's relevance: a gold document's chunk that holds the answer (its first 30 characters if long)."""
    if hit_doc not in gold_docs:
        return False
    if not answer:
        return True
    return (answer if len(answer) <= 60 else answer[:30]) in text


def run_bench(settings, beir: Path, ids_file: Path | None, out: Path, limit: int | None = None,
              systems: dict[str, RetrievalConfig] | None = None) -> int:
    """Index the benchmark corpus (cached), run every system on every query, print and write the figures."""
    systems = systems or SYSTEMS
    corpus, queries, qrels, answers = load_beir(beir, ids_file)
    if limit:
        queries = queries[:limit]
    bench_settings, embedder = index_beir(settings, corpus, Path(settings.data_dir) / "bench" / beir.name)
    store = open_index(bench_settings)
    cache = store.cache()
    knowledge = KnowledgeBase(store, QueryCache(embedder, cache), bench_settings.current_date)
    totals = {name: {"hits": dict.fromkeys(KS, 0), "mrr": 0.0, "n": 0, "sme_hits": dict.fromkeys(KS, 0), "sme_mrr": 0.0, "sme_n": 0}
              for name in systems}
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with out.open("w", encoding="utf-8") as handle:
        for query in queries:
            gold = qrels.get(query["_id"], set())
            answer = answers.get(query["_id"], {})
            for name, config in systems.items():
                evidence = knowledge.search(query["text"], 10, config=config)
                hits = [{"doc_id": e.clause.doc.doc_id, "text": e.clause.text, "score": round(e.score, 5)} for e in evidence]
                handle.write(json.dumps({"query_id": query["_id"], "system": name, "hits": hits}, ensure_ascii=False) + "\n")
                first = next((i for i, h in enumerate(hits, 1) if relevant(h["doc_id"], h["text"], gold, answer.get("answer"))), None)
                _add(totals[name], first, bool(answer.get("gold_doc_mentions_sme")))
    cache.close()
    seconds = time.perf_counter() - started
    print(f"{len(queries)} queries × {len(systems)} systems in {seconds:.1f} s")
    _print_table(totals)
    return 0


def _add(total: dict, first: int | None, sme: bool) -> None:
    for prefix, counts in (("", True), ("sme_", sme)):
        if not counts:
            continue
        total[prefix + "n"] += 1
        if first is not None:
            for k in KS:
                total[prefix + "hits"][k] += first <= k
            total[prefix + "mrr"] += 1.0 / first


def _print_table(totals: dict) -> None:
    for prefix, label in (("", "all queries"), ("sme_", "gold document mentions SMEs")):
        print(f"\n{label}")
        print(f"{'system':<18}" + "".join(f"{'hit@' + str(k):>8}" for k in KS) + f"{'MRR@10':>8}{'n':>6}")
        for name, total in totals.items():
            n = total[prefix + "n"] or 1
            row = "".join(f"{total[prefix + 'hits'][k] / n:8.3f}" for k in KS)
            print(f"{name:<18}{row}{total[prefix + 'mrr'] / n:8.3f}{total[prefix + 'n']:>6}")


def replace_settings(settings, **changes):
    """A copy of the settings with some fields changed."""
    return settings.model_copy(update=changes)


__all__ = ["SYSTEMS", "QueryCache", "index_beir", "load_beir", "relevant", "replace", "run_bench"]
