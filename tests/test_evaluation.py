"""The evaluation runner: reading Q&A files (bad lines reported, the rest run), scoring, the report."""

from __future__ import annotations

import json

import pytest

from assistant.chain import Assistant
from assistant.retrieval.knowledge import KnowledgeBase
from evaluation.report import write_report
from evaluation.runner import Case, evaluate, judge, load_cases, score
from evaluation.stats import percentile
from index.build import build

GOOD = {"id": "t1", "turns": ["吉林新认定的省级科技企业孵化器补贴多少?"], "answerable": True,
        "expected_facts": [["50万元"]], "gold_clauses": ["对新认定的省级科技企业孵化器给予最高不超过50万元的补贴"], "category": "numeric"}
REFUSE = {"id": "t2", "turns": ["北京市房租补贴多少?"], "answerable": False, "expected_facts": [], "gold_clauses": [], "category": "unanswerable"}


def write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_malformed_lines_are_reported_with_their_number_and_the_rest_is_read(tmp_path):
    path = write_lines(tmp_path / "qa.jsonl", [
        json.dumps(GOOD, ensure_ascii=False),
        '{"id": "x", "turns": ["a"', "",
        json.dumps({"id": "t3", "answerable": True}),
        json.dumps({**GOOD, "turns": "not a list"}),
        json.dumps(GOOD, ensure_ascii=False),
        json.dumps(REFUSE, ensure_ascii=False),
    ])
    cases, errors = load_cases(path)
    assert [c.id for c in cases] == ["t1", "t2"]
    assert [(e.line, e.message.split(" (")[0]) for e in errors] == [
        (2, "bad JSON"), (4, "missing field 'turns'"), (5, "field 'turns' must be list"), (6, "duplicate id 't1'"),
    ]


def test_not_utf8_file_is_one_clear_error(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_bytes("问题".encode("gb18030") * 3)
    cases, errors = load_cases(path)
    assert cases == [] and "UTF-8" in errors[0].message


@pytest.mark.parametrize(
    ("answer", "citations", "refused", "correct"),
    [
        ("补贴最高50万元", [{"text": "对新认定的省级科技企业孵化器给予最高不超过５０万元的补贴。"}], False, True),
        ("补贴最高50万元", [{"text": "无关条款"}], False, False),
        ("补贴最高20万元", [{"text": "对新认定的省级科技企业孵化器给予最高不超过50万元的补贴"}], False, False),
    ],
)
def test_judge_table(answer, citations, refused, correct):
    case = Case(**{k: GOOD[k] for k in ("id", "turns", "answerable", "expected_facts", "gold_clauses", "category")})
    result = {"answer": answer, "citations": citations, "retrieved": citations, "refused": refused}
    assert judge(case, result)["correct"] is correct


@pytest.mark.parametrize(
    ("answer", "citations", "refused", "right"),
    [
        ("抱歉，知识库中没有可以回答这个问题的政策依据。", [], True, True),
        ("对新认定的给予补贴[1]。\n所引条款未规定具体金额，请以发文单位的解释为准。", [{"text": "给予补贴"}], False, True),
        ("对新认定的给予补贴[1]。", [{"text": "给予补贴"}], False, False),  # an answer, with no word on the figure
        ("所引条款未规定具体比例，请以发文单位的解释为准。", [], False, False),  # says it, but quotes no clause
    ],
)
def test_an_unanswerable_amount_is_answered_right_by_saying_the_clause_states_none(answer, citations, refused, right):
    case = Case("u", ["奖励多少钱?"], False, category="unanswerable")
    result = {"answer": answer, "citations": citations, "retrieved": citations, "refused": refused}
    assert judge(case, result)["refusal_ok"] is right


def test_scores_follow_format_md(tmp_path):
    answerable = Case("a", ["q"], True, [["1"]], ["gold"], "numeric")
    refusing = Case("b", ["q"], False, category="unanswerable")
    verdicts = [
        judge(answerable, {"answer": "1", "refused": False, "citations": [{"text": "gold"}, {"text": "other"}],
                           "retrieved": [{"text": "x"}, {"text": "gold"}]}),
        judge(refusing, {"answer": "no", "refused": True, "citations": [], "retrieved": []}),
    ]
    overall = score([answerable, refusing], verdicts)["overall"]
    assert overall["answer_accuracy"] == 1.0 and overall["hit@1"] == 0.0 and overall["hit@3"] == 1.0
    assert overall["citation_precision"] == 0.5 and overall["refusal_accuracy"] == 1.0


def test_runner_on_a_tiny_set_writes_results_in_order_and_a_report(settings, fake_embedder, tmp_path):
    build(settings, fake_embedder, progress=False)
    assistant = Assistant(KnowledgeBase.open(settings, fake_embedder), settings)
    qa = write_lines(tmp_path / "qa.jsonl", [json.dumps(GOOD, ensure_ascii=False), "not json", json.dumps(REFUSE, ensure_ascii=False)])
    run = evaluate(assistant, qa, tmp_path / "out" / "results.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [row["id"] for row in rows] == ["t1", "t2"]
    for row in rows:
        assert set(row) >= {"id", "question", "answer", "refused", "citations", "retrieved", "latency_ms"}
    assert rows[1]["refused"] and rows[1]["citations"] == []
    assert len(rows[0]["retrieved"]) >= 5 and rows[0]["retrieved"][0]["score"] >= rows[0]["retrieved"][1]["score"]
    assert run["scores"]["overall"]["cases"] == 2 and len(run["errors"]) == 1
    report = tmp_path / "report.html"
    write_report(run, report, "tiny")
    page = report.read_text(encoding="utf-8")
    assert page.count("<img") == 4 and "line 2: bad JSON" in page


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [(list(range(1, 21)), 0.95, 19), (list(range(1, 21)), 0.99, 20), ([4, 1, 3, 2], 0.5, 2), ([7], 0.95, 7), ([], 0.95, 0.0)],
)
def test_benchmarks_take_nearest_rank_percentiles(values, share, expected):
    assert percentile(values, share) == expected
