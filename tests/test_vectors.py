"""The vector store contract: every implementation behind ``index.vectors.VectorStore`` passes the same tests
(haystack's testing/document_store.py). Chroma runs embedded in a temporary folder; the in-memory one is numpy."""

from __future__ import annotations

import math

import pytest

from core.errors import GenerationMissingError
from index.vectors import ChromaVectors, InMemoryVectors, VectorHit

IMPLEMENTATIONS = ["chroma", "memory", pytest.param("chroma-http", marks=pytest.mark.slow)]


def unit(*values: float) -> list[float]:
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


# Three documents' clauses on a small sphere: a1 and a2 point along x, b1 along y, c1 along z.
IDS = ["a:1", "a:2", "b:1", "c:1"]
VECTORS = [unit(1, 0.1, 0), unit(1, 0.4, 0), unit(0.1, 1, 0), unit(0, 0.1, 1)]
METADATAS = [{"doc_id": "a"}, {"doc_id": "a"}, {"doc_id": "b"}, {"doc_id": "c"}]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """A real ``chroma run`` on loopback, shared by the module's tests (each starts from no collections)."""
    from tests.servers import ChromaServer

    server = ChromaServer(tmp_path_factory.mktemp("chroma-server")).start()
    yield server
    server.stop()


def make(kind: str, path, request=None):
    if kind == "chroma":
        return ChromaVectors(path / "chroma")
    if kind == "chroma-http":
        return ChromaVectors(url=request.getfixturevalue("chroma_server").url)
    return InMemoryVectors()


@pytest.fixture(params=IMPLEMENTATIONS)
def kind(request) -> str:
    if request.node.get_closest_marker("persistent") and request.param == "memory":
        pytest.skip("in-memory vectors live as long as their object")
    return request.param


@pytest.fixture
def vectors(kind, tmp_path, request):
    store = make(kind, tmp_path, request)
    for generation in store.generations():  # a server outlives one test
        store.drop(generation)
    store.add(1, IDS, VECTORS, METADATAS)
    return store


class TestVectorStoreContract:
    def test_query_returns_the_nearest_first_with_cosine_similarity(self, vectors):
        hits = vectors.query(1, unit(1, 0, 0), k=3)
        assert [hit.clause_id for hit in hits] == ["a:1", "a:2", "b:1"]
        assert all(isinstance(hit, VectorHit) for hit in hits)
        assert hits[0].similarity == pytest.approx(unit(1, 0.1, 0)[0], abs=1e-4)
        assert hits[0].similarity > hits[1].similarity > hits[2].similarity

    def test_k_larger_than_the_generation_returns_every_vector(self, vectors):
        assert len(vectors.query(1, unit(1, 0, 0), k=50)) == 4

    def test_doc_ids_limit_the_search_to_those_documents(self, vectors):
        hits = vectors.query(1, unit(1, 0, 0), k=3, doc_ids={"b", "c"})
        assert [hit.clause_id for hit in hits] == ["b:1", "c:1"]

    def test_an_empty_doc_ids_filter_returns_nothing(self, vectors):
        assert vectors.query(1, unit(1, 0, 0), k=3, doc_ids=[]) == []

    def test_a_filter_naming_unknown_documents_returns_nothing(self, vectors):
        assert vectors.query(1, unit(1, 0, 0), k=3, doc_ids=["zzz"]) == []

    def test_generations_are_separate_and_listed(self, vectors):
        vectors.add(2, ["b:1"], [unit(0.1, 1, 0)], [{"doc_id": "b"}])
        assert vectors.generations() == [1, 2]
        assert [hit.clause_id for hit in vectors.query(2, unit(1, 0, 0), k=5)] == ["b:1"]
        assert vectors.count(1) == 4 and vectors.count(2) == 1

    def test_drop_removes_only_that_generation(self, vectors):
        vectors.add(2, ["b:1"], [unit(0.1, 1, 0)], [{"doc_id": "b"}])
        vectors.drop(1)
        assert vectors.generations() == [2]
        with pytest.raises(GenerationMissingError):
            vectors.query(1, unit(1, 0, 0), k=3)
        assert len(vectors.query(2, unit(1, 0, 0), k=3)) == 1

    def test_dropping_an_absent_generation_is_not_an_error(self, vectors):
        vectors.drop(7)
        assert vectors.generations() == [1]

    def test_query_on_an_unknown_generation_raises_a_named_error(self, vectors):
        with pytest.raises(GenerationMissingError, match="generation 9"):
            vectors.query(9, unit(1, 0, 0), k=3)
        with pytest.raises(GenerationMissingError):
            vectors.count(9)

    def test_adding_in_several_calls_extends_a_generation(self, vectors):
        vectors.add(1, ["d:1"], [unit(1, 0, 0)], [{"doc_id": "d"}])
        assert vectors.query(1, unit(1, 0, 0), k=1)[0].clause_id == "d:1"
        assert vectors.count(1) == 5

    @pytest.mark.persistent
    def test_vectors_persist_across_reopening(self, kind, tmp_path, request):
        first = make(kind, tmp_path, request)
        for generation in first.generations():
            first.drop(generation)
        first.add(3, IDS, VECTORS, METADATAS)
        first.close()
        again = make(kind, tmp_path, request)
        assert again.generations() == [3]
        assert [hit.clause_id for hit in again.query(3, unit(0, 0, 1), k=1)] == ["c:1"]


def test_chroma_keeps_todays_collection_names(tmp_path):
    """An existing data directory keeps working: generation n is the collection ``clauses-gen<n>``."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    ChromaVectors(tmp_path / "chroma").add(4, IDS, VECTORS, METADATAS)
    client = chromadb.PersistentClient(path=str(tmp_path / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    assert [c.name for c in client.list_collections()] == ["clauses-gen4"]


def test_the_factory_picks_the_store_named_in_the_settings(tmp_path):
    from core.errors import ConfigError
    from core.settings import Settings, load_settings
    from index.vectors import make_vector_store

    chroma = make_vector_store(Settings(data_dir=tmp_path), tmp_path / "index")
    assert isinstance(chroma, ChromaVectors) and chroma.path == tmp_path / "index" / "chroma"
    remote = make_vector_store(Settings(vector_store="chroma-http", vector_store_url="http://127.0.0.1:8123"), tmp_path)
    assert isinstance(remote, ChromaVectors) and remote.url == "http://127.0.0.1:8123"  # connects on first use
    with pytest.raises(ConfigError, match="POLICYQA_VECTOR_STORE_URL"):
        make_vector_store(Settings(vector_store="chroma-http"), tmp_path)
    with pytest.raises(ConfigError, match="POLICYQA_VECTOR_STORE"):
        load_settings(vector_store="faiss")


def test_the_knowledge_base_ranks_the_same_over_either_store(settings, fake_embedder):
    """Dense search through the knowledge base gives the same clauses, in the same order, from Chroma and from
    memory (so fast tests may use InMemoryVectors without testing something else)."""
    from assistant.retrieval.knowledge import DENSE_ONLY, KnowledgeBase
    from index.build import build, index_dir
    from index.store import IndexStore

    build(settings, fake_embedder, progress=False)
    memory = IndexStore(index_dir(settings).with_name("memory-index"), InMemoryVectors())
    build(settings, fake_embedder, progress=False, store=memory)
    on_disk = KnowledgeBase.open(settings, fake_embedder, DENSE_ONLY)
    in_memory = KnowledgeBase(memory, fake_embedder, settings.current_date, DENSE_ONLY)
    for question in ("专精特新企业的专利保险费补助", "江门市贷款贴息"):
        chroma_hits = [e.clause.clause_id for e in on_disk.search(question, k=8)]
        assert chroma_hits and [e.clause.clause_id for e in in_memory.search(question, k=8)] == chroma_hits
    jilin = {d.doc_id for d in on_disk.docs if "吉林" in d.title}
    assert jilin and {e.clause.doc.doc_id for e in in_memory.search("补助", k=8, doc_ids=jilin)} == jilin
    assert in_memory.search("补助", k=8, doc_ids=[]) == []
