"""Incremental builds, deletions, bad files, and builds that crash or are killed midway."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from index.build import build, index_dir
from index.store import IndexStore
from tests.conftest import ROOT
from tests.fakes import HashingEmbedder
from tests.test_clean import JIANGMEN, RIZHAO


def current(settings):
    return IndexStore(index_dir(settings)).require_current()


def chroma_count(settings):
    store = IndexStore(index_dir(settings))
    return store.vectors.count(store.require_current().number)


def test_first_build_indexes_every_seed(settings, fake_embedder):
    result = build(settings, fake_embedder, progress=False)
    assert len(result.generation.docs) == 5
    assert result.embedded == len(result.generation.clauses) > 100
    assert chroma_count(settings) == len(result.generation.clauses)


def test_unchanged_rebuild_embeds_nothing(settings, fake_embedder):
    first = build(settings, fake_embedder, progress=False)
    again = build(settings, HashingEmbedder(), progress=False)
    assert again.unchanged and again.embedded == 0
    assert again.generation.number == first.generation.number


def test_changed_document_reembeds_only_its_changed_clauses(settings, fake_embedder):
    build(settings, fake_embedder, progress=False)
    path = settings.corpus_dir / RIZHAO
    path.write_text(path.read_text(encoding="utf-8").replace("累计达到600家左右", "累计达到700家左右"), encoding="utf-8")
    embedder = HashingEmbedder()
    result = build(settings, embedder, progress=False)
    assert result.embedded == 1
    assert any("700家" in text for text in embedder.embedded)
    assert not any("600家左右" in c.text for c in result.generation.clauses)


def test_deleted_document_loses_its_clauses(settings, fake_embedder):
    build(settings, fake_embedder, progress=False)
    (settings.corpus_dir / JIANGMEN).unlink()
    result = build(settings, HashingEmbedder(), progress=False)
    assert result.embedded == 0
    assert {d.source for d in result.generation.docs} == set(os.listdir(settings.corpus_dir)) - {"catalog.yaml"}
    assert not [c for c in result.generation.clauses if c.doc.source == JIANGMEN]
    store = IndexStore(index_dir(settings))
    number = store.require_current().number
    assert store.vectors.count(number) == len(result.generation.clauses)
    (anything,) = HashingEmbedder().embed_batch(["江门市"], kind="query")
    assert store.vectors.query(number, anything, k=500, doc_ids=[JIANGMEN.removesuffix(".txt")]) == []


@pytest.mark.parametrize(
    ("name", "content"),
    [("broken.pdf", b"%PDF-1.4 not really"), ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00"), ("empty.html", b"")],
)
def test_bad_file_is_reported_and_skipped_while_the_rest_builds(settings, fake_embedder, name, content):
    (settings.corpus_dir / name).write_bytes(content)
    result = build(settings, fake_embedder, progress=False)
    assert [e.source for e in result.skipped] == [name]
    assert len(result.generation.docs) == 5
    assert result.generation.skipped[0]["source"] == name


def test_crash_while_embedding_keeps_previous_index_and_its_work(settings, fake_embedder):
    first = build(settings, fake_embedder, progress=False)
    path = settings.corpus_dir / "extra.txt"
    law = (ROOT / "tests" / "data" / "cn_sme_promotion_law_2017.txt").read_text(encoding="utf-8")
    path.write_text(law, encoding="utf-8")
    settings.embed_batch_size = 8
    crashing = HashingEmbedder(fail_after=3)
    with pytest.raises(RuntimeError, match="simulated crash"):
        build(settings, crashing, progress=False)
    still = current(settings)
    assert still.number == first.generation.number and len(still.docs) == 5
    assert chroma_count(settings) == len(first.generation.clauses)
    resumed = HashingEmbedder()
    result = build(settings, resumed, progress=False)
    new_clauses = len(result.generation.clauses) - len(first.generation.clauses)
    assert result.embedded == new_clauses - 3 * 8  # the three committed batches are not embedded again


SLOW_BUILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from core.settings import Settings
    from index.build import build
    from tests.fakes import HashingEmbedder
    settings = Settings(corpus_dir=Path({corpus!r}), data_dir=Path({data!r}), embed_batch_size=2)
    build(settings, HashingEmbedder(delay=0.2), progress=False)
    """
)


def test_build_killed_midway_leaves_previous_index_whole(settings, fake_embedder):
    first = build(settings, fake_embedder, progress=False)
    extra = settings.corpus_dir / "law.txt"
    extra.write_text((ROOT / "tests" / "data" / "cn_sme_promotion_law_2017.txt").read_text(encoding="utf-8"))
    script = SLOW_BUILD.format(root=str(ROOT), corpus=str(settings.corpus_dir), data=str(settings.data_dir))
    process = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    cache = index_dir(settings) / "embeddings.sqlite"
    deadline = time.time() + 60
    baseline = len(first.generation.clauses)
    while time.time() < deadline:
        with sqlite3.connect(cache) as db:
            if db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0] >= baseline + 6:
                break
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    survivor = current(settings)
    assert survivor.number == first.generation.number
    assert chroma_count(settings) == baseline
    result = build(settings, HashingEmbedder(), progress=False)
    assert len(result.generation.docs) == 6
    assert 0 < result.embedded < len(result.generation.clauses) - baseline


def test_files_with_the_same_name_stem_get_distinct_doc_ids(tmp_path, fake_embedder):
    from core.settings import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    policy = "关于支持中小企业发展的通知\n一、对首次认定的企业最高补助35万元。\n二、对再次认定的企业补助10万元。\n"
    (corpus / "通知.txt").write_text(policy, encoding="utf-8")
    (corpus / "通知.md").write_text(policy.replace("35万元", "40万元"), encoding="utf-8")
    settings = Settings(corpus_dir=corpus, data_dir=tmp_path / "data")
    result = build(settings, fake_embedder, progress=False)
    ids = {doc.source: doc.doc_id for doc in result.generation.docs}
    assert set(ids) == {"通知.txt", "通知.md"}
    assert ids["通知.md"] == "通知" and ids["通知.txt"].startswith("通知-") and ids["通知.txt"] != "通知"
    assert chroma_count(settings) == len(result.generation.clauses) == 6
    again = build(settings, HashingEmbedder(), progress=False)
    assert again.unchanged and {d.source: d.doc_id for d in again.generation.docs} == ids


def test_doc_ids_keep_the_stem_for_the_first_and_suffix_the_others():
    from pathlib import Path

    from index.documents import doc_ids_for

    paths = [Path("a.md"), Path("a.txt"), Path("b.txt"), Path("通知.docx"), Path("通知.pdf")]
    ids = doc_ids_for(paths)
    assert len(set(ids.values())) == len(paths)
    assert ids[Path("a.md")] == "a" and ids[Path("b.txt")] == "b" and ids[Path("通知.docx")] == "通知"
    assert ids[Path("a.txt")].startswith("a-") and ids[Path("通知.pdf")].startswith("通知-")
    assert doc_ids_for(paths) == ids
    lookalike = Path(ids[Path("a.txt")] + ".txt")  # a file whose own stem is the suffixed id
    assert len(set(doc_ids_for([Path("a.md"), Path("a.txt"), lookalike]).values())) == 3


@pytest.mark.parametrize("emptied", ["removed", "unreadable"])
def test_a_corpus_with_nothing_to_index_never_replaces_the_current_index(settings, fake_embedder, emptied):
    from core.errors import EmptyCorpusError

    first = build(settings, fake_embedder, progress=False)
    for path in settings.corpus_dir.glob("*.txt"):
        if emptied == "removed":
            path.unlink()
        else:
            path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    with pytest.raises(EmptyCorpusError, match="nothing to index") as caught:
        build(settings, HashingEmbedder(), progress=False)
    assert f"generation {first.generation.number}" in str(caught.value)
    still = current(settings)
    assert still.number == first.generation.number and len(still.docs) == 5
    assert chroma_count(settings) == len(first.generation.clauses)


def test_a_first_build_of_an_empty_corpus_publishes_nothing(settings, fake_embedder):
    from core.errors import EmptyCorpusError

    for path in settings.corpus_dir.glob("*.txt"):
        path.unlink()
    with pytest.raises(EmptyCorpusError):
        build(settings, fake_embedder, progress=False)
    assert IndexStore(index_dir(settings)).current() is None


def test_the_build_command_refuses_an_empty_corpus_in_one_line(settings, monkeypatch, capsys):
    from index.__main__ import main

    for path in settings.corpus_dir.glob("*.txt"):
        path.unlink()
    monkeypatch.setenv("POLICYQA_CORPUS_DIR", str(settings.corpus_dir))
    monkeypatch.setenv("POLICYQA_DATA_DIR", str(settings.data_dir))
    assert main(["build", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: nothing to index") and "\n" not in err


def test_a_second_build_while_one_is_running_is_refused_and_the_first_completes(settings):
    import threading

    from core.errors import BuildLockedError

    slow = HashingEmbedder(delay=0.3)
    outcome = {}
    first = threading.Thread(target=lambda: outcome.update(result=build(settings, slow, progress=False)))
    first.start()
    deadline = time.time() + 30
    while slow.calls == 0 and time.time() < deadline:  # the first build is embedding, so it holds the lock
        time.sleep(0.02)
    with pytest.raises(BuildLockedError, match="another build is running"):
        build(settings, HashingEmbedder(), progress=False)
    first.join(timeout=120)
    assert outcome["result"].generation.number == 1 and current(settings).number == 1
    assert chroma_count(settings) == len(outcome["result"].generation.clauses)
    again = build(settings, HashingEmbedder(), progress=False)  # the lock is released once the build ends
    assert again.unchanged


def test_the_admin_reindex_button_shows_a_refused_build_as_a_message():
    from types import SimpleNamespace

    from core.errors import BuildLockedError
    from serve.throttle import TokenGate
    from serve.web import Page, Session

    def refused():
        raise BuildLockedError("another build is running on data/index (pid 1); try again when it has finished")

    kb = SimpleNamespace(generation=SimpleNamespace(clause_counts=dict), docs=[])
    page = Page(SimpleNamespace(kb=kb, refresh=lambda: None), feedback=None, settings=None, reindex=refused,
                gate=TokenGate(60))
    page.settings = SimpleNamespace(current_date=lambda: None)
    message, rows = page.reindex(Session(admin=True))
    assert "索引未更新" in message and "another build is running" in message and rows == []


def test_a_document_over_the_size_budget_is_skipped_with_its_reason(settings, fake_embedder):
    huge = settings.corpus_dir / "huge.txt"
    huge.write_text("关于支持中小企业发展的通知\n" + "对首次认定的企业给予补助。\n" * 30_000, encoding="utf-8")
    settings.max_document_chars = 300_000
    result = build(settings, fake_embedder, progress=False)
    assert [e.source for e in result.skipped] == ["huge.txt"]
    reason = result.skipped[0].reason
    assert "characters" in reason and "300,000" in reason and "POLICYQA_MAX_DOCUMENT_CHARS" in reason
    assert len(result.generation.docs) == 5 and result.generation.skipped[0]["source"] == "huge.txt"


def test_a_long_embedding_run_is_announced_with_an_estimate_first(settings, fake_embedder):
    for name in ("cn_sme_promotion_law_2017.txt", "beijing_sme_promotion_regulation_2020.txt"):
        (settings.corpus_dir / name).write_text((ROOT / "tests" / "data" / name).read_text(encoding="utf-8"))
    said: list[str] = []
    result = build(settings, fake_embedder, progress=False, notify=said.append)
    assert result.embedded > 200
    assert len(said) == 1 and f"{result.embedded} clauses to embed" in said[0] and "estimated" in said[0]
    assert fake_embedder.calls > 0  # announced before, not instead of, the run
    said.clear()
    (settings.corpus_dir / "law.md").write_text("中小企业促进法\n第一条 为了改善中小企业经营环境，制定本法。\n")
    build(settings, HashingEmbedder(), progress=False, notify=said.append)
    assert said == []  # a short run is not announced


def test_embedding_estimate_is_conservative():
    from index.build import embedding_estimate

    assert embedding_estimate(200) is None
    line = embedding_estimate(1000)
    assert "1000 clauses to embed" in line and "500 s" in line


def test_an_index_whose_vectors_were_deleted_is_rebuilt_by_the_next_build(settings, fake_embedder):
    import shutil

    from assistant.retrieval.knowledge import KnowledgeBase
    from index.build import needs_build

    first = build(settings, fake_embedder, progress=False)
    assert not needs_build(settings)
    shutil.rmtree(index_dir(settings) / "chroma")  # rm -rf data/index/chroma, then a restart:
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()  # Chroma keeps a folder's system per process
    assert needs_build(settings)  # so the service builds one at start
    again = build(settings, fake_embedder, progress=False)
    assert not again.unchanged and again.generation.number > first.generation.number and again.embedded == 0
    assert KnowledgeBase.open(settings, fake_embedder).search("专利保险费补助")


def test_build_force_publishes_a_new_generation_from_the_command_line(settings, monkeypatch, capsys):
    import index.__main__ as cli

    monkeypatch.setenv("POLICYQA_CORPUS_DIR", str(settings.corpus_dir))
    monkeypatch.setenv("POLICYQA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setattr("index.embeddings.make_embedder", lambda _settings: HashingEmbedder())
    assert cli.main(["build", "--quiet"]) == 0
    assert cli.main(["build", "--quiet"]) == 0 and "unchanged" in capsys.readouterr().out
    assert cli.main(["build", "--quiet", "--force"]) == 0
    assert "generation 2" in capsys.readouterr().out
