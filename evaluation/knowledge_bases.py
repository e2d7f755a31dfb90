"""Knowledge bases other than the product's own ``corpus/``, built in data directories of their own, so that a Q&A
set is evaluated on the documents it was written about: the seeds plus the laws of ``../shared/extra-corpus``, the
ncppolicies notices, or any folder of documents. A source is a folder of documents (its ``catalog.yaml``, if any,
is used) or a BEIR folder (``corpus.jsonl``: each document written out as ``<_id>.txt``)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from core.errors import PolicyQAError
from evaluation.bench import read_jsonl, replace_settings, write_corpus
from index.build import build
from index.loaders import LOADERS


def knowledge_base_settings(settings, sources: list[Path], home: Path):
    """The settings of a knowledge base made of ``sources`` (folders of documents or BEIR folders), its corpus
    copied to ``home/corpus`` and its index in ``home/data``. Documents no longer in the sources leave the copy."""
    corpus = home / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    wanted: set[str] = set()
    catalog = None
    for source in sources:
        if not source.is_dir():
            raise PolicyQAError(f"no such folder of documents: {source}")
        if (source / "corpus.jsonl").exists():
            documents = read_jsonl(source / "corpus.jsonl")
            write_corpus(documents, corpus)
            wanted.update(f"{d['_id']}.txt" for d in documents)
            continue
        files = sorted(p for p in source.iterdir() if p.is_file() and p.suffix.lower() in LOADERS
                       and not p.name.startswith("."))
        if not files:
            raise PolicyQAError(f"no documents in {source} (looked for {', '.join(sorted(LOADERS))})")
        for path in files:
            target = corpus / path.name
            if not target.exists() or target.read_bytes() != path.read_bytes():
                shutil.copyfile(path, target)
            wanted.add(path.name)
        if catalog is None and (source / "catalog.yaml").exists():
            catalog = source / "catalog.yaml"
    for stale in corpus.iterdir():
        if stale.name not in wanted:
            stale.unlink()
    catalog_path = home / "catalog.yaml"
    if catalog is not None:
        shutil.copyfile(catalog, catalog_path)
    elif catalog_path.exists():
        catalog_path.unlink()
    return replace_settings(settings, corpus_dir=corpus, data_dir=home / "data", catalog_path=catalog_path)


def default_home(settings, sources: list[Path]) -> Path:
    """Where a knowledge base of these sources lives by default: one BEIR folder shares bench-answers' copy."""
    if len(sources) == 1 and (sources[0] / "corpus.jsonl").exists():
        return Path(settings.data_dir) / "bench" / sources[0].resolve().name
    return Path(settings.data_dir) / "kb" / "+".join(s.resolve().name for s in sources)


def build_knowledge_base(settings, sources: list[Path], home: Path, embedder):
    """Build (or update: vectors are cached by clause content) the knowledge base of ``sources``; its settings."""
    kb_settings = knowledge_base_settings(settings, sources, home)
    started = time.perf_counter()
    result = build(kb_settings, embedder, progress=True)
    print(f"knowledge base {home}: {len(result.generation.docs)} documents, {len(result.generation.clauses)} clauses, "
          f"{result.embedded} embedded now, {time.perf_counter() - started:.1f} s")
    return kb_settings


__all__ = ["build_knowledge_base", "default_home", "knowledge_base_settings"]
