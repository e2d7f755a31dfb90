"""Whether the retrieved clauses answer the question: one decision, taken by a model fitted on the Q&A sets
(``scripts/fit_decision.py``, ``make fit``) rather than by cut-offs set by hand.

The decision reads features of the question against its ranked evidence (how much of what is asked the best
clauses state, how much of it no clause of the knowledge base names at all, the retrievers' scores and whether
they agree) and gives the probability that the question is one the knowledge base answers. At or above the
model's threshold the chain answers; below it, when clauses were retrieved, the answer is "not sure": no clause
answers directly, and the closest ones are shown as possibly related (never as citations)."""

from __future__ import annotations

import enum
import json
import math
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from assistant.question import AnswerKind, states_wanted
from assistant.support import SupportMeasure
from assistant.types import Evidence

MODEL_PATH = Path(__file__).parent / "rules" / "decision.json"


class Action(enum.StrEnum):
    """What the chain does with a question."""

    ANSWER = "answer"
    NOT_SURE = "not_sure"  # no clause answers directly: the closest clauses are shown as possibly related
    REFUSE = "refuse"


@dataclass(frozen=True)
class Decision:
    """The decision on one ranking: the action, the model's probability that the knowledge base answers, and the
    features it was taken on (kept with the answer, so that an evaluation run is also the data to fit on)."""

    action: Action
    probability: float
    threshold: float
    features: dict[str, float] = field(default_factory=dict)
    rule: str = ""  # a rule that overrode the model, where the data cannot decide (see ``decide``)

    @property
    def answers(self) -> bool:
        return self.action is Action.ANSWER

    def record(self) -> dict:
        return {"action": str(self.action), "probability": round(self.probability, 4), "threshold": self.threshold,
                "rule": self.rule, "features": {k: round(v, 4) for k, v in self.features.items()}}


def features(measure: SupportMeasure, first: SupportMeasure, evidence: list[Evidence], clauses: int,
             follow_up: bool, wants: tuple[AnswerKind, ...] = (), follows: float = 1.0) -> dict[str, float]:
    """The decision's features: ``measure`` is the support of the question by the best of the top clauses,
    ``first`` by the first-ranked clause alone; ``clauses`` the size of the knowledge base; ``wants`` the kinds of
    answer the question asks for (an amount, a date …), looked for in the first clause; ``follows``, for a follow-up,
    the support of the question it follows by the first clause (its shortfall is the feature). Retrievers are read by
    whether they rank the first clause best, not by their raw scores, so that another embedder (whose similarities
    lie on another scale) keeps the model's meaning."""
    top = evidence[0] if evidence else None

    def raw(item: Evidence | None, system: str) -> float:
        return item.scores.get(system, 0.0) if item is not None else 0.0

    def first_by(system: str) -> float:
        return float(top is not None and raw(top, system) > 0
                     and raw(top, system) >= max(raw(e, system) for e in evidence))

    def standing(system: str) -> float:
        """How far the first clause stands above the rest of the ranking in one retriever's own units (a
        z-score: the same whatever the retriever's scale)."""
        values = [raw(e, system) for e in evidence]
        if len(values) < 2:
            return 0.0
        mean = sum(values) / len(values)
        spread = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
        return (values[0] - mean) / spread if spread > 1e-9 else 0.0

    return {
        "support": measure.score,
        "support_first": first.score,
        "unseen": measure.unseen,
        "missing_first": first.missing,
        "bm25_first": first_by("bm25"),
        "dense_first": first_by("dense"),
        "agreed": first_by("bm25") * first_by("dense"),
        "bm25_standing": standing("bm25"),
        "dense_standing": standing("dense"),
        "dense_top": raw(top, "dense"),  # the bundled embedder's cosine: only a model fitted with it may use it
        "cover_top": raw(top, "cover"),
        "cover_best": max((raw(e, "cover") for e in evidence), default=0.0),
        "fused_margin": (evidence[0].score - evidence[1].score) if len(evidence) > 1 else (top.score if top else 0.0),
        "log_terms": math.log1p(measure.terms),
        "log_clauses": math.log1p(clauses),
        "log_clause_chars": math.log1p(len(top.clause.text)) if top is not None else 0.0,
        "follow_up": float(follow_up),
        "context_missing": (1.0 - follows) if follow_up else 0.0,
        "wants_kind": float(bool(wants)),
        "kind_missing": float(bool(wants) and top is not None and not states_wanted(wants, top.clause.text)),
        "support_agreed": measure.score * first_by("bm25") * first_by("dense"),
    }


@dataclass(frozen=True)
class DecisionModel:
    """A logistic regression over standardised features, as ``scripts/fit_decision.py`` wrote it."""

    names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float

    @classmethod
    def from_dict(cls, data: dict) -> DecisionModel:
        names = tuple(data["features"])
        columns = [tuple(data[key]) for key in ("mean", "scale", "coef")]
        if any(len(column) != len(names) for column in columns) or any(s <= 0 for s in data["scale"]):
            raise ValueError("decision model: mean, scale and coef must have one positive-scaled value per feature")
        return cls(names, *columns, float(data["intercept"]), float(data["threshold"]))

    def probability(self, values: dict[str, float]) -> float:
        z = self.intercept + sum(
            c * (values.get(n, 0.0) - m) / s for n, m, s, c in zip(self.names, self.mean, self.scale, self.coef, strict=True))
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def decide(self, values: dict[str, float], evidence: list[Evidence], threshold: float | None = None) -> Decision:
        """Answer at or above the threshold (the model's own unless another is given); below it, "not sure" when
        clauses were retrieved, else refuse."""
        threshold = self.threshold if threshold is None else threshold
        p = self.probability(values)
        action = Action.ANSWER if p >= threshold and evidence else Action.NOT_SURE if evidence else Action.REFUSE
        return Decision(action, p, threshold, values)


def holds_the_question(values: dict[str, float]) -> bool:
    """Whether the first-ranked clause holds every word the question asks, none of them unknown to the knowledge
    base, and states the kind of answer wanted. Such a question is answered whatever the model says: short
    questions ("吉林对专利保险有补助吗？") weigh low in it, and on the fitted sets this holds for 310 answerable
    questions and 1 unanswerable one."""
    return (values.get("support_first", 0.0) >= 0.99 and values.get("unseen", 1.0) == 0.0
            and not values.get("kind_missing", 0.0))


def decide(model: DecisionModel, values: dict[str, float], evidence: list[Evidence], threshold: float | None = None
           ) -> Decision:
    """The model's decision, and one rule: a question the first clause holds whole is answered
    (``holds_the_question``). A follow-up answered from a clause that was not cited before is weighed by the model
    too: ``context_missing`` says how much of the question it follows that clause leaves out ("国家级的呢?" after
    a question on provincial incubators, answered with a clause on R&D deductions)."""
    decision = model.decide(values, evidence, threshold)
    if not decision.answers and evidence and holds_the_question(values):
        decision = replace(decision, action=Action.ANSWER, rule="first_clause_holds_the_question")
    return decision


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> DecisionModel:
    """The fitted decision model (read once)."""
    return DecisionModel.from_dict(json.loads(path.read_text(encoding="utf-8")))


__all__ = ["MODEL_PATH", "Action", "Decision", "DecisionModel", "decide", "features", "holds_the_question", "load_model"]
