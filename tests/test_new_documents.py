"""Documents the rules were not written on, end to end: a knowledge base of the seeds plus the nine laws of
``../shared/extra-corpus`` built in a data directory of its own (as ``assistant eval --corpus`` builds it), and the
colloquial questions about those laws in ``qa/laws-colloquial.jsonl`` (written by someone who saw no code; not
fitted on). Needs ``../shared`` beside the project, as CI has it."""

from __future__ import annotations

import pytest

from evaluation.knowledge_bases import build_knowledge_base
from evaluation.runner import evaluate
from index.embeddings import make_embedder
from serve.factory import make_assistant
from tests.conftest import ROOT, TODAY

pytestmark = pytest.mark.slow
SHARED = ROOT.parent / "shared"
# Measured with the fitted decision (README, "The decision"): 24/48 right, 12/12 unanswerable handled, 17 answerable
# refused; each floor two cases from the figure, for the CPUs' spread (issue 15, item 7).
LAWS_ACCURACY = 22 / 48
LAWS_UNANSWERABLE_REFUSED = 10 / 12
LAWS_ANSWERABLE_REFUSED = 19 / 48


@pytest.fixture(scope="module")
def laws(tmp_path_factory):
    if not (SHARED / "extra-corpus").is_dir():
        pytest.skip(f"benchmark data not beside the project: {SHARED / 'extra-corpus'}")
    from core.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("laws-data"), today=TODAY)
    embedder = make_embedder(settings)
    kb = build_knowledge_base(settings, [ROOT / "corpus", SHARED / "extra-corpus"],
                              tmp_path_factory.mktemp("laws-kb"), embedder)
    return make_assistant(kb, embedder)


def test_the_laws_knowledge_base_holds_the_seeds_and_the_nine_laws(laws):
    laws.refresh()
    assert len(laws.kb.docs) == 14
    assert any("中小企业促进法" in d.title for d in laws.kb.docs)


def test_colloquial_questions_about_the_laws_meet_their_floors(laws, tmp_path):
    run = evaluate(laws, ROOT / "qa" / "laws-colloquial.jsonl", tmp_path / "laws.jsonl")
    overall = run["scores"]["overall"]
    # Measured: see the README's table; each floor sits two cases or more below the figure, for the CPUs' spread.
    assert overall["answer_accuracy"] >= LAWS_ACCURACY
    assert overall["unanswerable_refused"] >= LAWS_UNANSWERABLE_REFUSED
    assert overall["answerable_refused"] <= LAWS_ANSWERABLE_REFUSED


def test_a_law_question_no_clause_answers_directly_lists_the_closest_clauses_as_related(laws):
    answer = laws.ask("上海创立不到18个月的小企业申请房租补贴，每平米每天补多少钱？一年最多补多少？")
    assert answer.refused and not answer.citations
    assert answer.related and len(answer.related) <= 3
    assert all(e.clause.reference in answer.text for e in answer.related)
