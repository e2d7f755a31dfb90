"""Questions about a policy's status ("还有效吗?", "是征求意见稿吗?"): answered from the document's metadata,
citing the clause that carries its title and period (``status_drafts``), unless a clause states the period asked
about (``period_in_text``)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import yaml

from assistant.retrieval.knowledge import KnowledgeBase
from assistant.retrieval.lexical import bigrams
from assistant.types import Clause, Draft, Evidence, PolicyDoc
from core.prompts import render
from core.textnorm import to_simplified

RULES_PATH = Path(__file__).parent / "rules" / "status.yaml"


def _cues(key: str) -> re.Pattern:
    """One pattern of the ``key`` cues of ``rules/status.yaml`` (any of them)."""
    data = yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))
    return re.compile("|".join(f"(?:{cue})" for cue in data[key]))


_ASKS_STATUS = _cues("asks_status")
_ASKS_DATE = _cues("asks_date")
_A_DOCUMENT = _cues("document")

# A question asking what a period is ("执行期限是怎样的?"), not whether a policy is still in it ("还在实施期内吗?").
_PERIOD_WORDS = re.compile(
    r"(有效期限|有效期|执行期限|实施期限|执行期|实施期|执行时间|实施时间|截止时间|截止日期|期限)(?=是|为|有多|多长|多少|几|怎样|怎么|如何|到哪)"
)

# "这个文件还有效吗?": a question about the document the conversation was about.
_REFERS_BACK = re.compile(r"这个|这份|这项|这条|该(文件|政策|方案|意见|计划|办法)|此(文件|政策)|它|上面|刚才|前面")

MAX_STATUS_DOCUMENTS = 3  # "重庆的政策还有效吗?" names each of a few documents; beyond that, the best match


def asks_date(question: str) -> bool:
    """Whether the question asks when a policy was issued or published."""
    return bool(_ASKS_DATE.search(question))


def dates(doc: PolicyDoc) -> str:
    """One sentence on when a document was written and published, as far as the knowledge base knows."""
    parts = []
    if doc.issued_date:
        parts.append(render("date_issued", date=f"{doc.issued_date:%Y年%m月%d日}"))
    if doc.published_date:
        parts.append(render("date_published", date=f"{doc.published_date:%Y年%m月%d日}"))
    if doc.issuer:
        parts.append(render("date_issuer", issuer=doc.issuer))
    return "，".join(parts) + "。" if parts else render("date_unknown")


# A status question is about a document ("日照的行动方案还有效吗?", "这个还管用吗?") or about nothing else it names
# ("现在还有效吗?"). "健康申报证明有效期至什么时候?" asks about a certificate: a clause answers it.
_FILLER = re.compile(r"现在|目前|请问|你好|吗|呢|吧|了|的|么|那|啊")
_MAX_OTHER_CHARACTERS = 6  # a place or a short topic ("吉林的", "专精特新") is not another subject


def asks_status(question: str) -> bool:
    """Whether the question is about a policy's validity rather than its content."""
    if not _ASKS_STATUS.search(question):
        return False
    if _A_DOCUMENT.search(question):
        return True
    rest = _FILLER.sub("", _ASKS_STATUS.sub("", question))
    return len(re.findall(r"[\u4e00-\u9fff]", rest)) <= _MAX_OTHER_CHARACTERS


def refers_back(question: str) -> bool:
    """Whether a status question points back at a document ("这个文件还有效吗?", "它到期了吗?")."""
    return bool(_REFERS_BACK.search(question))


def status_documents(named: tuple[str, ...], cited: tuple[str, ...], *, referred: bool,
                     allowed: tuple[str, ...] | None) -> tuple[str, ...]:
    """The documents a status question is about: those the previous answer ``cited`` when it points back at one
    (``referred``), else those of the places it names; within the documents a filter ``allowed`` (None: no filter;
    no document meant: all it allows). Empty: the best match of the question's words."""
    documents = cited if referred else named
    if allowed is not None:
        documents = tuple(d for d in (documents or allowed) if d in allowed)
    return documents


def explain(doc: PolicyDoc, today: dt.date) -> str:
    """One sentence on a document's status as of ``today``."""
    status = doc.status(today)
    on = f"{today:%Y年%m月%d日}"
    if status == "draft_for_comment":
        published = f"（{doc.published_date:%Y年%m月%d日}发布征求意见）" if doc.published_date else ""
        said = render("status_is_draft", published=published)
        if doc.comment_deadline:
            name = "status_comment_closed" if today > doc.comment_deadline else "status_comment_open"
            said += render(name, deadline=f"{doc.comment_deadline:%Y年%m月%d日}", today=on)
        return said
    if status == "period_ended":
        return render("status_is_ended", period=str(doc.period), today=on)
    if status == "not_yet_in_force":
        return render("status_is_not_yet", period=str(doc.period), today=on, start=doc.period.start)
    if doc.period:
        return render("status_in_period", period=str(doc.period), today=on)
    return render("status_no_period", today=on)


def note(doc: PolicyDoc, today: dt.date) -> str:
    """The warning an answer quoting this document carries, if any (征求意见稿, period not begun or ended)."""
    status = doc.status(today)
    on = f"{today:%Y年%m月%d日}"
    if status == "draft_for_comment":
        return render("status_draft", title=doc.title)
    if status == "not_yet_in_force":
        return render("status_not_yet", title=doc.title, period=str(doc.period), today=on, start=doc.period.start)
    if status == "period_ended":
        return render("status_ended", title=doc.title, period=str(doc.period), today=on)
    return ""


def title_clause(doc: PolicyDoc, clauses: list[Clause]) -> Clause | None:
    """The clause a status answer cites: the one naming the document's title (its first clause)."""
    own = [c for c in clauses if c.doc.doc_id == doc.doc_id]
    return next((c for c in own if doc.title[:8] in c.text), own[0] if own else None)


def status_drafts(question: str, doc_ids: tuple[str, ...], today: dt.date, *, kb: KnowledgeBase, top_k: int,
                  about_dates: bool = False) -> tuple[list[tuple[str, Draft]], list[Evidence]] | None:
    """The status (or dates) of the documents the question names, by place or by the best match of its words, one
    part each citing its title clause; and the ranking shown with them. None when nothing is found."""
    evidence = kb.search(question, top_k, doc_ids=doc_ids or None)
    if not evidence:
        return None
    docs = [kb.docs_by_id[d] for d in doc_ids] if doc_ids else [evidence[0].clause.doc]
    named = [d for d in docs if _title_share(d.title, question) >= 0.5]  # the question names a document
    if not named and len(docs) > MAX_STATUS_DOCUMENTS:
        # A place with many notices: the one the question's words find, not a list of every notice there.
        docs = [evidence[0].clause.doc]
    docs = named or docs
    drafts = []
    for doc in docs:
        clause = title_clause(doc, kb.clauses)
        if clause is None:
            continue
        said = dates(doc) if about_dates else explain(doc, today)
        drafts.append(("", Draft(f"{doc.reference}：{said}[1]", (clause,), ((),))))
    cited = {c.clause_id for _, d in drafts for c in d.sources}
    evidence = [e for e in evidence if e.clause.clause_id not in cited]
    top = [Evidence(c, 1.0, i + 1) for i, c in enumerate(c for _, d in drafts for c in d.sources)]
    return drafts, top + evidence


def period_in_text(question: str, doc_ids: tuple[str, ...], *, kb: KnowledgeBase, search_text: str) -> bool:
    """Whether a question about a period ("…零收费政策的执行期限是怎样的?") is answered by a clause that states
    it, rather than by a document's status: the best clause names the very period word asked about.
    ``search_text``: the question's."""
    asked = _PERIOD_WORDS.findall(question)
    if not asked:
        return False
    evidence = kb.search(search_text, 1, doc_ids=doc_ids or None)
    return bool(evidence) and any(word in to_simplified(evidence[0].clause.text) for word in asked)


def _title_share(title: str, question: str) -> float:
    """Share of a title's bigrams that the question repeats."""
    grams = set(bigrams(title))
    return len(grams & set(bigrams(question))) / len(grams) if grams else 0.0
