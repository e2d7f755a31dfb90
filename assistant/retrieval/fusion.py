"""Rank fusion: pure functions over score maps (normalise, weigh, rank)."""

from __future__ import annotations

from collections.abc import Mapping


def max_normalize(scores: Mapping[str, float]) -> dict[str, float]:
    """Scores divided by the best one (so the best is 1.0); all-zero or empty input stays zero."""
    best = max(scores.values(), default=0.0)
    if best <= 0:
        return {item: 0.0 for item in scores}
    return {item: max(score, 0.0) / best for item, score in scores.items()}


def min_max_normalize(scores: Mapping[str, float]) -> dict[str, float]:
    """Scores mapped linearly onto [0, 1]; equal scores all map to 1.0."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high - low < 1e-12:
        return {item: 1.0 for item in scores}
    return {item: (score - low) / (high - low) for item, score in scores.items()}


def weighted_sum(systems: Mapping[str, Mapping[str, float]], weights: Mapping[str, float]) -> dict[str, float]:
    """Σ weight × (already normalised) score; an item a system did not score counts 0 there."""
    fused: dict[str, float] = {}
    for system, scores in systems.items():
        weight = weights.get(system, 0.0)
        if not weight:
            continue
        for item, score in scores.items():
            fused[item] = fused.get(item, 0.0) + weight * score
    return fused


def ranked(scores: Mapping[str, float], top: int | None = None) -> list[tuple[str, float]]:
    """Items by score, best first; ties broken by item id so runs are repeatable."""
    order = sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))
    return order if top is None else order[:top]
