"""A served index is searched without writing to it. Embedded Chroma writes to its folder whenever a client opens
it (chromadb 1.5.9 fails on a folder it may not write: "attempt to write a readonly database"), so a folder that
may not be written is copied to a temporary one and searched there."""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from assistant.retrieval.knowledge import DENSE_ONLY, KnowledgeBase
from index.build import build, index_dir
from index.vectors import ChromaVectors
from tests.conftest import ROOT
from tests.fakes import HashingEmbedder
from tests.test_vectors import IDS, METADATAS, VECTORS, unit

QUESTION = "专精特新企业的专利保险费补助"


def files(root: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under root with its modification time and size."""
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(root.rglob("*"))}


def set_read_only(root: Path, read_only: bool) -> None:
    for path in [root, *root.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode & ~0o222 if read_only else mode | stat.S_IWUSR)


def dense_ids(settings) -> list[str]:
    return [e.clause.clause_id for e in KnowledgeBase.open(settings, HashingEmbedder(), DENSE_ONLY).search(QUESTION)]


def test_a_read_only_index_is_searched_without_changing_any_of_its_files(settings, fake_embedder, caplog):
    # Built and searched in a twin folder, then copied: Chroma keeps one client per folder in a process, and this
    # process must open the read-only folder for the first time.
    twin = settings.model_copy(update={"data_dir": settings.data_dir.with_name("twin")})
    build(twin, fake_embedder, progress=False)
    expected = dense_ids(twin)
    shutil.copytree(twin.data_dir, settings.data_dir)
    root = index_dir(settings)
    set_read_only(root, True)
    try:
        before = files(root)
        with caplog.at_level(logging.INFO, logger="index.vectors"):
            assert dense_ids(settings) == expected
        assert files(root) == before
        assert "not writable" in caplog.text and "searching a copy" in caplog.text
    finally:
        set_read_only(root, False)


def test_a_writable_index_is_opened_in_place(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="index.vectors"):
        ChromaVectors(tmp_path / "chroma").add(1, IDS, VECTORS, METADATAS)
    assert (tmp_path / "chroma" / "chroma.sqlite3").exists() and "copy" not in caplog.text


def test_the_read_only_copy_finds_a_generation_published_after_it_was_made(tmp_path):
    writer = ChromaVectors(tmp_path / "chroma")
    writer.add(1, IDS, VECTORS, METADATAS)
    reader = ChromaVectors(tmp_path / "chroma", read_only=True)  # forces the copy, whatever the permissions
    before = files(tmp_path / "chroma")
    assert reader.query(1, unit(0, 0, 1), k=1)[0].clause_id == "c:1"
    assert files(tmp_path / "chroma") == before
    writer.add(2, ["b:1"], [unit(0.1, 1, 0)], [{"doc_id": "b"}])
    assert [hit.clause_id for hit in reader.query(2, unit(1, 0, 0), k=5)] == ["b:1"]
    copy = reader._copy.name
    reader.close()
    assert not os.path.exists(copy)


def test_a_read_only_folder_without_vectors_is_a_plain_error(tmp_path):
    from core.errors import ConfigError

    empty = tmp_path / "chroma"
    empty.mkdir()
    with pytest.raises(ConfigError, match="not writable"):
        ChromaVectors(empty, read_only=True).generations()


UNPRIVILEGED_SEARCH = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {root!r})
    from pathlib import Path
    from assistant.retrieval.knowledge import DENSE_ONLY, KnowledgeBase
    from core.settings import Settings
    from tests.fakes import HashingEmbedder
    settings = Settings(data_dir=Path({data!r}))
    kb = KnowledgeBase.open(settings, HashingEmbedder(), DENSE_ONLY)
    print(",".join(e.clause.clause_id for e in kb.search({question!r})))
    """
)


def _others_may_enter(path: Path) -> bool:
    """Whether a user other than the owner can reach ``path`` (every folder on the way lets others pass)."""
    return all(p.stat().st_mode & stat.S_IXOTH for p in [path, *path.parents])


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to switch to nobody")
@pytest.mark.skipif(not _others_may_enter(ROOT) or not _others_may_enter(Path(sys.executable).parent),
                    reason="the checkout or its virtualenv lies in a folder other users may not enter (e.g. mktemp -d): "
                           "nobody could not import the project")
def test_a_user_who_may_not_write_the_index_can_search_it(settings, fake_embedder):
    """The real thing: a process running as nobody, for whom the folder's permissions hold."""
    build(settings, fake_embedder, progress=False)
    expected = dense_ids(settings)
    shared = Path(tempfile.mkdtemp(prefix="policyqa-ro-"))
    try:
        shared.chmod(0o755)
        shutil.copytree(settings.data_dir, shared / "data")
        set_read_only(shared / "data", True)
        for path in [shared / "data", *(shared / "data").rglob("*")]:
            path.chmod(path.stat().st_mode | 0o444 | (0o111 if path.is_dir() else 0))
        before = files(shared / "data")
        script = UNPRIVILEGED_SEARCH.format(root=str(ROOT), data=str(shared / "data"), question=QUESTION)
        env = {**os.environ, "HOME": "/tmp", "ANONYMIZED_TELEMETRY": "False"}
        done = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", script],
            capture_output=True, text=True, env=env, timeout=120, cwd="/tmp",
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip().split(",") == expected
        assert files(shared / "data") == before
    finally:
        shutil.rmtree(shared, ignore_errors=True)


@pytest.mark.slow
def test_the_service_on_a_read_only_index_leaves_no_copy_behind_when_stopped(real_index, tmp_path):
    """Issue 16 finding 15: the temporary copy of a read-only index is removed when the service stops."""
    import signal
    import urllib.request

    from tests.servers import free_port, wait_for

    data = tmp_path / "data"
    shutil.copytree(real_index.data_dir, data)
    set_read_only(data / "index", True)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    port = free_port()
    env = {**os.environ, "POLICYQA_DATA_DIR": str(data), "POLICYQA_PORT": str(port), "TMPDIR": str(scratch),
           "POLICYQA_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}", "POLICYQA_TODAY": "2026-11-21"}
    server = subprocess.Popen([sys.executable, "ui.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        def ready() -> bool:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
                return response.status == 200

        wait_for(ready, 180, "the service")
        assert list(scratch.glob("policyqa-chroma-*"))  # it searches a copy
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
        set_read_only(data / "index", False)
    output = server.stdout.read()
    assert not list(scratch.glob("policyqa-chroma-*")), (server.returncode, output[-2000:])
