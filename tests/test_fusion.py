"""Rank fusion and cut-offs as tables of cases."""

from __future__ import annotations

import pytest

from assistant.fusion import above, max_normalize, min_max_normalize, ranked, rrf, weighted_sum


@pytest.mark.parametrize(
    ("rankings", "weights", "expected_order"),
    [
        ({"a": ["x", "y", "z"], "b": ["x", "y", "z"]}, None, ["x", "y", "z"]),
        ({"a": ["x", "y"], "b": ["y", "x"]}, None, ["x", "y"]),  # tie broken by id
        ({"a": ["x", "y"], "b": ["y", "z"]}, None, ["y", "x", "z"]),  # agreement wins
        ({"a": ["x", "y"], "b": ["y", "x"]}, {"a": 1.0, "b": 3.0}, ["y", "x"]),  # weights matter
        ({"a": ["x"], "b": []}, None, ["x"]),
    ],
)
def test_rrf_orders(rankings, weights, expected_order):
    assert [item for item, _ in ranked(rrf(rankings, weights=weights))] == expected_order


def test_rrf_scores_are_reciprocal_ranks():
    assert rrf({"a": ["x", "y"]}, k=60) == pytest.approx({"x": 1 / 61, "y": 1 / 62})


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ({"a": 2.0, "b": 1.0}, {"a": 1.0, "b": 0.5}),
        ({"a": 0.0, "b": 0.0}, {"a": 0.0, "b": 0.0}),
        ({}, {}),
        ({"a": 3.0, "b": -1.0}, {"a": 1.0, "b": 0.0}),
    ],
)
def test_max_normalize(scores, expected):
    assert max_normalize(scores) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ({"a": 0.9, "b": 0.8, "c": 0.7}, {"a": 1.0, "b": 0.5, "c": 0.0}),
        ({"a": 0.5, "b": 0.5}, {"a": 1.0, "b": 1.0}),
        ({}, {}),
    ],
)
def test_min_max_normalize(scores, expected):
    assert min_max_normalize(scores) == pytest.approx(expected)


def test_weighted_sum_counts_missing_scores_as_zero():
    fused = weighted_sum({"bm25": {"x": 1.0, "y": 0.5}, "dense": {"y": 1.0}}, {"bm25": 0.6, "dense": 0.4})
    assert fused == pytest.approx({"x": 0.6, "y": 0.7})
    assert weighted_sum({"bm25": {"x": 1.0}}, {"bm25": 0.0}) == {}


@pytest.mark.parametrize(
    ("scores", "threshold", "expected"),
    [([0.2, 0.6], 0.55, True), ([0.2, 0.5], 0.55, False), ([], 0.1, False), ([0.55], 0.55, True)],
)
def test_threshold_table(scores, threshold, expected):
    assert above(scores, threshold) is expected


def test_ranked_top():
    assert ranked({"a": 1.0, "b": 3.0, "c": 2.0}, top=2) == [("b", 3.0), ("c", 2.0)]
