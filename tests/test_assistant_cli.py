"""`python -m assistant ask | eval` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def run(settings, *args):
    env = os.environ | {"POLICYQA_DATA_DIR": str(settings.data_dir), "POLICYQA_TODAY": settings.today.isoformat()}
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=ROOT, env=env, capture_output=True, text=True)


def test_ask_json_prints_the_format_md_case_object(real_index):
    result = run(real_index, "ask", "吉林省技术合同交易额补助上限是多少?", "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert set(record) >= {"question", "answer", "refused", "citations", "retrieved", "latency_ms"}
    assert "200万元" in record["answer"] and record["citations"][0]["clause"] == "二、（二）10"
    assert len(record["retrieved"]) >= 5


@pytest.mark.parametrize("question", ["", "   ", "!!!", "x" * 10000])
def test_ask_with_bad_input_gives_a_message_not_a_traceback(real_index, question):
    result = run(real_index, "ask", question)
    assert result.returncode == 0 and result.stdout.strip()
    assert "Traceback" not in result.stderr


def test_eval_runs_the_good_cases_of_a_malformed_file_and_writes_a_report(real_index, tmp_path):
    qa = tmp_path / "qa.jsonl"
    lines = (ROOT / "qa" / "dev.jsonl").read_text(encoding="utf-8").splitlines()[:3]
    qa.write_text("\n".join([lines[0], "{broken", lines[1], '{"id": "m"}', lines[2]]) + "\n", encoding="utf-8")
    out, report = tmp_path / "results.jsonl", tmp_path / "report.html"
    result = run(real_index, "eval", "--qa", str(qa), "--out", str(out), "--report", str(report))
    assert result.returncode == 0, result.stderr
    assert "line 2: bad JSON" in result.stderr and "line 4: missing field 'turns'" in result.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3
    assert "overall" in result.stdout and "numeric" in result.stdout and report.exists()


def test_eval_with_a_missing_file_is_a_clear_error(real_index, tmp_path):
    result = run(real_index, "eval", "--qa", str(tmp_path / "absent.jsonl"), "--out", str(tmp_path / "o.jsonl"))
    assert result.returncode == 2 and "no such Q&A file" in result.stderr and "Traceback" not in result.stderr
