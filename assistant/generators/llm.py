"""The LLM generator: a LangChain chain (prompt files → chat model → text) whose every answer passes the guard
before anyone sees it. The chat model is passed in: a local GGUF through ``ChatLlamaCpp``, any OpenAI-compatible
endpoint through ``ChatOpenAI`` (``assistant.generators.chat_models``), or a scripted one in the tests.

The guard (``assistant.checks.check_llm_answer``): each [n] maps to a clause given to the model (others are
removed and logged); every figure is stated by a clause the sentence cites; a refusal cites nothing; no
eligibility verdict of its own. A failing answer is written once more with the failure named in the prompt;
failing again, or the model failing to answer at all (down, too slow, garbage), the extractive answer is shown
with a note. The decisions travel with the draft (``Draft.guard``) into the answer."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import replace

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable, RunnableLambda

from assistant.checks import LLMCheck, check_llm_answer
from assistant.generators.extractive import sentences_of
from assistant.numbers import figures
from assistant.retrieval.lexical import bigrams
from assistant.types import Clause, Draft, Evidence, GuardReport, Query
from core.prompts import REFUSAL, render
from core.textnorm import shorten

log = logging.getLogger(__name__)

# Where the tokens of the answer being written go, while a page or a terminal shows them as they come (set with
# ``streaming_to``; one value per thread of control, so concurrent questions never mix their tokens).
_TOKEN_SINK: ContextVar[Callable[[str], None] | None] = ContextVar("policyqa_token_sink", default=None)


@contextlib.contextmanager
def streaming_to(sink: Callable[[str], None]) -> Iterator[None]:
    """Within this block, an LLM generator passes each token of what it writes to ``sink`` as it comes (the
    guard still judges the finished answer: what was streamed may be replaced)."""
    token = _TOKEN_SINK.set(sink)
    try:
        yield
    finally:
        _TOKEN_SINK.reset(token)


class LLMGenerator:
    """Writes an answer in plain words from the top clauses, each claim cited [n]; guarded (see module doc)."""

    def __init__(self, name: str, chat_model: BaseChatModel, fallback, context_clauses: int = 4,
                 clause_chars: int = 300, lock: threading.Lock | None = None, secrets: tuple[str, ...] = ()):
        """``fallback``: the generator whose answer is shown when the LLM's is not; ``lock``: held while the model
        writes (a local model answers one question at a time); ``secrets``: strings never to be logged."""
        self.name = name
        self.fallback = fallback
        self.context_clauses = context_clauses
        self.clause_chars = clause_chars
        self._lock = lock or contextlib.nullcontext()
        self._secrets = tuple(s for s in secrets if s)
        self.chain: Runnable = RunnableLambda(self.messages, name="policyqa_prompt") | chat_model | StrOutputParser()
        self.rewriter: Runnable = RunnableLambda(self.rewrite_messages, name="policyqa_rewrite") | chat_model | StrOutputParser()

    # The prompt, from files.
    def numbered(self, clauses: list[Clause], excerpts: dict[str, str] | None = None) -> str:
        """The clauses as the prompt shows them: ``[n] name：text``, each its excerpt (or its start) of at most
        ``clause_chars``."""
        excerpts = excerpts or {}
        return "\n".join(
            render("llm_clause", key=key, clause_name=clause.name,
                   text=excerpts.get(clause.clause_id) or shorten(clause.text, self.clause_chars))
            for key, clause in enumerate(clauses, 1)
        )

    def excerpts(self, query: Query, evidence: list[Evidence]) -> dict[str, str]:
        """Each clause's sentences that best answer the question (scored as the extractive generator scores
        them), in the clause's order, up to ``clause_chars``: a short prompt is read several times faster."""
        picks = self.fallback.pick(query.original, query.context, evidence) if hasattr(self.fallback, "pick") else []
        chosen: dict[str, list[str]] = {}
        for pick in picks:
            kept = chosen.setdefault(pick.clause.clause_id, [])
            if sum(map(len, kept)) + len(pick.sentence) <= self.clause_chars or not kept:
                kept.append(pick.sentence)
        out = {}
        for item in evidence:
            kept = chosen.get(item.clause.clause_id)
            if kept:
                order = sentences_of(item.clause)
                out[item.clause.clause_id] = shorten("".join(sorted(kept, key=order.index)), self.clause_chars)
        return out

    def messages(self, inputs: dict) -> list[BaseMessage]:
        """System rules, the numbered clauses and the question; on a second try, the first answer and what
        was wrong with it."""
        out: list[BaseMessage] = [
            SystemMessage(render("llm_answer_system")),
            # One worked example: a small model copies the citation format from it far more reliably than from rules.
            HumanMessage(render("llm_example_question")),
            AIMessage(render("llm_example_answer")),
            HumanMessage(render("llm_helpdesk" if inputs.get("audience") == "helpdesk" else "llm_answer",
                                clauses=inputs["clauses"], question=inputs["question"])),
        ]
        if inputs.get("failure"):
            out += [AIMessage(inputs["previous"]), HumanMessage(render("llm_retry", failure=inputs["failure"]))]
        return out

    @staticmethod
    def rewrite_messages(inputs: dict) -> list[BaseMessage]:
        """The follow-up rewriting prompt."""
        return [HumanMessage(render("llm_rewrite", previous=inputs["previous"], follow_up=inputs["follow_up"]))]

    # Asking the model.
    def _write(self, inputs: dict) -> str:
        sink = _TOKEN_SINK.get()
        with self._lock:
            if sink is None:
                return self.chain.invoke(inputs)
            written = []
            for chunk in self.chain.stream(inputs):
                written.append(chunk)
                sink(chunk)
            return "".join(written)

    def rewrite(self, previous: str, follow_up: str) -> str:
        """A follow-up rewritten by the model into a whole question; the follow-up itself when the model
        fails or answers with something that is not a question of reasonable length."""
        try:
            with self._lock:
                rewritten = self.rewriter.invoke({"previous": previous, "follow_up": follow_up}).strip()
        except Exception as exc:  # noqa: BLE001 — any failure of the model leaves the follow-up as typed
            log.warning("LLM %s could not rewrite a follow-up (%s)", self.name, self._describe(exc))
            return follow_up
        rewritten = rewritten.splitlines()[0].strip().strip("\"“”") if rewritten else ""
        if not rewritten or len(rewritten) > max(80, 3 * len(previous + follow_up)):
            return follow_up
        return rewritten

    def answer(self, query: Query, evidence: list[Evidence]) -> Draft:
        """The model's answer from the top clauses once it passes the guard; otherwise the fallback's."""
        clauses = [item.clause for item in evidence[: self.context_clauses]]
        if not clauses:
            return Draft("", (), ())
        sources = [f"{clause.name} {clause.reference} {clause.text}" for clause in clauses]
        top = evidence[: self.context_clauses]
        inputs = {"question": query.text, "clauses": self.numbered(clauses, self.excerpts(query, top)),
                  "audience": query.audience}
        regenerated = False
        try:
            raw = self._write(inputs)
            bodies = [clause.text for clause in clauses]
            check = check_llm_answer(raw, sources, REFUSAL, bodies)
            first = check
            if check.failure:
                log.info("LLM answer failed the guard (%s): written again", check.failure)
                regenerated = True
                check = check_llm_answer(self._write({**inputs, "previous": raw, "failure": check.failure}),
                                         sources, REFUSAL, bodies)
                check = replace(check, removed_keys=first.removed_keys + check.removed_keys,
                                unsupported_numbers=tuple(dict.fromkeys(first.unsupported_numbers + check.unsupported_numbers)))
        except Exception as exc:  # noqa: BLE001 — a model failing in any way shows the extractive answer, never a traceback
            error = self._describe(exc)
            log.warning("LLM %s failed (%s): extractive answer shown", self.name, error)
            return self._fallback(query, evidence, GuardReport(False, regenerated=regenerated, fallback=True, error=error))
        failures = tuple(f for f in (first.failure, check.failure if regenerated else "") if f)
        if check.failure:
            log.warning("LLM answer failed the guard twice (%s): extractive answer shown", check.failure)
            report = GuardReport(False, check.removed_keys, check.unsupported_numbers, regenerated, fallback=True,
                                 failures=failures)
            return self._fallback(query, evidence, report)
        report = GuardReport(True, check.removed_keys, check.unsupported_numbers, regenerated, failures=failures,
                             cited_by_code=check.cited_by_code)
        if check.refusal:
            return Draft("", (), (), guard=report)
        return _draft(check, clauses, report)

    def _fallback(self, query: Query, evidence: list[Evidence], report: GuardReport) -> Draft:
        return replace(self.fallback.answer(query, evidence), guard=report)

    def _describe(self, exc: BaseException) -> str:
        """An exception as one line for the log and the guard report, with every secret blanked out."""
        text = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _draft(check: LLMCheck, clauses: list[Clause], report: GuardReport) -> Draft:
    """A passing answer as a draft: keys renumbered 1.. in order of first use, each cited clause with the
    sentences of it the answer rests on (those stating one of its figures or sharing much of its wording)."""
    order = {key: index for index, key in enumerate(check.keys, 1)}
    text = check.text
    for key, index in order.items():
        text = text.replace(f"[{key}]", f"[@{index}]")
    text = text.replace("[@", "[")
    sources = tuple(clauses[key - 1] for key in check.keys)
    stated = {figure.key for figure in figures(check.text)}
    answer_grams = set(bigrams(check.text))
    sentences = []
    for clause in sources:
        used = []
        for sentence in sentences_of(clause):
            grams = set(bigrams(sentence))
            shares = len(grams & answer_grams) / len(grams) if grams else 0.0
            if shares >= 0.4 or any(f.key in stated for f in figures(sentence)):
                used.append(sentence)
        sentences.append(tuple(used))
    return Draft(text, sources, tuple(sentences), guard=report)
