"""The persistent index: an embedding cache, vectors by generation (a VectorStore), and an atomic pointer.

A build writes a complete new generation (manifest + its vectors) and only then replaces the pointer
file (``current.json``) with ``os.replace``. A build killed at any moment therefore leaves the previous
generation whole and in use; its half-written leftovers are swept by the next build. A replaced generation is
kept while a question that started on it, or another copy of the app, may still be searching it: for
``keep_seconds`` after it stopped being current, and the last two always (``generations_to_drop``). Vectors are
cached by (model, clause hash), so an unchanged clause is never embedded twice.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import ConfigError, IndexMissingError
from core.types import Clause, PolicyDoc, doc_from_dict, doc_to_dict
from index.vectors import ChromaVectors, VectorStore, collection_name

log = logging.getLogger(__name__)
POINTER = "current.json"
HISTORY = "generations.json"  # when each kept generation was published


class EmbeddingCache:
    """Vectors by (model name, clause hash) in SQLite; every batch is committed as soon as it is embedded."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path))
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (model TEXT, hash TEXT, vector BLOB, PRIMARY KEY (model, hash))"
        )
        self._db.commit()

    def missing(self, model: str, hashes: list[str]) -> set[str]:
        """Hashes that have no cached vector for this model."""
        have = {row[0] for row in self._db.execute("SELECT hash FROM vectors WHERE model = ?", (model,))}
        return set(hashes) - have

    def put(self, model: str, items: list[tuple[str, list[float]]]) -> None:
        """Store vectors and commit."""
        self._db.executemany(
            "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
            [(model, key, np.asarray(vector, dtype=np.float32).tobytes()) for key, vector in items],
        )
        self._db.commit()

    def get(self, model: str, hashes: list[str]) -> dict[str, list[float]]:
        """Cached vectors for the given hashes."""
        found: dict[str, list[float]] = {}
        for start in range(0, len(hashes), 500):
            chunk = hashes[start : start + 500]
            query = f"SELECT hash, vector FROM vectors WHERE model = ? AND hash IN ({','.join('?' * len(chunk))})"
            for key, blob in self._db.execute(query, (model, *chunk)):
                found[key] = np.frombuffer(blob, dtype=np.float32).tolist()
        return found

    def close(self) -> None:
        """Close the database."""
        self._db.close()


def _clause_row(clause: Clause) -> dict:
    return {
        "doc_id": clause.doc.doc_id,
        "clause_path": clause.clause_path,
        "headings": list(clause.headings),
        "text": clause.text,
        "search_text": clause.search_text,
        "span": list(clause.span),
        "part": clause.part,
        "parts": clause.parts,
        "hash": clause.hash,
        "occurrence": clause.occurrence,
    }


@dataclass(frozen=True)
class Generation:
    """One complete, published version of the index."""

    number: int
    fingerprint: str
    embedder: str
    docs: tuple[PolicyDoc, ...]
    clauses: tuple[Clause, ...]
    skipped: tuple[dict, ...]

    def clause_counts(self) -> dict[str, int]:
        """Clauses per document id."""
        counts: dict[str, int] = {}
        for clause in self.clauses:
            counts[clause.doc.doc_id] = counts.get(clause.doc.doc_id, 0) + 1
        return counts

    @property
    def collection_name(self) -> str:
        """The Chroma collection holding this generation's vectors (recorded in the pointer file)."""
        return collection_name(self.number)


class IndexStore:
    """The index directory: pointer, manifests and the embedding cache; vectors in a ``VectorStore``
    (by default an embedded Chroma in ``root/chroma``)."""

    def __init__(self, root: Path, vectors: VectorStore | None = None, keep_seconds: float = 600,
                 clock: Callable[[], float] = time.time):
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot use {self.root} as the index directory: {exc.strerror} (see POLICYQA_DATA_DIR)") from exc
        self.vectors: VectorStore = vectors if vectors is not None else ChromaVectors(self.root / "chroma")
        self.keep_seconds = keep_seconds  # how long a replaced generation stays searchable
        self.clock = clock
        self._pointer_seen: tuple[tuple[int, int, int], int] | None = None  # (pointer file stat, generation)

    def cache(self) -> EmbeddingCache:
        """The embedding cache."""
        return EmbeddingCache(self.root / "embeddings.sqlite")

    def _pointer(self) -> dict | None:
        path = self.root / POINTER
        if not path.exists():
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    def current_number(self) -> int | None:
        """The published generation's number, cheaply: one stat of the pointer file, which is read again only
        when it was replaced (a new file each time, so its inode, mtime or size changes)."""
        try:
            stat = (self.root / POINTER).stat()
        except FileNotFoundError:
            return None
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        seen = self._pointer_seen
        if seen is None or seen[0] != stamp:
            pointer = self._pointer()
            if pointer is None:
                return None
            seen = (stamp, pointer["generation"])
            self._pointer_seen = seen
        return seen[1]

    def current(self) -> Generation | None:
        """The published generation, or None when nothing was built yet."""
        pointer = self._pointer()
        if pointer is None:
            return None
        manifest = json.loads((self.root / pointer["manifest"]).read_text(encoding="utf-8"))
        docs = {d["doc_id"]: doc_from_dict(d) for d in manifest["docs"]}
        clauses = tuple(
            Clause(
                doc=docs[row["doc_id"]],
                clause_path=row["clause_path"],
                headings=tuple(row["headings"]),
                text=row["text"],
                search_text=row["search_text"],
                span=tuple(row["span"]),
                part=row["part"],
                parts=row["parts"],
                hash=row["hash"],
                occurrence=row.get("occurrence", 1),
            )
            for row in manifest["clauses"]
        )
        return Generation(
            pointer["generation"], manifest["fingerprint"], manifest["embedder"], tuple(docs.values()), clauses,
            tuple(manifest.get("skipped", ())),
        )

    def require_current(self) -> Generation:
        """The published generation; raises IndexMissingError if there is none."""
        generation = self.current()
        if generation is None:
            raise IndexMissingError(f"no index in {self.root}: run `python -m index build` first")
        return generation

    def publish(
        self,
        fingerprint: str,
        embedder: str,
        docs: list[PolicyDoc],
        clauses: list[Clause],
        vectors: dict[str, list[float]],
        skipped: list[dict],
    ) -> Generation:
        """Write a complete new generation, then switch the pointer to it atomically."""
        previous = self._pointer()
        number = (previous["generation"] if previous else 0) + 1
        generation = Generation(number, fingerprint, embedder, tuple(docs), tuple(clauses), tuple(skipped))
        manifest_name = f"manifest-gen{number}.json"
        manifest = {
            "fingerprint": fingerprint,
            "embedder": embedder,
            "docs": [doc_to_dict(doc) for doc in docs],
            "clauses": [_clause_row(clause) for clause in clauses],
            "skipped": skipped,
        }
        _write_atomic(self.root / manifest_name, json.dumps(manifest, ensure_ascii=False))
        self.vectors.drop(number)  # the leftover of a build killed before it published this number
        self.vectors.add(
            number,
            [c.clause_id for c in clauses],
            [vectors[c.hash] for c in clauses],
            [{"doc_id": c.doc.doc_id, "province": c.doc.province or "", "city": c.doc.city or "",
              "clause_path": c.clause_path} for c in clauses],
        )
        pointer = {"generation": number, "manifest": manifest_name, "collection": generation.collection_name}
        _write_atomic(self.root / POINTER, json.dumps(pointer))
        published = self._published()
        published[number] = self.clock()
        self._record_published({str(n): t for n, t in published.items()})
        self.sweep()
        return generation

    def sweep(self) -> None:
        """Delete the generations nobody may still search: replaced ones that have not been current for
        ``keep_seconds`` (the current one and the one it replaced always stay), and leftovers of killed builds.
        A question that started on a replaced generation, or another copy of the app that has not reloaded yet,
        keeps its vectors for the grace period."""
        pointer = self._pointer()
        current = pointer["generation"] if pointer else None
        published = self._published()
        manifests = {path: _manifest_number(path.name) for path in self.root.glob("manifest-gen*.json*")}
        existing = set(self.vectors.generations()) | {n for n in manifests.values() if n is not None}
        now = self.clock()
        drop = generations_to_drop(existing, current, published, now, self.keep_seconds)
        for number in sorted(drop):
            self.vectors.drop(number)
            log.info("removed index generation %s", number)
        for path, number in manifests.items():
            if number is None or number in drop or path.name.endswith(".tmp"):
                path.unlink(missing_ok=True)
        kept = {str(n): t for n, t in published.items() if n in existing - drop}
        if kept != {str(n): t for n, t in published.items()}:
            self._record_published(kept)

    def _published(self) -> dict[int, float]:
        """When each generation was published (clock seconds), as far as recorded."""
        try:
            rows = json.loads((self.root / HISTORY).read_text(encoding="utf-8"))["published"]
        except FileNotFoundError:
            return {}
        return {int(number): float(when) for number, when in rows.items()}

    def _record_published(self, rows: dict[str, float]) -> None:
        _write_atomic(self.root / HISTORY, json.dumps({"published": rows}, sort_keys=True))


def generations_to_drop(existing: set[int], current: int | None, published: dict[int, float], now: float,
                        keep_seconds: float) -> set[int]:
    """The generations a build may delete. Generation n stopped being current when a later one was published
    (the earliest recorded; none recorded, e.g. an index older than the records: its grace starts now)."""
    if current is None:
        return set(existing)
    drop = set()
    for number in existing:
        if number > current:  # written by a build killed before it published
            drop.add(number)
        elif number < current - 1:
            replaced_at = min((when for later, when in published.items() if later > number), default=now)
            if now - replaced_at >= keep_seconds:
                drop.add(number)
    return drop


def _manifest_number(name: str) -> int | None:
    digits = name.removeprefix("manifest-gen").split(".", 1)[0]
    return int(digits) if digits.isdigit() else None


def _write_atomic(path: Path, text: str) -> None:
    """Write a file so that readers see either the old or the new content, never a part."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
