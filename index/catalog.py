"""The human-editable catalog (``corpus/catalog.yaml``): corrections a person makes to what the extractor found."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from core.errors import CatalogError
from index.clean import DEFAULT_SPAM_PHRASES

EDITABLE_FIELDS = (
    "title", "doc_number", "issuer", "province", "city", "level",
    "issued_date", "published_date", "comment_deadline", "period", "draft",
)


@dataclass(frozen=True)
class Fix:
    """An exact text replacement a person made (e.g. repairing encoding damage), with the reason."""

    find: str
    replace: str
    why: str = ""


@dataclass(frozen=True)
class Entry:
    """The catalog's corrections for one corpus file."""

    overrides: dict = field(default_factory=dict)
    fixes: tuple[Fix, ...] = ()


@dataclass(frozen=True)
class Catalog:
    """All corrections, plus spam phrases to strip from every document."""

    entries: dict[str, Entry] = field(default_factory=dict)
    spam_phrases: tuple[str, ...] = DEFAULT_SPAM_PHRASES

    def entry(self, source: str) -> Entry:
        """Corrections for a file (none if the catalog does not mention it)."""
        return self.entries.get(source, Entry())


def _check_override(source: str, key: str, value: object) -> object:
    if key not in EDITABLE_FIELDS:
        raise CatalogError(f"catalog: {source}: unknown field {key!r} (editable: {', '.join(EDITABLE_FIELDS)})")
    if key.endswith("_date") and value is not None:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError as exc:
            raise CatalogError(f"catalog: {source}: {key} must be YYYY-MM-DD, got {value!r}") from exc
    if key == "period" and value is not None:
        parts = str(value).replace("—", "-").split("-")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise CatalogError(f"catalog: {source}: period must look like 2022-2025, got {value!r}")
        return (int(parts[0]), int(parts[1]))
    return value


class _CatalogLoader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text, so a bad one is reported with its document and field."""


_CatalogLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_catalog(path: Path) -> Catalog:
    """Read the catalog; a missing file is an empty catalog, a malformed one a CatalogError."""
    if not path.exists():
        return Catalog()
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_CatalogLoader) or {}
    except (yaml.YAMLError, ValueError) as exc:
        raise CatalogError(f"catalog {path}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise CatalogError(f"catalog {path}: expected a mapping at the top level")
    entries = {}
    for source, raw in (data.get("documents") or {}).items():
        raw = dict(raw or {})
        fixes = tuple(Fix(str(f["find"]), str(f["replace"]), str(f.get("why", ""))) for f in raw.pop("fixes", []) or [])
        overrides = {key: _check_override(source, key, value) for key, value in raw.items()}
        entries[str(source)] = Entry(overrides, fixes)
    spam = tuple(data.get("spam_phrases") or DEFAULT_SPAM_PHRASES)
    return Catalog(entries, spam)
