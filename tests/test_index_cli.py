"""`python -m index build | list | export` on the seeds, with the real bundled model in a real Chroma."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from core.textnorm import normalize_for_match
from tests.conftest import ROOT
from tests.test_clauses import MORE_GOLD

pytestmark = pytest.mark.slow
JUNK = ["免费注册", "会员登陆", "QQ", "扫码", "粤公网安备", "粵公網安備", "您即将离开", "字体", "扫一扫", "搜狐体育直播", "<", ">", "|", "浏览量"]


def run(settings, *args):
    env = os.environ | {
        "POLICYQA_DATA_DIR": str(settings.data_dir), "POLICYQA_CORPUS_DIR": str(settings.corpus_dir),
        "POLICYQA_TODAY": settings.today.isoformat(),
    }
    return subprocess.run([sys.executable, "-m", "index", *args], cwd=ROOT, env=env, capture_output=True, text=True)


def test_list_json_shows_the_five_seeds_with_metadata_and_status(real_index):
    result = run(real_index, "list", "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["source"]: row for row in json.loads(result.stdout)}
    assert len(rows) == 5
    for row in rows.values():
        for key in ("doc_id", "title", "doc_number", "issuer", "region", "level", "issued_date", "published_date",
                    "period", "status", "clauses", "source"):
            assert key in row
        assert "搜狐" not in row["title"] and row["clauses"] > 10
    status = {row["title"][:6]: row["status"] for row in rows.values()}
    assert status == {
        "重庆市支持“": "draft_for_comment", "日照市“专精": "period_ended", "重庆市科技型": "period_ended",
        "江門市推動專": "in_force", "吉林省人民政": "in_force",
    }


def test_export_has_no_portal_text_and_holds_every_gold_piece(real_index, tmp_path):
    out = tmp_path / "clauses.jsonl"
    result = run(real_index, "export", "--out", str(out))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) > 100
    for row in rows:
        for key in ("doc_id", "title", "clause_path", "headings", "text", "doc_number", "issuer", "status"):
            assert key in row
        assert not [junk for junk in JUNK if junk in row["text"]], row["clause_id"]
    dev = [json.loads(line) for line in (ROOT / "qa" / "dev.jsonl").read_text(encoding="utf-8").splitlines()]
    pieces = [p for case in dev for p in case["gold_clauses"]] + MORE_GOLD
    texts = [normalize_for_match(row["text"]) for row in rows]
    assert [p for p in pieces if not any(normalize_for_match(p) in t for t in texts)] == []
    paths = {(row["doc_id"][:3], row["clause_path"]) for row in rows}
    assert {("001", "三、（一）2"), ("004", "二、（一）5"), ("003", "二、（三）2")} <= paths


def test_build_command_reports_removals_and_is_unchanged_on_rerun(real_index):
    result = run(real_index, "build", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "002_a47861c4acf66335.txt: removed" in result.stdout and "injected spam phrase ×6" in result.stdout
    assert "encoding damage repaired by a catalog fix" in result.stdout
    assert "unchanged, nothing to do" in result.stdout


def test_list_without_an_index_is_a_clear_error(tmp_path, settings):
    settings.data_dir = tmp_path / "nothing-here"
    result = run(settings, "list")
    assert result.returncode == 2
    assert "python -m index build" in result.stderr and "Traceback" not in result.stderr
