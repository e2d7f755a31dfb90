"""One corpus file → one PolicyDoc: load, clean, apply the catalog's fixes, extract metadata."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from core.errors import DocumentError
from core.textnorm import is_traditional
from core.types import Period, PolicyDoc, content_hash
from index.catalog import Catalog
from index.clean import clean, find_damage
from index.gazetteer import Gazetteer
from index.loaders import PackageLimits, load
from index.metadata import extract

log = logging.getLogger(__name__)
_SENTENCE_ENDS = "。！？；）)”\"…"


@dataclass(frozen=True)
class DocReport:
    """What happened to one document during a build, for the build log."""

    source: str
    removed: dict[str, int]
    removed_samples: tuple[str, ...]
    defects: tuple[str, ...]
    from_catalog: tuple[str, ...]


def doc_id_for(path: Path) -> str:
    """A document's id: its file name without extension (stable across rebuilds)."""
    return path.stem


def doc_ids_for(paths: list[Path]) -> dict[Path, str]:
    """Unique document ids for the files of a corpus, in the given order: the first file with a name stem keeps
    the stem (通知.docx → 通知); another with the same stem gets a short suffix derived from its file name
    (通知.pdf → 通知-1a2b3c), so the same files always get the same ids."""
    ids: dict[Path, str] = {}
    taken: set[str] = set()
    for path in paths:
        doc_id = doc_id_for(path)
        digest = hashlib.sha256(path.name.encode("utf-8")).hexdigest()
        length = 6
        while doc_id in taken:
            doc_id = f"{doc_id_for(path)}-{digest[:length]}"
            length += 2
        taken.add(doc_id)
        ids[path] = doc_id
    return ids


def read_document(
    path: Path, catalog: Catalog, gazetteer: Gazetteer, doc_id: str | None = None, max_chars: int | None = None,
    limits: PackageLimits | None = None,
) -> tuple[PolicyDoc, DocReport]:
    """Read and clean one file; raises DocumentError when it holds no usable policy text or more than
    ``max_chars`` characters. ``doc_id``: the id :func:`doc_ids_for` gave the file among its corpus (default:
    its name stem)."""
    raw = load(path, limits)
    if max_chars is not None and len(raw) > max_chars:
        raise DocumentError(
            path.name,
            f"{len(raw):,} characters, over the budget of {max_chars:,} per document "
            "(POLICYQA_MAX_DOCUMENT_CHARS); split it into its parts or raise the budget",
        )
    entry = catalog.entry(path.name)
    damage_found = find_damage(raw)
    defects: list[str] = []
    # Fixes apply to the file as obtained, so a person writes them exactly as they see the damage.
    for fix in entry.fixes:
        if fix.find in raw:
            raw = raw.replace(fix.find, fix.replace)
            log.info("%s: catalog fix %r → %r", path.name, fix.find, fix.replace)
        else:
            defects.append(f"catalog fix not applicable, text not found: {fix.find!r}")
    cleaned = clean(raw, catalog.spam_phrases)
    text = cleaned.text
    defects += [f"encoding damage: …{fragment}…" for fragment in cleaned.damage]
    repaired = [fragment for fragment in damage_found if not any(fragment in d for d in cleaned.damage)]
    if len(text.strip()) < 20:
        raise DocumentError(path.name, "no policy text left after cleaning")
    last = text.rstrip()[-1]
    if last not in _SENTENCE_ENDS:
        defects.append(f"text ends mid-sentence (truncated source?): …{text.rstrip()[-15:]}")
    found = extract(cleaned, gazetteer)
    fields = {
        "title": found.title or path.stem,
        "doc_number": found.doc_number,
        "issuer": found.issuer,
        "province": found.province,
        "city": found.city,
        "level": found.level,
        "issued_date": found.issued_date,
        "published_date": found.published_date,
        "comment_deadline": found.comment_deadline,
        "period": found.period,
        "draft": found.draft,
    }
    for key, value in entry.overrides.items():
        fields[key] = Period(*value) if key == "period" and value else value
    doc = PolicyDoc(
        doc_id=doc_id or doc_id_for(path),
        source=path.name,
        text=text,
        content_hash=content_hash(raw + repr(sorted(entry.overrides.items())) + repr(entry.fixes)),
        traditional=is_traditional(text),
        defects=tuple(defects),
        **fields,
    )
    report = DocReport(
        source=path.name,
        removed=cleaned.summary() | ({"catalog fixes": len(entry.fixes)} if entry.fixes else {}),
        removed_samples=tuple(f"{r.rule}: {r.text[:50]}" for r in cleaned.removed),
        defects=tuple(defects) + tuple(f"encoding damage repaired by a catalog fix: …{d}…" for d in repaired),
        from_catalog=tuple(entry.overrides),
    )
    return doc, report
