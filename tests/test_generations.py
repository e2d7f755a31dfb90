"""Replaced index generations are kept for a grace period (and the last two always), then dropped by a later
build; the clock is injected, so nothing sleeps."""

from __future__ import annotations

import pytest

from core.settings import Settings
from index.build import build
from index.store import IndexStore
from index.vectors import InMemoryVectors
from tests.fakes import HashingEmbedder

POLICY = "关于支持中小企业发展的通知\n一、对首次认定的企业最高补助35万元。\n二、对再次认定的企业补助10万元。\n"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def small(tmp_path) -> Settings:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "通知.txt").write_text(POLICY, encoding="utf-8")
    return Settings(corpus_dir=corpus, data_dir=tmp_path / "data")


def publish(settings, store, times: list[float], clock: Clock) -> None:
    """Publish one new generation at each of the given times."""
    for when in times:
        clock.now = when
        build(settings, HashingEmbedder(), progress=False, force=True, store=store)


def manifests(store) -> list[str]:
    return sorted(p.name for p in store.root.glob("manifest-gen*"))


def test_replaced_generations_are_kept_within_the_grace_period(small, tmp_path):
    clock = Clock()
    store = IndexStore(tmp_path / "index", InMemoryVectors(), keep_seconds=600, clock=clock)
    publish(small, store, [0, 10, 20, 30], clock)
    assert store.vectors.generations() == [1, 2, 3, 4]
    assert manifests(store) == [f"manifest-gen{n}.json" for n in (1, 2, 3, 4)]


def test_generations_are_dropped_by_a_later_build_once_expired_but_the_last_two_stay(small, tmp_path):
    clock = Clock()
    store = IndexStore(tmp_path / "index", InMemoryVectors(), keep_seconds=600, clock=clock)
    publish(small, store, [0, 10, 20, 30], clock)
    publish(small, store, [615], clock)  # gen 1 replaced at 10 (605 s ago): expired; gen 2 replaced at 20: not yet
    assert store.vectors.generations() == [2, 3, 4, 5]
    publish(small, store, [5000], clock)  # everything older is expired, the last two stay whatever the clock
    assert store.vectors.generations() == [5, 6]
    assert manifests(store) == ["manifest-gen5.json", "manifest-gen6.json"]


def test_nothing_is_dropped_while_no_build_runs(small, tmp_path):
    clock = Clock()
    store = IndexStore(tmp_path / "index", InMemoryVectors(), keep_seconds=600, clock=clock)
    publish(small, store, [0, 10, 20], clock)
    clock.now = 10_000
    assert store.vectors.generations() == [1, 2, 3]


def test_without_a_grace_period_the_current_and_the_previous_are_kept(small, tmp_path):
    clock = Clock()
    store = IndexStore(tmp_path / "index", InMemoryVectors(), keep_seconds=0, clock=clock)
    publish(small, store, [0, 0, 0], clock)
    assert store.vectors.generations() == [2, 3]


def test_a_reader_on_a_replaced_generation_still_searches_it(small, tmp_path):
    from assistant.retrieval.knowledge import KnowledgeBase

    clock = Clock()
    store = IndexStore(tmp_path / "index", InMemoryVectors(), keep_seconds=600, clock=clock)
    publish(small, store, [0], clock)
    embedder = HashingEmbedder()
    question = KnowledgeBase(store, embedder, small.current_date).pinned()  # a question started on generation 1
    publish(small, store, [100, 200, 300], clock)
    assert question.generation.number == 1
    assert question.search("首次认定补助多少", k=1)


def test_generations_from_before_the_grace_period_existed_start_their_grace_when_first_seen(small, tmp_path):
    clock = Clock()
    store = IndexStore(tmp_path / "index", InMemoryVectors(), keep_seconds=600, clock=clock)
    publish(small, store, [0, 0, 0], clock)
    (store.root / "generations.json").unlink()  # an index built before publish times were recorded
    publish(small, store, [1000], clock)
    assert store.vectors.generations() == [1, 2, 3, 4]
    publish(small, store, [1700], clock)
    assert store.vectors.generations() == [4, 5]


def test_the_setting_reaches_the_index(small):
    from index.build import open_index

    assert open_index(small.model_copy(update={"keep_generations_seconds": 42})).keep_seconds == 42
    assert open_index(small).keep_seconds == 600


@pytest.mark.parametrize(
    ("existing", "current", "published", "now", "dropped"),
    [
        ({1, 2, 3}, 3, {2: 0, 3: 0}, 10_000, {1}),  # replaced at 0 by gen 2: expired
        ({1, 2, 3}, 3, {2: 9_500, 3: 9_900}, 10_000, set()),  # replaced 500 s ago: kept
        ({1, 2, 3}, 3, {}, 10_000, set()),  # no records: the grace starts now
        ({2, 3, 4}, 3, {3: 0}, 10_000, {4}),  # a killed build's leftover above the current one
        ({1, 2}, None, {}, 0, {1, 2}),  # nothing published: nothing to keep
    ],
)
def test_generations_to_drop(existing, current, published, now, dropped):
    from index.store import generations_to_drop

    assert generations_to_drop(existing, current, published, now, 600) == dropped
