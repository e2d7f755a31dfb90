"""The document and clause types every stage passes along (defined once)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field
from typing import Literal

Status = Literal["draft_for_comment", "not_yet_in_force", "in_force", "period_ended"]

STATUS_LABELS: dict[str, str] = {
    "draft_for_comment": "征求意见稿",
    "not_yet_in_force": "未到实施期",
    "in_force": "有效",
    "period_ended": "实施期已届满",
}


def content_hash(text: str) -> str:
    """Stable short hash of a text, used to detect unchanged documents and clauses."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Period:
    """The years a policy says it covers, e.g. 2022—2025."""

    start: int
    end: int

    def __str__(self) -> str:
        return f"{self.start}—{self.end}"


@dataclass(frozen=True)
class PolicyDoc:
    """One policy document as the product sees it: cleaned text plus metadata."""

    doc_id: str
    title: str
    source: str
    text: str
    content_hash: str
    doc_number: str | None = None
    issuer: str | None = None
    province: str | None = None
    city: str | None = None
    level: str | None = None
    issued_date: dt.date | None = None
    published_date: dt.date | None = None
    period: Period | None = None
    draft: bool = False
    comment_deadline: dt.date | None = None  # until when a draft for comment takes comments
    traditional: bool = False
    defects: tuple[str, ...] = ()

    @property
    def reference(self) -> str:
        """Title and 文号 as cited: 《日照市…行动方案（2022—2025年）》（日政办字〔2022〕10号）."""
        number = f"（{self.doc_number}）" if self.doc_number else ""
        return f"《{self.title}》{number}"

    @property
    def region(self) -> str | None:
        """The most specific place the policy applies to (city, else province)."""
        return self.city or self.province

    def status(self, today: dt.date) -> Status:
        """Status as of ``today``: never frozen at build time. A period covers whole years: 2022—2025 runs
        from 2022-01-01 to 2025-12-31."""
        if self.draft:
            return "draft_for_comment"
        if self.period and today < dt.date(self.period.start, 1, 1):
            return "not_yet_in_force"
        if self.period and today > dt.date(self.period.end, 12, 31):
            return "period_ended"
        return "in_force"

    def metadata(self, today: dt.date) -> dict:
        """Flat, JSON-ready metadata (dates as YYYY-MM-DD)."""
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "doc_number": self.doc_number,
            "issuer": self.issuer,
            "region": self.region,
            "province": self.province,
            "city": self.city,
            "level": self.level,
            "issued_date": self.issued_date.isoformat() if self.issued_date else None,
            "published_date": self.published_date.isoformat() if self.published_date else None,
            "comment_deadline": self.comment_deadline.isoformat() if self.comment_deadline else None,
            "period": str(self.period) if self.period else None,
            "status": self.status(today),
            "traditional": self.traditional,
            "source": self.source,
            "content_hash": self.content_hash,
            "defects": list(self.defects),
        }


@dataclass(frozen=True)
class Clause:
    """A clause of a document, split along the document's own numbering."""

    doc: PolicyDoc
    clause_path: str
    headings: tuple[str, ...]
    text: str
    search_text: str
    span: tuple[int, int]
    part: int = 1
    parts: int = 1
    hash: str = field(default="")
    occurrence: int = 1

    @property
    def clause_id(self) -> str:
        """Unique id: document, path, part, and which occurrence of the path (numbering can restart, e.g. in
        an attachment)."""
        suffix = f"#{self.part}" if self.parts > 1 else ""
        again = f"@{self.occurrence}" if self.occurrence > 1 else ""
        return f"{self.doc.doc_id}:{self.clause_path}{suffix}{again}"

    @property
    def name(self) -> str:
        """Readable citation, e.g. 《日照市…行动方案》三、（一）2."""
        return f"《{self.doc.title}》{self.clause_path}"

    @property
    def reference(self) -> str:
        """Title, 文号 and clause path, as a source line cites them."""
        part = f"（第{self.part}部分）" if self.parts > 1 else ""
        return f"{self.doc.reference}{self.clause_path}{part}"

    def indexed_text(self) -> str:
        """What is embedded and searched: title and heading chain give the clause its context."""
        from core.textnorm import to_simplified

        context = f"{self.doc.title}\n{' > '.join(self.headings)}"
        return f"{to_simplified(context) if self.doc.traditional else context}\n{self.search_text}"

    def record(self, today: dt.date) -> dict:
        """JSON-ready export row: the clause and its document's metadata."""
        row = self.doc.metadata(today)
        row.update(
            clause_id=self.clause_id,
            clause_path=self.clause_path,
            headings=list(self.headings),
            text=self.text,
            search_text=self.search_text,
            span=list(self.span),
            part=self.part,
            parts=self.parts,
            clause_hash=self.hash,
            occurrence=self.occurrence,
        )
        return row


def doc_to_dict(doc: PolicyDoc) -> dict:
    """Serialise a document for the index manifest."""
    data = asdict(doc)
    data["issued_date"] = doc.issued_date.isoformat() if doc.issued_date else None
    data["published_date"] = doc.published_date.isoformat() if doc.published_date else None
    data["comment_deadline"] = doc.comment_deadline.isoformat() if doc.comment_deadline else None
    data["period"] = [doc.period.start, doc.period.end] if doc.period else None
    data["defects"] = list(doc.defects)
    return data


def doc_from_dict(data: dict) -> PolicyDoc:
    """Inverse of :func:`doc_to_dict`."""
    data = dict(data)
    for key in ("issued_date", "published_date", "comment_deadline"):
        data[key] = dt.date.fromisoformat(data[key]) if data.get(key) else None
    data["period"] = Period(*data["period"]) if data.get("period") else None
    data["defects"] = tuple(data.get("defects") or ())
    return PolicyDoc(**data)
