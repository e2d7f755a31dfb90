"""What the dense search embeds of a long question: its asking part within a bound; a question within the bound is
embedded exactly as asked (answers to ordinary questions do not change)."""

from __future__ import annotations

import pytest

from assistant.retrieval.asking import asking_part
from assistant.retrieval.knowledge import KnowledgeBase
from index.build import build

BACKGROUND = "我们公司是做机械加工的，有八十多个员工，去年营业收入两千万元，已经评上了省级专精特新。"
ASKING = "请问吉林省对专精特新企业的专利保险费有补助吗？"


@pytest.mark.parametrize("text, bound, expected", [
    (ASKING, 150, ASKING),  # within the bound: unchanged
    (ASKING, 0, ASKING),  # 0: no bound
    (BACKGROUND * 5 + ASKING, 70, BACKGROUND + ASKING),  # the question, topped up with the nearest background
    (BACKGROUND * 5 + ASKING, len(ASKING), ASKING),
    (ASKING + BACKGROUND * 5, 80, ASKING),  # asked first, described after: the asking sentence is kept
    (BACKGROUND * 5 + ASKING + "谢谢。", 70, BACKGROUND + ASKING),
    ("专利保险费" * 100 + "有补助吗", 20, ("专利保险费" * 100 + "有补助吗")[-20:]),  # one long sentence: its end
], ids=["short", "unbounded", "topped-up", "question-only", "asked-first", "thanks-after", "one-sentence"])
def test_a_long_question_is_embedded_by_its_asking_part(text, bound, expected):
    kept = asking_part(text, bound)
    assert kept == expected
    assert not bound or len(kept) <= bound


def queries_of(embedder) -> list[str]:
    """The list the embedder's query texts are recorded in from now on (passages are not recorded)."""
    embedded: list[str] = []
    real = embedder.embed_batch

    def recording(texts, kind="passage"):
        if kind == "query":
            embedded.extend(texts)
        return real(texts, kind)

    embedder.embed_batch = recording
    return embedded


def test_the_dense_search_embeds_a_long_question_within_the_bound_and_a_short_one_as_asked(settings, fake_embedder):
    build(settings, fake_embedder, progress=False)
    embedded = queries_of(fake_embedder)
    kb = KnowledgeBase.open(settings.model_copy(update={"max_embed_query_chars": 70}), fake_embedder)
    long_question = BACKGROUND * 20 + ASKING
    kb.search(long_question)
    kb.search(ASKING)
    assert embedded == [BACKGROUND + ASKING, ASKING]
    assert kb.search(long_question)  # BM25 and coverage still read the whole text: it finds clauses


def test_the_answer_book_embeds_a_long_question_within_the_bound(tmp_path, fake_embedder, settings):
    from serve.answer_book import AnswerBook, EntryStore
    from serve.store import open_database

    store = EntryStore(open_database(f"sqlite:///{tmp_path / 'book.sqlite'}"))
    store.add(ASKING, "有，按保费的一定比例补助。", [], "测试单位", settings.current_date())
    embedded = queries_of(fake_embedder)
    book = AnswerBook(store, fake_embedder, 0.9, max_embed_chars=70)
    book.published()  # the entries' own questions embedded first
    embedded.clear()
    book.match(BACKGROUND * 20 + ASKING)
    book.match(ASKING)
    assert embedded == [BACKGROUND + ASKING, ASKING]
