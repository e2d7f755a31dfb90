"""Loaders: one function per file format, each returning the document's raw text."""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.errors import DocumentError

log = logging.getLogger(__name__)

MAX_BYTES = 20 * 1024 * 1024
# Tags whose text is never policy text.
_HTML_DROP = ("script", "style", "noscript", "nav", "header", "footer", "iframe", "form", "button", "select")
_BLOCK_TAGS = ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section", "article")


def decode_text(data: bytes, source: str) -> str:
    """Decode bytes as UTF-8 (or GB18030, common on Chinese portals); refuse binary data."""
    if not data.strip():
        raise DocumentError(source, "empty file")
    if b"\x00" in data[:4096]:
        raise DocumentError(source, "binary data, not text")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DocumentError(source, "not decodable as UTF-8 or GB18030")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > len(text) * 0.01:
        raise DocumentError(source, "binary data, not text")
    return text


def load_text(path: Path) -> str:
    """Plain text or Markdown."""
    return decode_text(path.read_bytes(), path.name)


def load_html(path: Path) -> str:
    """HTML page: visible text of the body, one block a line, without scripts and page chrome."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(decode_text(path.read_bytes(), path.name))
    tree.strip_tags(list(_HTML_DROP))
    for tag in _BLOCK_TAGS:
        for node in tree.css(tag):
            node.insert_after("\n")
    root = tree.body or tree.root
    return root.text(separator="", strip=False) if root else ""


class PackageTooLarge(DocumentError):
    """A .docx that unpacks to more than the limits allow (refused before it is parsed)."""


@dataclass(frozen=True)
class PackageLimits:
    """How much a .docx (a zip of XML parts) may unpack to, checked before it is parsed: a few KB of zip can hold
    hundreds of MB of XML, which python-docx would hold in memory whole."""

    unpacked_bytes: int = 25_000_000
    elements: int = 1_000_000

    @classmethod
    def from_settings(cls, settings) -> PackageLimits:
        return cls(settings.max_docx_unpacked_bytes, settings.max_docx_elements)


def check_docx_package(name: str, source: Path | bytes, limits: PackageLimits) -> None:
    """Raise DocumentError when the package unpacks to more than the limits allow (its parts' sizes as the zip
    declares them, which bound what is read; the XML elements counted by their opening marks while streaming)."""
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as package:
            parts = package.infolist()
            unpacked = sum(part.file_size for part in parts)
            if unpacked > limits.unpacked_bytes:
                raise PackageTooLarge(name, f"unpacks to {unpacked:,} bytes, over the limit of {limits.unpacked_bytes:,} "
                                          "(POLICYQA_MAX_DOCX_UNPACKED_BYTES)")
            elements = 0
            for part in parts:
                if not part.filename.endswith((".xml", ".rels")):
                    continue
                with package.open(part) as stream:
                    while chunk := stream.read(1 << 20):
                        elements += chunk.count(b"<")
                        if elements > limits.elements:
                            raise PackageTooLarge(name, f"holds more than {limits.elements:,} XML elements "
                                                      "(POLICYQA_MAX_DOCX_ELEMENTS)")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError) as exc:
        raise DocumentError(name, f"not a readable .docx file ({exc.__class__.__name__})") from exc


def load_docx(path: Path, limits: PackageLimits | None = None) -> str:
    """Word document: paragraphs and table cells in order (the package checked against ``limits`` first)."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    check_docx_package(path.name, path, limits or PackageLimits())

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise DocumentError(path.name, f"not a readable .docx file ({exc.__class__.__name__})") from exc
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" ".join(cell.text for cell in row.cells))
    return "\n".join(lines)


def load_pdf(path: Path) -> str:
    """PDF with a text layer (scanned PDFs without one are reported as empty)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, ValueError, OSError) as exc:
        raise DocumentError(path.name, f"not a readable PDF ({exc})") from exc


LOADERS: dict[str, Callable[[Path], str]] = {
    ".txt": load_text,
    ".md": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".docx": load_docx,
    ".pdf": load_pdf,
}


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The documents of a corpus folder, by name (the catalog and hidden files are not documents)."""
    return sorted(p for p in corpus_dir.iterdir() if p.is_file() and p.suffix.lower() in LOADERS and not p.name.startswith("."))


def load(path: Path, limits: PackageLimits | None = None) -> str:
    """Raw text of one corpus file; raises DocumentError when it cannot be read."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise DocumentError(path.name, f"unsupported file type {path.suffix!r}")
    if path.stat().st_size > MAX_BYTES:
        raise DocumentError(path.name, f"larger than {MAX_BYTES // 1024 // 1024} MB")
    text = load_docx(path, limits) if loader is load_docx else loader(path)
    if not text.strip():
        raise DocumentError(path.name, "no text could be extracted")
    return text
