"""How answers are shown: chat messages with their own sources, the welcome stating what the knowledge base covers,
the sources panel (HTML, the helpdesk's), the helpdesk's draft reply. Pure functions of an Answer or of the indexed
documents, so the page stays a thin layer and the formatting is testable."""

from __future__ import annotations

import datetime as dt
import html
import re
import string

from assistant.types import REPHRASE_REASONS, STATUS_LABELS, Answer, Citation, PolicyDoc, answer_lines, in_script
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


def _card_parts(citation: Citation, today: dt.date, related: bool, script: str = "") -> tuple[str, str]:
    """A clause's head (key, title, clause path, status badge) and body (文号, issuer, headings, the clause with the
    sentences the answer used marked)."""
    clause = citation.clause
    doc = clause.doc
    status = doc.status(today)
    esc = html.escape
    key = in_script("相关", script) if related else f"[{citation.key}]"
    head = (f'<span class="source-key">{key}</span> <span class="source-title">《{esc(doc.title)}》</span> '
            f'<span class="source-path">{esc(clause.clause_path)}</span> '
            f'<span class="badge badge-{status}">{STATUS_LABELS[status]}</span>')
    body = (f'<div class="source-meta">文号：{esc(doc.doc_number or "无")}　发文机关：{esc(doc.issuer or "未注明")}　'
            f'条款：{esc(clause.clause_path)}</div>'
            f'<div class="source-headings">{esc(" > ".join(clause.headings))}</div>'
            f'<div class="source-text">{highlight(clause.text, citation.sentences)}</div>')
    return head, body


def source_card(citation: Citation, today: dt.date, related: bool = False) -> str:
    """One cited clause: title, 文号, issuer, clause path, status badge, the clause with used sentences marked;
    ``related``: a clause shown as possibly related to a question no clause answers (not a citation)."""
    kind = "source related" if related else "source"
    head, body = _card_parts(citation, today, related)
    return (f'<div class="{kind}" data-key="{citation.key}" data-clause="{html.escape(citation.clause.clause_id)}">'
            f'<div class="source-head">{head}</div>{body}</div>')


def source_item(citation: Citation, today: dt.date, anchor: str, related: bool = False, script: str = "") -> str:
    """One clause under its answer: a collapsible whose id the answer's [n] links to (``anchor``-n)."""
    kind = "source related" if related else "source"
    head, body = _card_parts(citation, today, related, script)
    return (f'<details class="{kind}" id="{anchor}-{citation.key}" data-key="{citation.key}" '
            f'data-clause="{html.escape(citation.clause.clause_id)}"><summary class="source-head">{head}</summary>'
            f'{body}</details>')


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


def answer_message(answer: Answer, anchor: str) -> str:
    """The answer as its chat message, keeping its own sources: its lines with each [n] a link to the clause it
    cites, then the cited clauses (collapsible, under the answer); a "not sure" answer's closest clauses under
    可能相关的条款 (never as citations); a refusal's next step. ``anchor`` is unique on the page (one per answer)."""
    script = answer.script
    today = answer.today or dt.date.today()
    keys = {c.key for c in answer.citations}
    text = _MARKER.sub(
        lambda found: (f'<a class="cite" href="#{anchor}-{found.group(1)}" data-key="{found.group(1)}">'
                       f'[{found.group(1)}]</a>') if int(found.group(1)) in keys else found.group(0),
        inert_markdown("\n".join(answer_lines(answer))),
    )
    if answer.refused and answer.reason in REPHRASE_REASONS:
        return text
    if not answer.refused:
        if not answer.citations:
            return text
        items = "".join(source_item(c, today, anchor, script=script) for c in answer.citations)
        title = in_script("来源（点击条目查看条款原文）", script)
        return f'{text}\n\n<div class="answer-sources" data-answer="{anchor}"><div class="sources-title">{title}</div>{items}</div>'
    blocks = [("ℹ️ **没有条款直接回答这个问题**" if answer.related else "ℹ️ **未找到政策依据**") + "\n\n" + text]
    if answer.related:
        items = "".join(source_item(Citation(i, e.clause), today, anchor, related=True, script=script)
                        for i, e in enumerate(answer.related, 1))
        title = in_script("可能相关的条款（未作为回答的依据）", script)
        blocks.append(f'<div class="answer-sources related-sources" data-answer="{anchor}">'
                      f'<div class="sources-title">{title}</div>{items}</div>')
    blocks.append(f'<div class="next-step">{html.escape(in_script(render("refusal_next_step"), script))}</div>')
    return "\n\n".join(blocks)


def welcome(docs: list[PolicyDoc], today: dt.date, limit: int = 12) -> str:
    """The first view of the chat: what the knowledge base covers — its documents with 文号, place and status as of
    ``today`` (the first ``limit`` of them, with the count of the rest) — and what the assistant does with them."""
    esc = html.escape
    if not docs:
        return f'<div class="welcome"><p class="welcome-lead">{esc(render("welcome_empty"))}</p></div>'
    places = list(dict.fromkeys(d.region or "全国" for d in sorted(docs, key=lambda d: d.region or "")))
    named = "、".join(places[:8]) + (f"等 {len(places)} 个地区" if len(places) > 8 else "")
    lead = render("welcome", documents=len(docs), places=named)
    shown = sorted(docs, key=lambda d: (d.region or "", d.title))[:limit]
    items = "".join(
        f'<li class="coverage-doc" data-doc="{esc(d.doc_id)}"><span class="coverage-title">《{esc(d.title)}》</span> '
        f'<span class="coverage-meta">{esc(d.doc_number or "无文号")} · {esc(d.region or "全国")}</span> '
        f'<span class="badge badge-{d.status(today)}">{STATUS_LABELS[d.status(today)]}</span></li>'
        for d in shown
    )
    if len(docs) > limit:
        items += f'<li class="coverage-more">另有 {len(docs) - limit} 份文件</li>'
    return (f'<div class="welcome"><p class="welcome-lead">{esc(lead)}</p>'
            f'<ul class="coverage">{items}</ul></div>')


def restored_message(role: str, text: str) -> dict:
    """A stored message of a conversation shown again after a reload: the asker's words as typed, the answers and
    staff replies as inert text (a staff reply labelled as such)."""
    if role == "user":
        return {"role": "user", "content": user_message(text)}
    label = "**工作人员答复**\n\n" if role == "staff" else ""
    return {"role": "assistant", "content": label + inert_markdown(text)}


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
.badge{display:inline-block;font-size:0.75em;padding:1px 8px;border-radius:10px;margin-left:6px;color:#fff;font-weight:400}
.badge-in_force{background:#1a7f37}.badge-not_yet_in_force{background:#0969da}.badge-period_ended{background:#8c959f}.badge-draft_for_comment{background:#bf8700}
.sources-empty{color:#57606a}.refusal-note{border-left:4px solid #8c959f;padding-left:8px}
.answer-sources{margin-top:6px;border-top:1px solid #d0d7de;padding-top:6px;font-size:0.92em}
.answer-sources .sources-title{color:#57606a;font-size:0.85em;margin-bottom:4px}
.answer-sources details.source{padding:4px 8px;margin-bottom:4px}
.answer-sources details.source summary{cursor:pointer;font-weight:500}
.answer-sources details.source[open]{background:#f6f8fa}
.answer-sources details.source.flash{outline:2px solid #0b5cad}
a.cite{color:#0b5cad;text-decoration:none;font-weight:600}
.next-step{border-left:4px solid #0b5cad;padding:4px 8px;background:#f0f6ff;margin-top:4px}
.welcome{text-align:left;max-width:760px;margin:0 auto;font-size:0.95em}
.welcome-lead{margin:0 0 6px 0}
.welcome ul.coverage{list-style:none;padding:0;margin:0}
.welcome .coverage-doc{padding:3px 0;border-bottom:1px dashed #d0d7de;line-height:1.45}
.welcome .coverage-meta{color:#57606a;font-size:0.85em}
#page-title h2{margin:0}
#feedback-dialog{border:1px solid #0b5cad;border-radius:8px}
#chat .placeholder-content{justify-content:flex-start;overflow-y:auto}
#chat .placeholder{align-items:flex-start}
@media (max-width:640px){
  #page-title h2{font-size:1.2em}
  #page-title p{font-size:0.8em;margin:0}
  .welcome{font-size:0.82em}
  .welcome .coverage-doc{padding:2px 0}
  #chat .examples{display:grid;grid-template-columns:1fr 1fr;gap:6px;padding:4px}
  #chat .examples .example{padding:6px 8px;font-size:0.82em;min-width:0;max-width:none}
}
"""
