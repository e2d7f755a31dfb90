"""Checks on an uploaded policy document, made on the name and the bytes in memory before anything is written;
then the write itself, atomic, into the corpus folder."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from core.errors import DocumentError
from index.loaders import LOADERS, PackageLimits, PackageTooLarge, check_docx_package, decode_text

MAX_NAME_CHARS = 120
# The corpus folder's file system allows 255 bytes a name; the upload's temporary name adds about 25.
MAX_NAME_BYTES = 200
_FORBIDDEN = re.compile(r'[/\\:*?"<>|]')


class UploadRejected(ValueError):
    """An upload that is not stored, with the HTTP status that says why (400, 413 or 415)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def check_name(name: str) -> str:
    """The file name as it will be stored in the corpus: a plain name with a supported extension."""
    name = unicodedata.normalize("NFC", (name or "").strip())
    if not name or len(name) > MAX_NAME_CHARS or len(name.encode("utf-8", "replace")) > MAX_NAME_BYTES:
        raise UploadRejected(400, f"the file name must have 1 to {MAX_NAME_CHARS} characters and at most "
                                  f"{MAX_NAME_BYTES} bytes in UTF-8 (a Chinese character is 3)")
    if name.startswith(".") or _FORBIDDEN.search(name) or any(unicodedata.category(ch).startswith("C") for ch in name):
        raise UploadRejected(400, "the file name must be a plain name: no folder, no leading dot, no control or "
                                  "reserved characters")
    if Path(name).suffix.lower() not in LOADERS:
        raise UploadRejected(415, f"unsupported file type; upload one of: {', '.join(sorted(LOADERS))}")
    return name


def check_content(name: str, content: bytes, max_bytes: int, limits: PackageLimits | None = None,
                  max_chars: int | None = None) -> None:
    """The bytes look like the type the name says, and are not too many: nor, for a .docx, what they unpack to
    (``limits``), nor, for a text, its characters (``max_chars``, the build's budget per document)."""
    if not content:
        raise UploadRejected(400, "the file is empty")
    if len(content) > max_bytes:
        raise UploadRejected(413, f"the file is larger than {max_bytes} bytes")
    suffix = Path(name).suffix.lower()
    if suffix == ".pdf" and not content.startswith(b"%PDF-"):
        raise UploadRejected(415, "the file is not a PDF")
    if suffix == ".docx" and not content.startswith(b"PK\x03\x04"):
        raise UploadRejected(415, "the file is not a .docx (Word) document")
    if suffix == ".docx":
        try:
            check_docx_package(name, content, limits or PackageLimits())
        except DocumentError as exc:
            raise UploadRejected(413 if isinstance(exc, PackageTooLarge) else 415, exc.reason) from None
    if suffix in (".txt", ".md", ".html", ".htm"):
        try:
            text = decode_text(content, name)
        except DocumentError:
            raise UploadRejected(415, "the text is neither UTF-8 nor GB18030") from None
        if max_chars is not None and len(text) > max_chars:
            raise UploadRejected(413, f"the text has {len(text):,} characters, over the budget of {max_chars:,} per "
                                      "document (it would be skipped by every build): split it into its parts")


def store(corpus_dir: Path, name: str, content: bytes) -> bool:
    """Write the checked file into the corpus (a hidden temporary file, then one rename: a build never reads it
    half-written); True when it replaced a file of that name."""
    corpus_dir = Path(corpus_dir)
    target = corpus_dir / name
    replaced = target.exists()
    partial = corpus_dir / f".upload-{os.getpid()}-{name}"
    partial.write_bytes(content)
    os.replace(partial, target)
    return replaced


def held_dir(settings) -> Path:
    """Where uploads flagged by the screening wait for an administrator (outside the corpus: never indexed)."""
    return Path(settings.data_dir) / "held"


def screen_upload(folder: Path, name: str, content: bytes, limits: PackageLimits | None = None) -> list[str]:
    """The reasons to hold this upload (``index.screen``), read as the build would read it; a file that yields no
    text is not held (the build reports it and skips it)."""
    from index.loaders import load
    from index.screen import screen

    folder.mkdir(parents=True, exist_ok=True)
    probe = folder / f".screen-{os.getpid()}-{threading.get_ident()}{Path(name).suffix.lower()}"
    try:
        probe.write_bytes(content)
        text = load(probe, limits)
    except DocumentError:
        return []
    finally:
        probe.unlink(missing_ok=True)
    return [str(flag) for flag in screen(text)]


def hold(folder: Path, name: str, content: bytes, reasons: list[str]) -> None:
    """Keep a flagged upload, with why, until it is approved or discarded."""
    folder.mkdir(parents=True, exist_ok=True)
    store(folder, name, content)
    record = {"filename": name, "reasons": reasons, "held_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    _write(folder / f"{name}.json", json.dumps(record, ensure_ascii=False).encode())


def held(folder: Path) -> list[dict]:
    """The uploads waiting for review, oldest first."""
    if not folder.is_dir():
        return []
    records = []
    for sidecar in sorted(folder.glob("*.json")):
        if (folder / sidecar.name.removesuffix(".json")).is_file():
            records.append(json.loads(sidecar.read_text(encoding="utf-8")))
    return sorted(records, key=lambda record: record["held_at"])


def release(folder: Path, name: str, corpus_dir: Path | None) -> bool:
    """Move a held upload into the corpus (``corpus_dir``) or discard it (None); False when none is held by that
    name."""
    name = check_name(name)
    path = folder / name
    if not path.is_file():
        return False
    if corpus_dir is not None:
        store(corpus_dir, name, path.read_bytes())
    path.unlink()
    (folder / f"{name}.json").unlink(missing_ok=True)
    return True


def _write(target: Path, content: bytes) -> None:
    partial = target.with_name(f".partial-{os.getpid()}-{threading.get_ident()}")
    partial.write_bytes(content)
    os.replace(partial, target)


@dataclass(frozen=True)
class Accepted:
    """An upload that was taken: stored in the corpus (``replaced``: over a file of that name), or held for review
    with its ``reasons``."""

    filename: str
    held: bool
    reasons: tuple[str, ...] = ()
    replaced: bool = False


def accept(settings, filename: str, content: bytes) -> Accepted:
    """Check an upload's name, type and size, screen it, and store it in the corpus or hold it for review (the API's
    upload and the staff desk's); UploadRejected when it may not be stored at all."""
    name = check_name(filename)
    limits = PackageLimits.from_settings(settings)
    check_content(name, content, settings.max_upload_bytes, limits, settings.max_document_chars)
    folder = held_dir(settings)
    reasons = screen_upload(folder, name, content, limits)
    if reasons:  # never indexed, so never quoted, until an administrator approves it
        hold(folder, name, content, reasons)
        return Accepted(name, True, tuple(reasons))
    return Accepted(name, False, (), store(settings.corpus_dir, name, content))


def remove_document(corpus_dir: Path, doc_id: str) -> Path | None:
    """Delete the corpus file of a document (the API's delete and the staff desk's); None when there is none."""
    from index.documents import doc_ids_for
    from index.loaders import corpus_files

    path = {found: path for path, found in doc_ids_for(corpus_files(corpus_dir)).items()}.get(doc_id)
    if path is not None:
        path.unlink()
    return path
