"""bench-retrieval on a tiny BEIR folder: the output format, the systems, and the cache on a second run."""

from __future__ import annotations

import json

import pytest

from evaluation.bench import SYSTEMS, relevant, run_bench

pytestmark = pytest.mark.slow


@pytest.fixture
def beir(tmp_path):
    folder = tmp_path / "tiny"
    (folder / "qrels").mkdir(parents=True)
    docs = {
        "d1": "关于支持小微企业的通知 一、对小微企业贷款给予贴息，贴息比例为50%。 二、对新招用员工给予社保补贴。",
        "d2": "关于疫情防控期间交通管理的通告 一、严禁擅自设卡拦截车辆。 二、绿色通道保障救护车辆通行。",
        "d3": "关于延期申报纳税的公告 纳税人申报期限延长至2月28日。",
    }
    queries = {"q1": "小微企业贷款贴息比例是多少？", "q2": "绿色通道保障哪些车辆？", "q3": "申报期限延长到什么时候？"}
    answers = {"q1": ("d1", "贴息比例为50%"), "q2": ("d2", "救护车辆"), "q3": ("d3", "2月28日")}
    (folder / "corpus.jsonl").write_text("".join(json.dumps({"_id": k, "text": v}, ensure_ascii=False) + "\n" for k, v in docs.items()), encoding="utf-8")
    (folder / "queries.jsonl").write_text("".join(json.dumps({"_id": k, "text": v}, ensure_ascii=False) + "\n" for k, v in queries.items()), encoding="utf-8")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, (d, _) in answers.items()), encoding="utf-8")
    (folder / "answers.jsonl").write_text("".join(
        json.dumps({"_id": q, "docid": d, "answer": a, "gold_doc_mentions_sme": q == "q1"}, ensure_ascii=False) + "\n"
        for q, (d, a) in answers.items()), encoding="utf-8")
    (tmp_path / "ids.txt").write_text("q1\nq2\n", encoding="utf-8")
    return folder


def test_bench_writes_one_line_per_query_and_system_and_prints_the_table(settings, beir, tmp_path, capsys):
    out = tmp_path / "hits.jsonl"
    assert run_bench(settings, beir, tmp_path / "ids.txt", out) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 2 * len(SYSTEMS)
    assert {row["system"] for row in rows} == set(SYSTEMS) and {"bm25", "dense", "hybrid"} <= set(SYSTEMS)
    for row in rows:
        assert row["query_id"] in {"q1", "q2"} and 0 < len(row["hits"]) <= 10
        assert set(row["hits"][0]) == {"doc_id", "text", "score"} and len(row["hits"][0]["text"]) <= 800
    printed = capsys.readouterr().out
    assert "hit@1" in printed and "MRR@10" in printed and "hybrid" in printed and "gold document mentions SMEs" in printed
    again = run_bench(settings, beir, tmp_path / "ids.txt", out)
    assert again == 0 and "0 embedded now" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("doc", "text", "answer", "expected"),
    [
        ("d1", "对小微企业贷款给予贴息，贴息比例为50%。", "贴息比例为50%", True),
        ("d2", "对小微企业贷款给予贴息，贴息比例为50%。", "贴息比例为50%", False),  # not a gold document
        ("d1", "二、对新招用员工给予社保补贴。", "贴息比例为50%", False),  # gold document, wrong chunk
        ("d1", "x" * 10 + "A" * 30, "A" * 30 + "B" * 40, True),  # long answer: its first 30 characters
    ],
)
def test_relevance_follows_the_protocol(doc, text, answer, expected):
    assert relevant(doc, text, {"d1"}, answer) is expected
