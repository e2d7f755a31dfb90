"""Checks on an uploaded policy document, made on the name and the bytes in memory before anything is written;
then the write itself, atomic, into the corpus folder."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

from index.loaders import LOADERS

MAX_NAME_CHARS = 120
_FORBIDDEN = re.compile(r'[/\\:*?"<>|]')


class UploadRejected(ValueError):
    """An upload that is not stored, with the HTTP status that says why (400, 413 or 415)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def check_name(name: str) -> str:
    """The file name as it will be stored in the corpus: a plain name with a supported extension."""
    name = unicodedata.normalize("NFC", (name or "").strip())
    if not name or len(name) > MAX_NAME_CHARS:
        raise UploadRejected(400, f"the file name must have 1 to {MAX_NAME_CHARS} characters")
    if name.startswith(".") or _FORBIDDEN.search(name) or any(unicodedata.category(ch).startswith("C") for ch in name):
        raise UploadRejected(400, "the file name must be a plain name: no folder, no leading dot, no control or "
                                  "reserved characters")
    if Path(name).suffix.lower() not in LOADERS:
        raise UploadRejected(415, f"unsupported file type; upload one of: {', '.join(sorted(LOADERS))}")
    return name


def check_content(name: str, content: bytes, max_bytes: int) -> None:
    """The bytes look like the type the name says, and are not too many."""
    if not content:
        raise UploadRejected(400, "the file is empty")
    if len(content) > max_bytes:
        raise UploadRejected(413, f"the file is larger than {max_bytes} bytes")
    suffix = Path(name).suffix.lower()
    if suffix == ".pdf" and not content.startswith(b"%PDF-"):
        raise UploadRejected(415, "the file is not a PDF")
    if suffix == ".docx" and not content.startswith(b"PK\x03\x04"):
        raise UploadRejected(415, "the file is not a .docx (Word) document")
    if suffix in (".txt", ".md", ".html", ".htm"):
        for encoding in ("utf-8", "gb18030"):
            try:
                content.decode(encoding)
                return
            except UnicodeDecodeError:
                continue
        raise UploadRejected(415, "the text is neither UTF-8 nor GB18030")


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
