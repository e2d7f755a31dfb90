"""The evaluation's HTML report: a chart per metric (by category) and every failed case in full."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

METRICS = ("answer_accuracy", "hit@5", "citation_precision", "refusal_accuracy")


def _chart(metric: str, by_category: dict[str, dict]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [name for name, figures in by_category.items() if figures.get(metric) is not None]
    values = [by_category[name][metric] for name in names]
    figure, axis = plt.subplots(figsize=(6, 2.8), dpi=90)
    bars = axis.bar(names or ["(none)"], values or [0], color="#3b6ea5")
    axis.set_ylim(0, 1.05)
    axis.set_title(metric)
    for bar, value in zip(bars, values, strict=False):
        axis.text(bar.get_x() + bar.get_width() / 2, value + 0.02, f"{value:.0%}", ha="center", fontsize=8)
    axis.tick_params(axis="x", labelsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return f'<img alt="{html.escape(metric)} by category" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def _failed(case, result: dict, verdict: dict) -> bool:
    return not verdict["refusal_ok"] or (case.answerable and not verdict.get("correct"))


def write_report(run: dict, path: Path, title: str) -> None:
    """Write the HTML report of an evaluation run."""
    scores = run["scores"]
    esc = html.escape
    rows = "".join(
        f"<tr><td>{esc(name)}</td>" + "".join(
            f"<td>{'' if figures.get(m) is None else f'{figures[m]:.1%}'}</td>" for m in METRICS
        ) + f"<td>{figures['cases']}</td></tr>"
        for name, figures in [("overall", scores["overall"]), *scores["by_category"].items()]
    )
    charts = "".join(_chart(metric, scores["by_category"]) for metric in METRICS)
    failures = []
    for case, result, verdict in zip(run["cases"], run["results"], run["verdicts"], strict=True):
        if not _failed(case, result, verdict):
            continue
        why = [k for k in ("refusal_ok", "facts", "gold_cited", "hit@5") if k in verdict and not verdict[k]]
        cited = "".join(f"<li><b>{esc(c['title'])} {esc(c['clause'])}</b>: {esc(c['text'])}</li>" for c in result["citations"])
        retrieved = "".join(
            f"<li>{r['score']:.3f} <b>{esc(r['title'])} {esc(r['clause'])}</b>: {esc(r['text'][:200])}</li>"
            for r in result["retrieved"][:5]
        )
        failures.append(
            f"<section class='case'><h3>{esc(case.id)} <small>({esc(case.category)}; failed: {esc(', '.join(why))})</small></h3>"
            f"<p><b>turns</b>: {esc(' → '.join(case.turns))}</p>"
            f"<p><b>expected facts</b>: {esc(json.dumps(case.expected_facts, ensure_ascii=False))}; "
            f"<b>gold clauses</b>: {esc(json.dumps(case.gold_clauses, ensure_ascii=False))}; <b>answerable</b>: {case.answerable}</p>"
            f"<pre>{esc(result['answer'])}</pre><p><b>cited</b></p><ol>{cited}</ol><p><b>retrieved</b></p><ol>{retrieved}</ol></section>"
        )
    errors = "".join(f"<li>{esc(str(e))}</li>" for e in run["errors"])
    page = f"""<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px}}pre{{white-space:pre-wrap;background:#f6f6f6;padding:8px}}
.case{{border-top:1px solid #999;margin-top:1em}}img{{margin:4px}}</style></head><body>
<h1>{esc(title)}</h1><table><tr><th>category</th>{''.join(f'<th>{m}</th>' for m in METRICS)}<th>cases</th></tr>{rows}</table>
<h2>Charts</h2>{charts}
<h2>Unreadable lines ({len(run['errors'])})</h2><ul>{errors}</ul>
<h2>Failed cases ({len(failures)})</h2>{''.join(failures) or '<p>none</p>'}</body></html>"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
