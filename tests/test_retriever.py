"""The hybrid search behind a LangChain retriever, with filters, on a real Chroma with the fake embedder."""

from __future__ import annotations

import pytest

from assistant.retrieval.knowledge import BM25_ONLY, KnowledgeBase
from assistant.retrieval.retriever import PolicyRetriever
from index.build import build


@pytest.fixture
def knowledge(settings, fake_embedder):
    build(settings, fake_embedder, progress=False)
    return KnowledgeBase.open(settings, fake_embedder)


def test_langchain_retriever_returns_clauses_with_provenance(knowledge):
    documents = PolicyRetriever(knowledge=knowledge, k=3).invoke("专利保险费给予补助最多可获得3年")
    assert len(documents) == 3
    top = documents[0]
    assert "专利保险费" in top.page_content
    assert top.metadata["clause_path"] == "二、（三）14" and top.metadata["doc_number"] == "吉政办明电〔2022〕1号"
    assert top.metadata["citation"].endswith("二、（三）14") and top.metadata["status"] == "in_force"
    assert top.metadata["score"] >= documents[1].metadata["score"]


def test_filters_by_document_and_status(knowledge):
    jiangmen = "003_cbcee838547fd95a"
    by_doc = PolicyRetriever(knowledge=knowledge, k=5, doc_ids=(jiangmen,)).invoke("专精特新企业融资")
    assert {d.metadata["doc_id"] for d in by_doc} == {jiangmen}
    in_force = PolicyRetriever(knowledge=knowledge, k=10, statuses=("in_force",)).invoke("专精特新企业上市")
    assert in_force and {d.metadata["status"] for d in in_force} == {"in_force"}
    drafts = knowledge.search("专精特新", 5, statuses=("draft_for_comment",))
    assert {e.clause.doc.doc_id for e in drafts} == {"000_e612226a6a7e82f6"}


def test_hybrid_and_bm25_rank_the_same_obvious_clause_first(knowledge):
    question = "对新认定的省级科技企业孵化器给予最高不超过50万元的补贴"
    assert knowledge.search(question, 1)[0].clause.clause_path == "二、（四）18"
    assert knowledge.search(question, 1, config=BM25_ONLY)[0].clause.clause_path == "二、（四）18"


def test_a_new_generation_is_picked_up(knowledge, settings, fake_embedder):
    number = knowledge.generation.number
    (settings.corpus_dir / "001_a4e583752837a0be.txt").unlink()
    build(settings, fake_embedder, progress=False)
    assert knowledge.reload() and knowledge.generation.number == number + 1
    assert all(c.doc.doc_id != "001_a4e583752837a0be" for c in knowledge.clauses)
    assert knowledge.search("日照", 3)


def test_the_assistant_follows_a_rebuild_even_when_a_filter_reloaded_first(knowledge, settings, fake_embedder):
    from assistant.chain import Assistant

    assistant = Assistant(knowledge, settings)
    question = "吉林省对专精特新企业的专利保险费有补助吗?"
    assert not assistant.ask(question).refused
    for name in ("000_e612226a6a7e82f6.txt", "001_a4e583752837a0be.txt", "002_a47861c4acf66335.txt"):
        (settings.corpus_dir / name).unlink()
    build(settings, fake_embedder, progress=False)
    answer = assistant.ask(question, region="吉林省")  # the region filter reloads the index before the chain
    assert not answer.refused and answer.citations[0].clause.clause_path == "二、（三）14"
    assert len(assistant._normalised) == len(knowledge.clauses)


def test_a_question_embeds_its_query_text_once(settings, fake_embedder):
    from assistant.retrieval.knowledge import KnowledgeBase
    from index.build import build

    build(settings, fake_embedder, progress=False)
    kb = KnowledgeBase.open(settings, fake_embedder)
    before = fake_embedder.calls
    first = kb.search("专利保险费补助", 5)
    again = kb.search("专利保险费补助", 5, doc_ids=[first[0].clause.doc.doc_id])
    assert fake_embedder.calls == before + 1 and again
    kb.forget_query_vectors()
    kb.search("专利保险费补助", 5)
    assert fake_embedder.calls == before + 2


def test_a_notice_published_twice_takes_one_place_in_the_ranking(settings, corpus_dir, fake_embedder):
    jilin = next(corpus_dir.glob("004_*"))
    (corpus_dir / "005_the_same_notice_again.txt").write_text(jilin.read_text(encoding="utf-8"), encoding="utf-8")
    build(settings, fake_embedder, progress=False)
    knowledge = KnowledgeBase.open(settings, fake_embedder)
    question = "专利保险费给予补助最多可获得3年"
    texts = [(e.clause.doc.title, e.clause.text) for e in knowledge.search(question, 8)]
    assert len(texts) == 8 and len(set(texts)) == 8
    assert "专利保险费" in texts[0][1]
