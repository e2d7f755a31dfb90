"""The audit of finished answers (evaluation records): unknown citations and unsupported figures in the cited
lines are counted; notes and the code's own comparisons are not."""

from __future__ import annotations

from evaluation.guard_audit import audit

CLAUSE = {"title": "日照市行动方案", "doc_number": "", "clause": "三、（一）2", "text": "对独角兽企业给予最高300万元奖励。"}


def record(answer, citations=(CLAUSE,), refused=False, guard=None):
    out = {"answer": answer, "citations": list(citations), "refused": refused}
    if guard:
        out["guard"] = guard
    return out


def test_the_audit_counts_what_the_cited_lines_do_not_support():
    guard = {"passed": True, "regenerated": True, "fallback": False, "error": ""}
    checked = audit([
        record("最高300万元[1]。\n注意：实施期已届满（截至2026年11月23日）。\n来源：\n[1] 《日照市行动方案》三、（一）2", guard=guard),
        record("最高500万元[1]。\n来源：\n[1] x"),
        record("最高300万元[2]。"),
        record("按您提供的数字，6÷80=7.5%，未达到条款中的“不低于10%”[1]。最高300万元[1]。"),
        record("抱歉。", citations=(), refused=True),
    ])
    assert (checked.answers, checked.unsupported_numbers, checked.unknown_citations) == (4, 1, 1)
    assert (checked.llm_checked, checked.regenerated, checked.fallback) == (1, 1, 0)
