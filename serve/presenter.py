"""How answers are shown: the sources panel (HTML), chat messages, the helpdesk's draft reply.
Pure functions of an Answer, so the page stays a thin layer and the formatting is testable."""

from __future__ import annotations

import datetime as dt
import html
import re
import string

from assistant.types import REPHRASE_REASONS, STATUS_LABELS, Answer, Citation, answer_lines
from core.prompts import render
from core.textnorm import clean_input

_MARKER = re.compile(r"\[(\d+)\]")
_HTML_SPECIAL = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Markdown that could make the browser fetch or link something: an image (![), an inline link or a
# reference definition (]( and ]:). Escaping the second character leaves the text as written.
_MARKDOWN_REFERENCE = re.compile(r"(?<=!)\[|(?<=\])[(:]")
# What a GFM renderer (the chat's) turns into a link by itself: a scheme's "://", "www." and an e-mail's "@".
# A backslash before the ":" / "." / "@" leaves the text as written and breaks the autolink.
_AUTOLINK = re.compile(r"(?<=[A-Za-z])(?=://)|(?<=\bwww)(?=\.)|(?<=[\w.+-])(?=@[\w-]+\.)", re.IGNORECASE)
_STREAM_UNIT = re.compile(r"\\.|&#?\w+;|.", re.S)  # an escape or an entity is never cut in two


def highlight(text: str, sentences: tuple[str, ...]) -> str:
    """The clause text, escaped, with the sentences the answer used marked."""
    spans = []
    for sentence in sentences:
        start = text.find(sentence)
        if start >= 0:
            spans.append((start, start + len(sentence)))
    out, position = [], 0
    for start, end in sorted(spans):
        if start < position:
            continue
        out.append(html.escape(text[position:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        position = end
    out.append(html.escape(text[position:]))
    return "".join(out).replace("\n", "<br>")


def source_card(citation: Citation, today: dt.date, related: bool = False) -> str:
    """One cited clause: title, 文号, issuer, clause path, status badge, the clause with used sentences marked;
    ``related``: a clause shown as possibly related to a question no clause answers (not a citation)."""
    clause = citation.clause
    doc = clause.doc
    status = doc.status(today)
    esc = html.escape
    kind, key = ("source related", "相关") if related else ("source", f"[{citation.key}]")
    return (
        f'<div class="{kind}" data-key="{citation.key}" data-clause="{esc(clause.clause_id)}">'
        f'<div class="source-head"><span class="source-key">{key}</span> '
        f'<span class="source-title">《{esc(doc.title)}》</span> '
        f'<span class="badge badge-{status}">{STATUS_LABELS[status]}</span></div>'
        f'<div class="source-meta">文号：{esc(doc.doc_number or "无")}　发文机关：{esc(doc.issuer or "未注明")}　'
        f'条款：<span class="source-path">{esc(clause.clause_path)}</span></div>'
        f'<div class="source-headings">{esc(" > ".join(clause.headings))}</div>'
        f'<div class="source-text">{highlight(clause.text, citation.sentences)}</div></div>'
    )


def sources_panel(answer: Answer | None) -> str:
    """The sources panel beside an answer."""
    if answer is None:
        return '<div class="sources-empty">回答引用的政策条款会显示在这里。</div>'
    if answer.refused and answer.reason in REPHRASE_REASONS:
        return '<div class="sources-empty">本问题没有引用任何政策条款。</div>'
    today = answer.today or dt.date.today()
    if answer.refused and answer.related:
        return ('<div class="sources-empty refusal-note">没有条款直接回答本问题。以下条款可能相关，未作为回答的依据：</div>'
                '<div class="sources">' + "".join(source_card(Citation(i, e.clause), today, related=True)
                                                  for i, e in enumerate(answer.related, 1)) + "</div>")
    if answer.refused:
        return '<div class="sources-empty refusal-note">本问题没有引用任何政策条款：知识库中没有可作依据的内容。</div>'
    return '<div class="sources">' + "".join(source_card(c, today) for c in answer.citations) + "</div>"


def chat_message(answer: Answer) -> str:
    """The answer as a chat message (Markdown); a refusal reads as a refusal, not as an error.
    The answer quotes clauses, so its text is made inert: no HTML, no image, no link."""
    text = inert_markdown(answer.text)
    if answer.refused and answer.reason not in REPHRASE_REASONS:
        return "ℹ️ **未找到政策依据**\n\n" + text
    return text


def inert_markdown(text: str) -> str:
    """Text for a Markdown message that can neither carry HTML nor load or link anything; the [n] markers and
    the rest of the punctuation stay as written (they are what a copied answer shows)."""
    text = html.escape(text).replace("\\", "\\\\")
    text = _MARKDOWN_REFERENCE.sub(lambda found: "\\" + found.group(0), text)
    return _AUTOLINK.sub(lambda _: "\\", text)  # a URL in a quoted clause is shown as text, never as a link


def printable(text: str) -> str:
    """The text without control characters (newline and tab stay), bidirectional overrides, zero-width characters
    or lone surrogates (``core.textnorm.clean_input``)."""
    return clean_input(text)


def literal_markdown(text: str) -> str:
    """Markdown that shows exactly this text: HTML's special characters as entities, every other ASCII
    punctuation mark backslash-escaped, so no emphasis, list, heading, link, image or code can form."""
    return "".join(
        _HTML_SPECIAL.get(ch) or ("\\" + ch if ch in string.punctuation else ch) for ch in text
    )


def user_message(question: str) -> str:
    """The user's own words, shown as typed: HTML or Markdown in a question is never rendered."""
    return literal_markdown(printable(question))


def stream_chunks(text: str, size: int = 12) -> list[str]:
    """Growing prefixes of a message, for showing an answer progressively (an escape or entity is never cut)."""
    ends, position = [], 0
    for count, unit in enumerate(_STREAM_UNIT.findall(text), 1):
        position += len(unit)
        if count % size == 0 and position < len(text):
            ends.append(position)
    return [text[:end] for end in ends] + [text]


def helpdesk_draft(answer: Answer) -> str:
    """A formal reply to an enterprise's written question: salutation, answer, basis clause by clause, closing."""
    question = answer.question.strip()
    if answer.refused and answer.reason in REPHRASE_REASONS:
        return answer.text  # a note to the staff member: the question must be put in Chinese first
    if answer.refused:
        return render("helpdesk_no_basis", question=question)
    body = "\n".join(answer_lines(answer)).strip()
    basis = "\n".join(
        f"{c.key}. {c.clause.reference}：“{c.clause.text.strip()}”"
        for c in answer.citations
    )
    issuers = "、".join(dict.fromkeys(c.clause.doc.issuer for c in answer.citations if c.clause.doc.issuer)) or "发文单位"
    return render("helpdesk_reply", question=question, answer=body, basis=basis, issuers=issuers)


PAGE_CSS = """
.source{border:1px solid #d0d7de;border-radius:8px;padding:10px;margin-bottom:10px;background:#fff}
.source-head{font-weight:600}.source-key{color:#0b5cad}.source-meta,.source-headings{color:#57606a;font-size:0.85em;margin:4px 0}
.source-text{line-height:1.6}.source-text mark{background:#fff3a3;padding:0 1px}
.badge{display:inline-block;font-size:0.75em;padding:1px 8px;border-radius:10px;margin-left:6px;color:#fff}
.badge-in_force{background:#1a7f37}.badge-not_yet_in_force{background:#0969da}.badge-period_ended{background:#8c959f}.badge-draft_for_comment{background:#bf8700}
.sources-empty{color:#57606a}.refusal-note{border-left:4px solid #8c959f;padding-left:8px}
"""
