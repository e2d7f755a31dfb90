"""bench-answers: the scoring of an answer against a gold span, and the command on a tiny BEIR folder."""

from __future__ import annotations

import json

import pytest

from core.textnorm import normalize_for_match
from evaluation.bench_answers import FAILURES, gold_span, judge, run_answer_bench
from tests.fakes import HashingEmbedder

LONG = "对受疫情影响较大的中小微企业，按照不超过实际缴纳场租费用50%的标准给予支持，补助金额不超过50万元，期限为三个月，由区财政局会同区商务局负责兑付。"


@pytest.mark.parametrize(
    ("answer", "span"),
    [
        ("贴息比例为50%。", "贴息比例为50%"),  # closing punctuation dropped
        ("延长至2月28日；", "延长至2月28日"),
        ("“小巨人”企业", "小巨人企业"),  # FORMAT.md: quotes removed
        ("江門市 工信局", "江门市工信局"),  # t2s, whitespace removed
        ("１００万元", "100万元"),  # NFKC
        (LONG, normalize_for_match(LONG[:30])),  # over 60 characters: its first 30
        (LONG[:29] + "，" + LONG[29:], normalize_for_match(LONG[:29])),  # … and no comma closing them
        (LONG[:60], normalize_for_match(LONG[:60])),  # exactly 60: the whole span
    ],
)
def test_gold_span_follows_the_protocol(answer, span):
    assert len(LONG) > 60
    assert gold_span(answer) == span


def _record(answer: str, cited: list[tuple[str, str]], retrieved: list[tuple[str, str]], refused: bool = False) -> dict:
    return {"answer": answer, "refused": refused,
            "citations": [{"doc_id": d, "text": t} for d, t in cited],
            "retrieved": [{"doc_id": d, "text": t} for d, t in retrieved]}


GOLD = "d1"
RIGHT = ("d1", "一、对小微企业贷款给予贴息，贴息比例为50%。")
OTHER = ("d1", "二、对新招用员工给予社保补贴。")
COPY = ("d9", "对小微企业贷款给予贴息，贴息比例为50%。")  # the same words in a document that is not gold


@pytest.mark.parametrize(
    ("record", "correct", "failure", "hit5"),
    [
        (_record("根据《通知》一：贴息比例为50%[1]。", [RIGHT], [RIGHT, OTHER]), True, "", True),
        # citation markers are not words of the answer: a span across a marker still counts
        (_record("贴息比例为[1]50%[1]。", [RIGHT], [RIGHT]), True, "", True),
        (_record("抱歉，知识库中没有可以回答这个问题的政策依据。", [], [RIGHT], refused=True), False, "refused", True),
        (_record("对新招用员工给予社保补贴[1]。", [OTHER], [OTHER, COPY]), False, "not_in_top5", False),
        (_record("对新招用员工给予社保补贴[1]。", [OTHER], [OTHER, RIGHT]), False, "not_in_answer", True),
        (_record("贴息比例为50%[1]。", [OTHER], [RIGHT, OTHER]), False, "wrong_citation", True),
        (_record("贴息比例为50%[1]。", [COPY], [RIGHT, COPY]), True, "", True),  # a near-copy outside the qrels holds it too
        (_record("贴息比例为50%[1]。", [RIGHT], [OTHER] * 5 + [RIGHT]), True, "", False),  # right, though ranked 6th
    ],
)
def test_an_answer_is_right_when_it_holds_the_span_and_cites_a_passage_holding_it(record, correct, failure, hit5):
    verdict = judge(record, gold_span("贴息比例为50%。"), {GOLD}, hybrid_rank=1)
    assert (verdict.correct, verdict.failure, verdict.hit_at_5) == (correct, failure, hit5)
    assert verdict.failure in ("", *FAILURES) and verdict.hybrid_hit_at_5
    assert verdict.cites_gold == (correct and record["citations"][0]["doc_id"] == GOLD)


@pytest.fixture
def beir(tmp_path):
    folder = tmp_path / "tiny"
    (folder / "qrels").mkdir(parents=True)
    docs = {
        "d1": "关于支持小微企业的通知\n一、贷款贴息。对小微企业贷款给予贴息，贴息比例为50%。\n二、社保补贴。对新招用员工的小微企业给予社保补贴，每人1000元。",
        "d2": "关于疫情防控期间交通管理的通告\n一、道路通行。严禁擅自设卡拦截车辆。\n二、绿色通道。开通绿色通道，保障救护车辆和防疫物资运输车辆优先通行。",
        "d3": "关于延期申报纳税的公告\n纳税人申报纳税期限延长至2月28日。",
    }
    queries = {"q1": "小微企业贷款贴息比例是多少？", "q2": "绿色通道保障哪些车辆优先通行？", "q3": "纳税申报期限延长到什么时候？"}
    answers = {"q1": ("d1", "贴息比例为50%。"), "q2": ("d2", "救护车辆"), "q3": ("d3", "2月28日")}
    rows = {"corpus.jsonl": [{"_id": k, "text": v} for k, v in docs.items()],
            "queries.jsonl": [{"_id": k, "text": v} for k, v in queries.items()],
            "answers.jsonl": [{"_id": q, "docid": d, "answer": a, "gold_doc_mentions_sme": q == "q1"} for q, (d, a) in answers.items()]}
    for name, items in rows.items():
        (folder / name).write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in items), encoding="utf-8")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, (d, _) in answers.items()), encoding="utf-8")
    (tmp_path / "ids.txt").write_text("q1\nq2\n", encoding="utf-8")
    return folder


def test_bench_answers_asks_every_question_through_the_chain_and_prints_the_table(settings, beir, tmp_path, capsys):
    out = tmp_path / "answers.jsonl"
    home = tmp_path / "bench-home"
    assert run_answer_bench(settings, beir, tmp_path / "ids.txt", out, home=home, embedder=HashingEmbedder()) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [row["query_id"] for row in rows] == ["q1", "q2"]
    for row in rows:
        assert {"question", "gold", "answer", "refused", "reason", "citations", "retrieved", "verdict"} <= set(row)
        assert len(row["retrieved"]) <= 5
    first = rows[0]
    assert first["gold"]["span"] == "贴息比例为50%" and first["sme"] is True
    assert first["verdict"]["correct"] and first["verdict"]["cites_gold"] and first["verdict"]["hit_at_5"]
    assert first["verdict"]["hybrid_hit_at_5"]
    assert any("贴息比例为50%" in c["text"] for c in first["citations"])
    assert (home / "data" / "index").is_dir() and (home / "corpus" / "d1.txt").exists()
    printed = capsys.readouterr().out
    for label in ("answer accuracy", "chain hit@5", "refusal rate", "benchmark hybrid hit@5", "not in the answer text", "sme"):
        assert label in printed
    assert run_answer_bench(settings, beir, tmp_path / "ids.txt", out, home=home, embedder=HashingEmbedder()) == 0
    assert "0 embedded now" in capsys.readouterr().out
