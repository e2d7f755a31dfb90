"""The one decision (``assistant.decide``): the fitted model file, its arithmetic, its features, and the "not sure"
answer a question gets when the model finds no clause that answers it directly."""

from __future__ import annotations

import json
import math

import pytest

from assistant.decide import MODEL_PATH, Action, DecisionModel, features, load_model
from assistant.support import SupportMeasure
from assistant.types import Clause, Evidence
from tests.test_extractive import DOC


def _evidence(*scores: dict[str, float]) -> list[Evidence]:
    clauses = [Clause(doc=DOC, clause_path=f"{i}.", headings=(), text=f"内容{i}。", search_text=f"内容{i}。", span=(0, 4))
               for i in range(1, len(scores) + 1)]
    return [Evidence(c, 1.0 - i / 10, i, s) for i, (c, s) in enumerate(zip(clauses, scores, strict=True), 1)]


def test_the_committed_model_names_the_features_the_chain_computes():
    model = load_model()
    computed = features(SupportMeasure(), SupportMeasure(), _evidence({"bm25": 1, "dense": 0.9}), 100, False)
    assert set(model.names) <= set(computed)  # the chain computes every feature the model weighs
    assert 0.0 < model.threshold < 1.0
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert data["made_by"].startswith("scripts/fit_decision.py")
    assert data["cross_validated"]  # the figures of each set from a model not fitted on it travel with the model


def test_the_probability_is_the_logistic_of_the_standardised_features():
    model = DecisionModel(("a", "b"), (1.0, 0.0), (2.0, 1.0), (4.0, -1.0), 0.5, 0.6)
    z = 0.5 + 4.0 * (3.0 - 1.0) / 2.0 - 1.0 * 2.0
    assert model.probability({"a": 3.0, "b": 2.0}) == pytest.approx(1 / (1 + math.exp(-z)))
    assert model.probability({"a": 1e9, "b": 0.0}) == pytest.approx(1.0)  # no overflow


@pytest.mark.parametrize(("support", "evidence", "action"), [
    (0.9, True, Action.ANSWER),
    (0.1, True, Action.NOT_SURE),  # clauses were found, none answers: the closest may still help
    (0.1, False, Action.REFUSE),  # nothing retrieved at all
])
def test_below_the_threshold_is_not_sure_when_clauses_were_retrieved(support, evidence, action):
    model = DecisionModel(("support",), (0.0,), (1.0,), (10.0,), -5.0, 0.5)
    ranked = _evidence({"bm25": 1.0}) if evidence else []
    decision = model.decide({"support": support}, ranked)
    assert decision.action is action
    assert decision.answers is (action is Action.ANSWER)
    assert decision.record()["action"] == str(action)


def test_retrievers_count_by_whether_they_rank_the_first_clause_best_not_by_their_scale():
    agree = _evidence({"bm25": 9.0, "dense": 0.91, "cover": 0.8}, {"bm25": 3.0, "dense": 0.85, "cover": 0.4})
    scaled = _evidence({"bm25": 9.0, "dense": 0.31, "cover": 0.8}, {"bm25": 3.0, "dense": 0.25, "cover": 0.4})
    differ = _evidence({"bm25": 9.0, "dense": 0.80, "cover": 0.8}, {"bm25": 3.0, "dense": 0.85, "cover": 0.4})
    f = [features(SupportMeasure(0.5, terms=4), SupportMeasure(0.5, terms=4), e, 100, False)
         for e in (agree, scaled, differ)]
    used = load_model().names
    # Another embedder's similarities on another scale: the same features, as far as the model uses them.
    assert {n: f[0][n] for n in used} == pytest.approx({n: f[1][n] for n in used})
    assert "dense_top" not in used
    assert (f[0]["agreed"], f[2]["agreed"], f[2]["bm25_first"], f[2]["dense_first"]) == (1.0, 0.0, 1.0, 0.0)


def test_a_follow_up_answered_from_a_clause_off_the_question_it_follows_weighs_less():
    # Fitted, not a rule: the committed model weighs how much of the question followed the clause leaves out.
    model = load_model()
    assert "context_missing" in model.names
    typical = dict(zip(model.names, model.mean, strict=True)) | {"follow_up": 1.0}
    on, off = (model.probability(typical | {"context_missing": missing}) for missing in (0.0, 0.6))
    assert off < on


@pytest.mark.parametrize(("values", "action", "rule"), [
    # Every asked word in the first clause, none unknown, nothing wanted missing: answered whatever the model says.
    ({"support": 0.0, "support_first": 1.0, "unseen": 0.0, "kind_missing": 0.0}, Action.ANSWER,
     "first_clause_holds_the_question"),
    ({"support": 0.0, "support_first": 1.0, "unseen": 0.2, "kind_missing": 0.0}, Action.NOT_SURE, ""),
    ({"support": 0.0, "support_first": 1.0, "unseen": 0.0, "kind_missing": 1.0}, Action.NOT_SURE, ""),
    ({"support": 0.0, "support_first": 0.8, "unseen": 0.0, "kind_missing": 0.0}, Action.NOT_SURE, ""),
])
def test_a_question_the_first_clause_holds_whole_is_answered(values, action, rule):
    from assistant.decide import decide

    model = DecisionModel(("support",), (0.0,), (1.0,), (10.0,), -5.0, 0.5)
    decision = decide(model, values, _evidence({"bm25": 1.0}))
    assert (decision.action, decision.rule) == (action, rule)


def _fit_script():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "scripts" / "fit_decision.py"
    spec = importlib.util.spec_from_file_location("fit_decision", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(answerable: bool, right: bool, name: str = "held") -> dict:
    return {"set": name, "answerable": answerable, "right": right, "ruled": False, "features": {}}


def test_the_threshold_keeps_unanswerable_questions_of_every_set_refused_and_answers_most_held_out_ones():
    fit = _fit_script()
    held = [_row(True, True), _row(True, True), _row(False, False)]
    p = [0.3, 0.6, 0.4]
    # On the held-out rows alone the one unanswerable question (0.4) must be refused: above 0.4, one answer is lost.
    assert fit.choose_threshold(held, p) == 0.6
    # Nine more unanswerable questions of the fitted sets, refused at any threshold: one answered of ten is within
    # the 85 %, and the highest threshold that still answers both held-out questions is taken.
    others = [_row(False, False, "fitted") for _ in range(9)]
    assert fit.choose_threshold(held, p, held + others, p + [0.05] * 9) == 0.3
