"""A place's answer from documents filed elsewhere: when the documents of the place a question names do not
answer, a document filed under another region (or none) may still be about that place, such as a report on 重庆
published in 浙江. Only documents whose text names the place are considered, and they answer only when the chain's
one decision on their ranking says so (``decide``: ``assistant.decide``, the fitted model)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from assistant.decide import Decision
from assistant.generators import Generator
from assistant.retrieval.knowledge import KnowledgeBase
from assistant.types import Draft, Evidence, Query
from index.gazetteer import Place


def about_the_place(query: Query, places: tuple[Place, ...], skip: set[str], evidence: list[Evidence],
                    searched: set[str], *, kb: KnowledgeBase, generator: Generator, search_text: str, top_k: int,
                    decide: Callable[[str, list[Evidence], set[str]], Decision],
                    ) -> tuple[list[tuple[str, Draft]], list[Evidence]]:
    """The answer from documents not yet ``searched`` that name one of ``places``, and the ranking shown with it;
    no part and ``evidence`` as it is when none supports an answer. ``search_text``: the question's."""
    names = {n for p in places for n in (p.name, p.short) if len(n) >= 2}
    wide = kb.search(search_text, top_k)
    about = [e for e in wide if e.clause.doc.doc_id not in searched and any(n in e.clause.doc.text for n in names)]
    if not about or not decide(query.text, about, skip).answers:
        return [], evidence
    draft = generator.answer(query, about)
    if not draft.sources:
        return [], evidence
    # The answer rests on the documents about the place; the place's own ranking follows them.
    seen = {e.clause.clause_id for e in about}
    rest = [e for e in evidence if e.clause.clause_id not in seen]
    return [("", draft)], [replace(e, rank=i) for i, e in enumerate(about + rest, 1)]
