"""Rank fusion as tables of cases."""

from __future__ import annotations

import pytest

from assistant.retrieval.fusion import max_normalize, min_max_normalize, ranked, weighted_sum


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


def test_ranked_top():
    assert ranked({"a": 1.0, "b": 3.0, "c": 2.0}, top=2) == [("b", 3.0), ("c", 2.0)]
