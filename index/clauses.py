"""Clause splitting along the document's own numbering: 一、 / （一） / 1. and 第X章 / 第X条.

Each clause knows its clause path (``三、（一）2`` or ``第十五条``), its heading chain and its character span in
the cleaned text. A heading with (almost) no body of its own is folded into its children's heading chain; a
clause longer than the limit is split into parts at sentence ends, every part keeping the heading chain.
A numbered item whose line is a provision (``（一）对首次认定的企业最高补助35万元。``) is clause text that answers
can quote, never only a heading; a title (``一、总体要求``) stays a heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from core.textnorm import to_simplified
from core.types import Clause, PolicyDoc, content_hash
from index.clean import restore_cjk_punctuation
from index.numbering import MARKERS

PREAMBLE = "前言"
_FOLD_BELOW = 40  # a parent's own text shorter than this joins its children's heading chain
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|(?<=\n)")
_TITLE_MAX = 30  # an item title's words are at most this long (the seeds' longest: 23)
_PREVIEW = 20  # a provision's heading: its first characters, then …
_SENTENCE_ENDS = "。；;"
_TITLE_SPLIT = re.compile(r"。|\s+")
_PAIRS = ("《》", "（）", "()", "“”", "〔〕", "〈〉")
# Words a title does not hold: a figure with its unit, a condition (…的，), a provision's opening 对/凡/按照.
_PROVISION = re.compile(
    r"(?<![\d.])\d+(?:\.\d+)?\s*(?:万|亿|元|%|％|家|户|个|名|人|倍|项|天)|的[，,]|^(?:对(?![接外标口话])|凡|按照)"
)


@dataclass
class _Node:
    kind: str
    level: int
    marker: str
    heading: str
    start: int
    end: int
    parents: list[_Node] = field(default_factory=list)
    children: int = 0
    marker_length: int = 0
    carries_text: bool = False  # the first line is clause text, not only a heading: never folded away


def _match_marker(line: str) -> tuple[str, int, str, int] | None:
    """The numbering a line starts with: kind, level, marker as used in clause paths, and its length."""
    for kind, level, pattern in MARKERS:
        match = pattern.match(line)
        if match:
            if kind == "l3":
                marker = match.group(1)
            elif kind == "l2":
                marker = "（" + match.group(0)[1:-1] + "）"
            else:
                marker = match.group(0)
            return kind, level, marker, match.end()
    return None


def _heading(line: str) -> str:
    """The heading part of a chapter's or section's first line: the whole of a short line, else up to the
    first 。 (with official full-width punctuation, for display; the clause text itself stays verbatim)."""
    stripped = restore_cjk_punctuation(line.strip())
    if len(stripped) <= 40 and "。" not in stripped[:-1]:
        return stripped.rstrip("。")
    stop = stripped.find("。")
    if 0 < stop <= 50:
        return stripped[:stop]
    return stripped[:_PREVIEW] + "…"


def reads_as_title(phrase: str) -> bool:
    """Whether the words after an item's number read as a title (总体要求, 加强组织领导。) rather than a
    provision (对首次认定的企业最高补助35万元。, 营业执照副本复印件；)."""
    body = phrase.strip().rstrip("。")
    if body.endswith(("？", "?")):
        return True  # a question (the notices' Q&A items): its answer follows
    return (
        0 < len(body) <= _TITLE_MAX
        and not body.endswith(("；", ";"))
        and not _PROVISION.search(body)
        and _balanced(body)
    )


def _balanced(text: str) -> bool:
    """Whether every bracket and quote opened in ``text`` is closed (a title is never cut inside 《…》)."""
    return all(text.count(opening) == text.count(closing) for opening, closing in _PAIRS)


def _title_and_rest(words: str) -> tuple[str, str]:
    """An item's words split after a leading title phrase, when a sentence follows it on the same line
    (``实行激励奖补政策。对…`` or, where the page lost its line break, ``支持疫情防控物资供应 对…``)."""
    for split in _TITLE_SPLIT.finditer(words):
        title, after = words[: split.start()], words[split.end() :].strip()
        if not _balanced(title):
            continue
        if after and (split.group() == "。" or after[-1] in _SENTENCE_ENDS or len(after) > _TITLE_MAX):
            return title, after
        break
    return words, ""


def item_line(line: str, marker_length: int, alone: bool) -> tuple[str, bool]:
    """The heading of a numbered item's first line and whether that line is clause text answers may quote.

    A title (``一、总体要求``, ``（一）指导思想。`` followed by its body) is only a heading. A provision
    (``（一）对首次认定的企业最高补助35万元。``) is clause text, headed by its number and, if long, its first
    words; so is a title followed by a sentence on the same line, headed by the title. ``alone``: the item has
    neither body nor sub-items, so a line ending like a sentence is one.
    """
    display = restore_cjk_punctuation(line.strip())
    number, words = display[:marker_length], display[marker_length:].strip()
    title, after = _title_and_rest(words)
    if after and reads_as_title(title):
        return number + title, True
    if not after and reads_as_title(words) and not (alone and words[-1] in _SENTENCE_ENDS):
        return display.rstrip("。"), False
    return (display[:_PREVIEW] + "…" if len(display) > _PREVIEW else number), True


def _path(node: _Node) -> str:
    if node.kind == "preamble":
        return PREAMBLE
    if node.kind in ("chapter", "section", "article"):
        return node.marker if node.kind == "article" else " ".join(p.marker for p in node.parents + [node])
    return "".join(p.marker for p in node.parents if p.kind not in ("chapter", "section")) + node.marker


def _pieces(text: str, max_chars: int) -> list[tuple[int, int]]:
    """Spans of sentences (or, for an over-long sentence, of comma-separated phrases) in ``text``."""
    bounds = [0] + [m.start() for m in _SENTENCE_END.finditer(text) if 0 < m.start() < len(text)] + [len(text)]
    spans: list[tuple[int, int]] = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        if end - start <= max_chars:
            spans.append((start, end))
            continue
        cuts = [start] + [start + m.end() for m in re.finditer(r"[，,、]", text[start:end])] + [end]
        piece_start = start
        for prev, cut in zip(cuts, cuts[1:], strict=False):
            if cut - piece_start > max_chars and prev > piece_start:
                spans.append((piece_start, prev))
                piece_start = prev
        while end - piece_start > max_chars:  # a phrase with no comma at all: hard cut
            spans.append((piece_start, piece_start + max_chars))
            piece_start += max_chars
        spans.append((piece_start, end))
    return spans


def pack(text: str, max_chars: int) -> list[tuple[int, int]]:
    """Group sentence spans into parts of at most ``max_chars`` characters."""
    if len(text) <= max_chars:
        return [(0, len(text))]
    parts: list[tuple[int, int]] = []
    for start, end in _pieces(text, max_chars):
        if parts and end - parts[-1][0] <= max_chars:
            parts[-1] = (parts[-1][0], end)
        else:
            parts.append((start, end))
    return parts


def _nodes(text: str) -> list[_Node]:
    nodes: list[_Node] = []
    stack: list[_Node] = []
    offset = 0
    current = _Node("preamble", -1, "", PREAMBLE, 0, 0)
    for line in text.split("\n"):
        start, end = offset, offset + len(line)
        offset = end + 1
        if not line.strip():
            continue
        marker = _match_marker(line)
        in_article = any(node.kind == "article" for node in stack)
        if marker and not (in_article and marker[1] > 2):
            kind, level, mark, length = marker
            while stack and stack[-1].level >= level:
                stack.pop()
            for parent in stack:
                parent.children += 1
            heading = mark if kind == "article" else _heading(line)
            current = _Node(kind, level, mark, heading, start, end, parents=list(stack), marker_length=length)
            stack.append(current)
            nodes.append(current)
        else:
            if current.kind == "preamble" and not nodes:
                nodes.append(current)
                current.start = start
            current.end = end
    return nodes


def split_clauses(doc: PolicyDoc, max_chars: int = 500) -> list[Clause]:
    """Split a document's cleaned text into clauses (a pure function of the text and the limit)."""
    text = doc.text
    nodes = _nodes(text)
    for node in nodes:
        if node.kind in ("l1", "l2", "l3"):
            first_line = text[node.start : node.end].split("\n", 1)[0]
            alone = not node.children and len(first_line) == node.end - node.start
            node.heading, node.carries_text = item_line(first_line, node.marker_length, alone)
    for node in nodes:
        own = text[node.start : node.end]
        if node.children and len(own) < _FOLD_BELOW and not node.carries_text:
            node.heading = restore_cjk_punctuation(own.replace("\n", " ")).rstrip("。：:")
    clauses: list[Clause] = []
    occurrences: dict[str, int] = {}
    for node in nodes:
        own = text[node.start : node.end]
        if node.children and len(own) < _FOLD_BELOW and not node.carries_text:
            continue
        headings = tuple(p.heading for p in node.parents) + (node.heading,)
        path = _path(node)
        occurrences[path] = occurrences.get(path, 0) + 1
        spans = pack(own, max_chars)
        for number, (start, end) in enumerate(spans, 1):
            body = own[start:end].strip()
            lead = len(own[start:end]) - len(own[start:end].lstrip())
            span = (node.start + start + lead, node.start + start + lead + len(body))
            if not body:
                continue
            search_text = to_simplified(body) if doc.traditional else body
            clause = Clause(doc, path, headings, body, search_text, span, number, len(spans),
                            occurrence=occurrences[path])
            clauses.append(_with_hash(clause))
    return clauses


def _with_hash(clause: Clause) -> Clause:
    return replace(clause, hash=content_hash(clause.indexed_text()))
