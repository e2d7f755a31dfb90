"""Citation keys are checked: a pure function over a draft, the retrieved clause ids and the citations so far."""

from __future__ import annotations

import logging

import pytest

from assistant.checks import check_citations
from assistant.types import Citation, Draft
from index.clauses import split_clauses
from tests.test_clean import RIZHAO
from tests.test_metadata import doc


@pytest.fixture(scope="module")
def clauses():
    a, b, c = split_clauses(doc(RIZHAO))[:3]
    return {"A": a, "B": b, "C": c}


def draft(text, *names, clauses):
    return Draft(text, tuple(clauses[n] for n in names), tuple((f"句{n}",) for n in names))


@pytest.mark.parametrize(
    ("text", "sources", "retrieved", "cited", "expected_text", "expected_keys", "removed"),
    [
        # every key maps to a retrieved clause: nothing changes
        ("甲[1]。乙[2]。", "AB", "AB", "", "甲[1]。乙[2]。", "AB", ()),
        # a marker beyond the draft's sources is removed
        ("甲[1]。丙[7]。", "A", "A", "", "甲[1]。丙。", "A", (7,)),
        # a source that was not retrieved loses its marker and its citation
        ("甲[1]。乙[2]。", "AB", "A", "", "甲[1]。乙。", "A", (2,)),
        # keys continue after an earlier part's citations
        ("乙[1]。丙[2]。", "BC", "ABC", "A", "乙[2]。丙[3]。", "ABC", ()),
        # a clause an earlier part cited keeps its key
        ("甲[1]。丙[2]。", "AC", "ABC", "A", "甲[1]。丙[2]。", "AC", ()),
        ("丙[1]。甲[2]。", "CA", "ABC", "AB", "丙[3]。甲[1]。", "ABC", ()),
    ],
)
def test_citation_keys_are_mapped_renumbered_or_removed(clauses, text, sources, retrieved, cited, expected_text,
                                                        expected_keys, removed):
    prior = tuple(Citation(i, clauses[n], ()) for i, n in enumerate(cited, 1))
    ids = {clauses[n].clause_id for n in retrieved}
    checked = check_citations(draft(text, *sources, clauses=clauses), ids, prior)
    assert checked.text == expected_text
    assert [c.clause.clause_id for c in checked.citations] == [clauses[n].clause_id for n in expected_keys]
    assert [c.key for c in checked.citations] == list(range(1, len(expected_keys) + 1))
    assert checked.removed_keys == removed


def test_a_clause_cited_twice_in_one_draft_gets_one_key(clauses):
    twice = Draft("甲[1]。又[2]。", (clauses["A"], clauses["A"]), (("甲",), ("又",)))
    checked = check_citations(twice, {clauses["A"].clause_id})
    assert checked.text == "甲[1]。又[1]。" and len(checked.citations) == 1


def test_removed_keys_are_logged(clauses, caplog):
    with caplog.at_level(logging.WARNING, logger="assistant.checks"):
        check_citations(draft("甲[1]。乙[2]。", *"AB", clauses=clauses), {clauses["A"].clause_id})
    assert "not retrieved" in caplog.text and "[2] maps to no retrieved clause" in caplog.text


def test_the_quoted_sentences_travel_with_the_citation(clauses):
    checked = check_citations(draft("乙[1]。", *"B", clauses=clauses), {clauses["B"].clause_id})
    assert checked.citations[0].sentences == ("句B",)
