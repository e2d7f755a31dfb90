"""An answer in several parts: one for each place a question names (their rankings interleaved), or, for a
question that names no place, one for each document whose own clauses support an answer."""

from __future__ import annotations

from dataclasses import replace

from assistant.decide import decide_other_document
from assistant.generators import Generator
from assistant.retrieval.knowledge import KnowledgeBase
from assistant.support import ClauseSupport, EvidenceSupport, Thresholds
from assistant.types import Draft, Evidence, Query


def interleave(lists: list[list[Evidence]]) -> list[Evidence]:
    """Merge per-region rankings round-robin (so each region's best clauses are near the top), re-ranked."""
    if len(lists) == 1:
        return lists[0]
    merged: list[Evidence] = []
    seen: set[str] = set()
    for rank in range(max((len(x) for x in lists), default=0)):
        for evidence in lists:
            if rank < len(evidence) and evidence[rank].clause.clause_id not in seen:
                seen.add(evidence[rank].clause.clause_id)
                merged.append(replace(evidence[rank], rank=len(merged) + 1))
    return merged


def with_other_documents(drafts: list[tuple[str, Draft]], evidence: list[Evidence], query: Query, skip: set[str], *,
                         kb: KnowledgeBase, generator: Generator, search_text: str, support: EvidenceSupport,
                         clause_support: ClauseSupport, thresholds: Thresholds,
                         ) -> tuple[list[tuple[str, Draft]], list[Evidence]]:
    """The answer to a question that names no place, with a part for each other document that answers it too,
    each part labelled by its document's region; and the ranking shown with it. ``drafts`` and ``evidence`` as
    they are when no other document answers. ``search_text``: the question's."""
    first = drafts[0][1]
    others, more = other_documents(query, evidence, skip, {c.doc.doc_id for c in first.sources}, kb=kb,
                                   generator=generator, search_text=search_text, support=support,
                                   clause_support=clause_support, thresholds=thresholds)
    if not others:
        return drafts, evidence
    # The ranking shown with the answer: the question's own, then what the other parts rest on.
    known = {e.clause.clause_id for e in evidence}
    extra = _distinct([e for own in more for e in own if e.clause.clause_id not in known])
    evidence = evidence + [replace(e, rank=len(evidence) + i) for i, e in enumerate(extra, 1)]
    return _labelled([first, *(draft for _, draft in others)]), evidence


def other_documents(query: Query, evidence: list[Evidence], skip: set[str], answered: set[str], *,
                    kb: KnowledgeBase, generator: Generator, search_text: str, support: EvidenceSupport,
                    clause_support: ClauseSupport, thresholds: Thresholds,
                    ) -> tuple[list[tuple[str, Draft]], list[list[Evidence]]]:
    """A question that names no place may be answered by several documents: one part for each document
    not yet ``answered`` among the best-ranked ones whose own best clauses support an answer (each
    document searched on its own, so its best clause is found even when another document fills the top
    of the ranking). Whether a document adds its part is ``assistant.decide.decide_other_document``'s to say.
    Returns the parts and, for each, the evidence it rests on."""
    if not evidence:
        return [], []
    wide = kb.search(search_text, thresholds.other_document_depth)
    candidates = [d for d in dict.fromkeys(e.clause.doc.doc_id for e in wide) if d not in answered]
    parts: list[tuple[str, Draft]] = []
    used: list[list[Evidence]] = []
    needed = thresholds.min_support_other_document
    for doc_id in candidates:
        if len(parts) >= thresholds.max_other_documents:
            break
        own = kb.search(search_text, 4, doc_ids=(doc_id,))
        if not own or not decide_other_document(support(query.text, own, skip), needed).answers:
            continue
        draft = generator.answer(query, own)
        # The part must rest on a clause that itself supports it, not only on the document's best ones.
        if draft.sources and decide_other_document(clause_support(query.text, list(draft.sources), skip),
                                                   needed).answers:
            parts.append(("", draft))
            used.append(own)
    return parts, used


def _distinct(evidence: list[Evidence]) -> list[Evidence]:
    """The evidence with each clause once (its first occurrence)."""
    seen: set[str] = set()
    return [e for e in evidence if not (e.clause.clause_id in seen or seen.add(e.clause.clause_id))]


def _labelled(drafts: list[Draft]) -> list[tuple[str, Draft]]:
    """The parts of a several-document answer, each introduced by its document's region, and by its title too
    where two documents of one region answer."""
    regions = [d.sources[0].doc.region or "全国" for d in drafts]
    return [(region if regions.count(region) == 1 else f"{region}《{d.sources[0].doc.title}》", d)
            for region, d in zip(regions, drafts, strict=True)]
