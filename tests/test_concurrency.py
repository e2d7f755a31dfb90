"""Answering while the index is re-published: each question searches one generation from start to end, and
questions are never serialised behind one another or behind a re-index (fake embedder, real Chroma)."""

from __future__ import annotations

import shutil
import threading

from assistant.chain import Assistant
from assistant.retrieval.knowledge import KnowledgeBase
from index.build import build
from index.store import IndexStore
from tests.conftest import CORPUS
from tests.fakes import HashingEmbedder

JILIN_QUESTION = "吉林省对专精特新企业的专利保险费有补助吗?"
RIZHAO = "001_a4e583752837a0be.txt"
JILIN = "004_ed6825514d89ba11.txt"


def members(answer) -> list:
    """Every clause object an answer rests on."""
    return [c.clause for c in answer.citations] + [e.clause for e in answer.evidence]


def generation_of(answer, loaded) -> set[int]:
    """Which loaded generations the answer's clause objects belong to (identity, not equality)."""
    return {number for clause in members(answer) for number, ids in loaded.items() if id(clause) in ids}


class SwapOnQuery(HashingEmbedder):
    """Publishes and loads a new generation without the Jilin document while a question is being searched."""

    def __init__(self, settings):
        super().__init__()
        self.settings = settings
        self.knowledge: KnowledgeBase | None = None
        self.swapped = False

    def embed_batch(self, texts, kind="passage"):
        if kind == "query" and self.knowledge is not None and not self.swapped:
            self.swapped = True
            (self.settings.corpus_dir / JILIN).unlink()
            build(self.settings, self, progress=False)
            assert self.knowledge.reload()
        return super().embed_batch(texts, kind)


def test_a_question_keeps_the_generation_it_started_with_when_a_new_one_is_published_mid_answer(settings):
    embedder = SwapOnQuery(settings)
    build(settings, embedder, progress=False)
    knowledge = KnowledgeBase.open(settings, embedder)
    assistant = Assistant(knowledge, settings)
    first = {c.clause_id for c in knowledge.clauses}
    embedder.knowledge = knowledge
    answer = assistant.ask(JILIN_QUESTION)
    assert embedder.swapped and not answer.refused
    assert answer.citations[0].clause.clause_path == "二、（三）14"
    assert {c.clause_id for c in members(answer)} <= first
    # The next question sees the new generation, which no longer holds the Jilin document.
    assert knowledge.generation.number == 2 and JILIN.removesuffix(".txt") not in knowledge.docs_by_id
    assert assistant.ask(JILIN_QUESTION).refused


def test_questions_from_many_threads_while_the_index_is_republished(settings, fake_embedder, monkeypatch):
    loaded: dict[int, set[int]] = {}
    keep = []  # every generation read stays alive, so that object ids are never reused
    original = IndexStore.current

    def recording(store):
        generation = original(store)
        if generation is not None:
            keep.append(generation)
            loaded.setdefault(generation.number, set()).update(id(c) for c in generation.clauses)
        return generation

    monkeypatch.setattr(IndexStore, "current", recording)
    build(settings, fake_embedder, progress=False)
    knowledge = KnowledgeBase.open(settings, fake_embedder)
    assistant = Assistant(knowledge, settings)
    answers, errors = [], []
    done = threading.Event()

    def converse():
        try:
            while not done.is_set() or len(answers) < 8:
                answers.append(assistant.ask(JILIN_QUESTION))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    def republish():
        try:
            for round_ in range(4):  # the Rizhao document leaves and comes back: four new generations
                target = settings.corpus_dir / RIZHAO
                if round_ % 2 == 0:
                    target.unlink()
                else:
                    shutil.copy(CORPUS / RIZHAO, target)
                build(settings, fake_embedder, progress=False)
                assistant.refresh(wait=True)  # as the admin view's re-index does
        finally:
            done.set()

    threads = [threading.Thread(target=converse) for _ in range(3)] + [threading.Thread(target=republish)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert knowledge.generation.number == 5 and set(loaded) == {1, 2, 3, 4, 5}
    assert len(answers) >= 8
    assert len({n for answer in answers for n in generation_of(answer, loaded)}) >= 2  # questions met a swap
    for answer in answers:
        assert not answer.refused and answer.citations[0].clause.clause_path == "二、（三）14" and "来源" in answer.text
        assert len(generation_of(answer, loaded)) == 1, "an answer mixed clauses of two generations"


def test_checking_for_a_new_generation_does_not_parse_the_manifest(settings, fake_embedder, monkeypatch):
    build(settings, fake_embedder, progress=False)
    knowledge = KnowledgeBase.open(settings, fake_embedder)
    Assistant(knowledge, settings).ask(JILIN_QUESTION)
    parsed = []
    original = knowledge.store.current
    monkeypatch.setattr(knowledge.store, "current", lambda: parsed.append(1) or original())
    assistant = Assistant(knowledge, settings)
    for _ in range(3):
        assert not assistant.ask(JILIN_QUESTION).refused
    assert parsed == []
    (settings.corpus_dir / RIZHAO).unlink()
    build(settings, fake_embedder, progress=False)
    assert not assistant.ask(JILIN_QUESTION).refused and knowledge.generation.number == 2

