"""Build or update the index from the corpus folder: the pipeline's driver."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from index.catalog import load_catalog
from index.clauses import split_clauses
from index.documents import DocReport, read_document
from index.embeddings import Embedder
from index.errors import DocumentError
from index.gazetteer import default_gazetteer
from index.loaders import corpus_files
from index.store import Generation, IndexStore
from index.types import Clause, PolicyDoc

log = logging.getLogger(__name__)


@dataclass
class BuildResult:
    """What a build did, for the build log and the benchmark."""

    generation: Generation
    reports: list[DocReport] = field(default_factory=list)
    skipped: list[DocumentError] = field(default_factory=list)
    embedded: int = 0
    embedded_chars: int = 0
    embed_seconds: float = 0.0
    seconds: float = 0.0
    unchanged: bool = False


def index_dir(settings) -> Path:
    """Where the index lives inside the data directory."""
    return Path(settings.data_dir) / "index"


def read_corpus(settings) -> tuple[list[PolicyDoc], list[DocReport], list[DocumentError]]:
    """Every readable document of the corpus; unreadable ones are reported, never fatal."""
    catalog = load_catalog(settings.resolved_catalog())
    gazetteer = default_gazetteer()
    docs, reports, skipped = [], [], []
    for path in corpus_files(Path(settings.corpus_dir)):
        try:
            doc, report = read_document(path, catalog, gazetteer)
        except DocumentError as exc:
            log.warning("skipped %s", exc)
            skipped.append(exc)
            continue
        except Exception as exc:
            log.exception("skipped %s: unexpected error", path.name)
            skipped.append(DocumentError(path.name, f"unexpected error: {exc.__class__.__name__}: {exc}"))
            continue
        docs.append(doc)
        reports.append(report)
    return docs, reports, skipped


def _fingerprint(embedder_name: str, clauses: list[Clause], docs: list[PolicyDoc], skipped: list) -> str:
    digest = hashlib.sha256(embedder_name.encode())
    for doc in docs:
        digest.update(doc.content_hash.encode())
    for clause in clauses:
        digest.update(f"{clause.clause_id}|{clause.hash}".encode())
    for error in skipped:
        digest.update(str(error).encode())
    return digest.hexdigest()[:20]


def build(settings, embedder: Embedder, progress: bool = True, force: bool = False) -> BuildResult:
    """Build or update the index; unchanged clauses reuse their cached vectors. ``force`` publishes a new
    generation even when nothing changed (the concurrency benchmark re-indexes this way)."""
    started = time.perf_counter()
    docs, reports, skipped = read_corpus(settings)
    clauses = [clause for doc in docs for clause in split_clauses(doc, settings.clause_max_chars)]
    store = IndexStore(index_dir(settings))
    fingerprint = _fingerprint(embedder.name, clauses, docs, skipped)
    current = store.current()
    if current is not None and current.fingerprint == fingerprint and not force:
        return BuildResult(current, reports, skipped, seconds=time.perf_counter() - started, unchanged=True)

    cache = store.cache()
    try:
        hashes = [clause.hash for clause in clauses]
        missing = cache.missing(embedder.name, hashes)
        todo = list({clause.hash: clause for clause in clauses if clause.hash in missing}.values())
        embed_started = time.perf_counter()
        _embed(cache, embedder, todo, settings.embed_batch_size, progress)
        embed_seconds = time.perf_counter() - embed_started
        vectors = cache.get(embedder.name, hashes)
    finally:
        cache.close()
    skipped_rows = [{"source": e.source, "reason": e.reason} for e in skipped]
    generation = store.publish(fingerprint, embedder.name, docs, clauses, vectors, skipped_rows)
    return BuildResult(
        generation, reports, skipped,
        embedded=len(todo), embedded_chars=sum(len(c.indexed_text()) for c in todo),
        embed_seconds=embed_seconds, seconds=time.perf_counter() - started,
    )


def _embed(cache, embedder: Embedder, todo: list[Clause], batch_size: int, progress: bool) -> None:
    """Embed clauses batch by batch, committing each batch to the cache (a killed build keeps its work)."""
    if not todo:
        return
    from tqdm import tqdm

    with tqdm(total=len(todo), unit="clause", desc="embedding", disable=not progress) as bar:
        for start in range(0, len(todo), batch_size):
            batch = todo[start : start + batch_size]
            vectors = embedder.embed_batch([clause.indexed_text() for clause in batch], kind="passage")
            cache.put(embedder.name, [(clause.hash, vector) for clause, vector in zip(batch, vectors, strict=True)])
            bar.update(len(batch))
