"""Answer generators: the registry picks one by name from the settings, and every registered generator keeps
the same contract (markers map to its sources, quotes are verbatim, no evidence → no draft)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from langchain_core.language_models import FakeListChatModel

from assistant.generators import GENERATORS, LLM_GENERATORS, generator_factory
from assistant.generators.llm import LLMGenerator
from assistant.retrieval.lexical import bigrams
from assistant.types import Evidence, Query
from core.errors import ConfigError
from core.settings import Settings
from index.clauses import split_clauses
from tests.test_clean import RIZHAO
from tests.test_metadata import doc


@pytest.fixture(scope="module")
def clauses():
    return split_clauses(doc(RIZHAO))


def snapshot_of(clauses):
    """The parts of a snapshot a generator may use: the clauses, their bigram document frequencies and the next
    part of a clause the index cut in parts (``Snapshot.next_part``)."""
    from assistant.retrieval.snapshot import Snapshot

    gram_df: dict[str, int] = {}
    for clause in clauses:
        for gram in set(bigrams(clause.text)):
            gram_df[gram] = gram_df.get(gram, 0) + 1
    view = SimpleNamespace(clauses=tuple(clauses), gram_df=gram_df,
                           position={clause.clause_id: i for i, clause in enumerate(clauses)})
    view.next_part = lambda clause: Snapshot.next_part(view, clause)
    return view


def test_the_default_generator_is_the_extractive_one(clauses):
    generator = generator_factory(Settings())(snapshot_of(clauses))
    assert Settings().generator == "extractive" and generator.name == "extractive"


def test_an_unknown_generator_is_a_config_error_naming_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown generator 'gpt'.*POLICYQA_GENERATOR.*extractive"):
        generator_factory(Settings(generator="gpt"))


@pytest.mark.parametrize("name", sorted(GENERATORS))
class TestGeneratorContract:
    """What the chain relies on, for every registered generator."""

    def generator(self, name, clauses):
        extractive = generator_factory(Settings())(snapshot_of(clauses))
        if name in LLM_GENERATORS:  # the same chain and guard, with a scripted chat model in place of the LLM
            scripted = FakeListChatModel(responses=["对达到考核基础目标的区县、功能区，市财政给予最高300万元奖励[1]。"])
            return LLMGenerator(name, scripted, extractive)
        return generator_factory(Settings(generator=name))(snapshot_of(clauses))

    def test_every_marker_maps_to_a_source_and_every_quote_is_verbatim(self, name, clauses):
        best = next(c for c in clauses if c.clause_path == "三、（一）2")
        evidence = [Evidence(best, 1.0, 1), *(Evidence(c, 0.5, i) for i, c in enumerate(clauses[:3], 2))]
        question = "日照对达到考核目标的区县最高奖励多少?"
        draft = self.generator(name, clauses).answer(Query(question, question), evidence)
        assert draft.sources and len(draft.sources) == len(draft.sentences)
        keys = {int(k) for k in re.findall(r"\[(\d+)\]", draft.text)}
        assert keys and keys <= set(range(1, len(draft.sources) + 1))
        assert all(s in c.text for c, quoted in zip(draft.sources, draft.sentences, strict=True) for s in quoted)
        assert "300万元" in draft.text

    def test_no_evidence_gives_an_empty_draft(self, name, clauses):
        draft = self.generator(name, clauses).answer(Query("补贴多少?", "补贴多少?"), [])
        assert not draft.sources and not draft.text
