"""Whether a question is answered, and why not: every answer-or-refuse choice of the chain is taken here, by pure
functions over the ``Question``, its ranked evidence and what the answer quotes, each returning a ``Decision``. The
chain only carries a decision out (``assistant.chain``: one place turns a refusal into an ``Answer``).

In the order the chain asks them:

- ``decide_message``: a message with nothing to read (empty, or no letter, digit or Chinese character).
- ``decide_question``: a message read into a ``Question`` that is not a policy question (``assistant.guard.screen``:
  instructions to the assistant, chit-chat, not Chinese) or names only places the knowledge base does not cover.
- ``decide_status``: a status question ("这个文件还有效吗?") about no document.
- ``decide``: whether the retrieved clauses answer, taken by a model fitted on the Q&A sets
  (``scripts/fit_decision.py``, ``make fit``) rather than by cut-offs set by hand. It reads features of the question
  against its ranked evidence (how much of what is asked the best clauses state, how much of it no clause of the
  knowledge base names at all, the retrievers' scores and whether they agree) and gives the probability that the
  question is one the knowledge base answers. At or above the model's threshold the chain answers; below it, when
  clauses were retrieved, the answer is "not sure": no clause answers directly, and the closest ones are shown as
  possibly related (never as citations). ``decide_on_quoted_clause`` takes it again for a follow-up whose answer
  quotes another clause than the first-ranked one; ``assistant.about_place`` asks it of the ranking of documents
  filed elsewhere that name the place asked about.
- ``decide_on_drafts``: on what was drafted: nothing, or a "how much" answered by sentences not about the quantity
  asked (``decide_on_quote``), is "not sure".
- ``decide_other_document``: whether another document adds a part to an answer (``assistant.several``): a cut-off
  on the support measure of its own clauses, set by hand (``Thresholds.min_support_other_document``), since the
  first part has already shown what the question is about.

``Reason`` says why a question is not answered; its values are ``Answer.reason`` (the evaluation's records, the
service's hand-off rules), so they do not change."""

from __future__ import annotations

import enum
import json
import math
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from assistant.figures import unanswered_quantity
from assistant.guard import screen
from assistant.question import AnswerKind, Question, states_wanted
from assistant.support import SupportMeasure, supported
from assistant.types import Evidence

MODEL_PATH = Path(__file__).parent / "rules" / "decision.json"
_CONTENT = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")


class Action(enum.StrEnum):
    """What the chain does with a question."""

    ANSWER = "answer"
    NOT_SURE = "not_sure"  # no clause answers directly: the closest clauses are shown as possibly related
    REFUSE = "refuse"


class Reason(enum.StrEnum):
    """Why a question is not answered (``Answer.reason``). The values are part of the API: the evaluation's
    records, the service's presenter and hand-off rules (``serve/rules/handoff.yaml``) read them."""

    EMPTY = "empty"  # nothing typed
    NO_CONTENT = "no_content"  # no letter, digit or Chinese character
    INJECTION = "injection"  # instructions to ignore the rules or reveal the prompt (``assistant.guard``)
    CHITCHAT = "chitchat"  # greetings and requests outside policy Q&A
    NOT_CHINESE = "not_chinese"  # Latin words and no Chinese character: to be asked in Chinese
    REGION_NOT_COVERED = "region_not_covered"  # only places the knowledge base has no document for
    NO_REFERENCE = "no_reference"  # "这个文件还有效吗?" with no document cited before: to be asked naming it
    NO_SUPPORT = "no_support"  # no clause answers (the closest ones may be shown: "not sure")


@dataclass(frozen=True)
class Decision:
    """One decision: the action and, when not answering, the reason; for the model's decision on a ranking, its
    probability that the knowledge base answers, its threshold and the features it was taken on (kept with the
    answer, so that an evaluation run is also the data to fit on)."""

    action: Action
    probability: float = 0.0
    threshold: float = 0.0
    features: dict[str, float] = field(default_factory=dict)
    rule: str = ""  # the rule that decided, where the model did not (see ``decide`` and the other functions)
    reason: Reason | None = None  # why not answered (None when answered)

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
        return Decision(action, p, threshold, values, reason=None if action is Action.ANSWER else Reason.NO_SUPPORT)


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
        decision = replace(decision, action=Action.ANSWER, rule="first_clause_holds_the_question", reason=None)
    return decision


def decide_on_quoted_clause(model: DecisionModel, decision: Decision, follows: float, evidence: list[Evidence],
                            threshold: float | None = None) -> Decision:
    """A follow-up's decision taken again when its answer quotes another clause than the first-ranked one:
    ``follows`` is how much of the question it follows that clause speaks to (its shortfall is the feature
    ``context_missing``)."""
    values = {**decision.features, "context_missing": round(1.0 - follows, 4)}
    return decide(model, values, evidence, threshold)


def refusal(reason: Reason, rule: str = "") -> Decision:
    """A refusal taken by a rule before any ranking."""
    return Decision(Action.REFUSE, rule=rule or str(reason), reason=reason)


def decide_message(text: str) -> Decision | None:
    """A message with nothing to read: empty, or without a letter, digit or Chinese character. None: read it."""
    if not text:
        return refusal(Reason.EMPTY)
    if not _CONTENT.search(text):
        return refusal(Reason.NO_CONTENT)
    return None


def decide_question(question: Question) -> Decision | None:
    """A question declined before retrieval: not a policy question (``assistant.guard.screen``), or naming only
    places the knowledge base does not cover. None: retrieve."""
    verdict = screen(question.simplified)
    if verdict.declined:
        return refusal(Reason(verdict.reason), rule="screen")
    if question.places.uncovered and not question.places.covered:
        return refusal(Reason.REGION_NOT_COVERED)
    return None


def decide_status(documents: tuple[str, ...], *, refers_back: bool, cited: tuple[str, ...], filtered: bool
                  ) -> Decision | None:
    """A status question about no document: "这个文件还有效吗?" (``refers_back``) when the previous answer ``cited``
    no document and no filter says which (to be asked naming it), or a filter that leaves no document of those
    meant (``documents``). None: answer the status of ``documents`` (none: the best match of the question's words)."""
    if refers_back and not cited and not filtered:
        return refusal(Reason.NO_REFERENCE)
    if filtered and not documents:
        return refusal(Reason.NO_SUPPORT, rule="no_document_allowed")
    return None


def decide_other_document(support: float, needed: float) -> Decision:
    """Whether another document adds a part to an answer: its own clauses (the best ones, then the one its part
    quotes) support the question at least ``needed`` (``Thresholds.min_support_other_document``)."""
    action = Action.ANSWER if supported(support, needed) else Action.REFUSE
    return Decision(action, support, needed, rule="other_document_support",
                    reason=None if action is Action.ANSWER else Reason.NO_SUPPORT)


def decide_on_quote(decision: Decision, question: Question, quoted: str) -> Decision:
    """An answer checked against the sentences it quotes: a "how much" question ("多少价格扣除?") answered by
    sentences that name none of its quantity's words and state no figure is not answered by them
    (``assistant.figures.unanswered_quantity``). Then not sure, with the closest clauses, unless the first ranking
    found no clause at all (``decision``: the decision on that ranking)."""
    if unanswered_quantity(question.typed, quoted) is None:
        return replace(decision, action=Action.ANSWER, reason=None)
    return _not_answered(decision, "unanswered_quantity")


def decide_on_drafts(decision: Decision | None, drafted: bool, question: Question, quoted: str | None = None
                     ) -> Decision:
    """The last decision, on what generation drafted for the question whose first ranking was decided by
    ``decision`` (None: no ranking was decided, as for a status question): nothing drafted is not answered; the
    one part of an answer that quotes ``quoted`` is checked by ``decide_on_quote``. Not answered is "not sure"
    (the closest clauses shown) when the first ranking found clauses, else a refusal."""
    decided = decision if decision is not None else Decision(Action.REFUSE)
    if not drafted:
        return _not_answered(decided, "nothing_drafted")
    if quoted is not None:
        return decide_on_quote(decided, question, quoted)
    return replace(decided, action=Action.ANSWER, reason=None)


def _not_answered(decision: Decision, rule: str) -> Decision:
    """Not sure (no clause answers directly; the closest ones may help) or, when the ranking found no clause, a
    refusal; either for want of support."""
    action = Action.REFUSE if decision.action is Action.REFUSE else Action.NOT_SURE
    return replace(decision, action=action, rule=rule, reason=Reason.NO_SUPPORT)


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> DecisionModel:
    """The fitted decision model (read once)."""
    return DecisionModel.from_dict(json.loads(path.read_text(encoding="utf-8")))


__all__ = ["MODEL_PATH", "Action", "Decision", "DecisionModel", "Reason", "decide", "decide_message",
           "decide_on_drafts", "decide_on_quote", "decide_on_quoted_clause", "decide_other_document",
           "decide_question", "decide_status", "features", "holds_the_question", "load_model", "refusal"]
