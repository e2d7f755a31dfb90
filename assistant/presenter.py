"""How answers are shown: the sources panel (HTML), chat messages, the helpdesk's draft reply.
Pure functions of an Answer, so the page stays a thin layer and the formatting is testable."""

from __future__ import annotations

import datetime as dt
import html
import re

from assistant.prompts import render
from assistant.types import STATUS_LABELS, Answer, Citation

_MARKER = re.compile(r"\[(\d+)\]")


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


def source_card(citation: Citation, today: dt.date) -> str:
    """One cited clause: title, 文号, issuer, clause path, status badge, the clause with used sentences marked."""
    clause = citation.clause
    doc = clause.doc
    status = doc.status(today)
    esc = html.escape
    return (
        f'<div class="source" data-key="{citation.key}" data-clause="{esc(clause.clause_id)}">'
        f'<div class="source-head"><span class="source-key">[{citation.key}]</span> '
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
    if answer.refused:
        return '<div class="sources-empty refusal-note">本问题没有引用任何政策条款：知识库中没有可作依据的内容。</div>'
    today = answer.today or dt.date.today()
    return '<div class="sources">' + "".join(source_card(c, today) for c in answer.citations) + "</div>"


def chat_message(answer: Answer) -> str:
    """The answer as a chat message (Markdown); a refusal reads as a refusal, not as an error."""
    text = html.escape(answer.text)
    if answer.refused:
        return "ℹ️ **未找到政策依据**\n\n" + text
    return text


def user_message(question: str) -> str:
    """The user's own words, shown as text: HTML or script in a question is never rendered."""
    return html.escape(question)


def stream_chunks(text: str, size: int = 12) -> list[str]:
    """Growing prefixes of a message, for showing an answer progressively."""
    return [text[:end] for end in range(size, len(text), size)] + [text]


def helpdesk_draft(answer: Answer) -> str:
    """A formal reply to an enterprise's written question: salutation, answer, basis clause by clause, closing."""
    question = answer.question.strip()
    if answer.refused:
        return render("helpdesk_no_basis", question=question)
    body = answer.text.split("\n来源：")[0].split("\n來源：")[0].strip()
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
