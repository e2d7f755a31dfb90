"""The answering chain, which carries out the decisions of ``assistant.decide``: cut the message → decide on the
message → read it into a ``Question`` (forms, follow-up, places, focus, figures) → decide on the question (screen,
places covered) → for a status question, the documents' status → else retrieve each ranking, decide on it (the fitted
model), generate → decide on what was drafted → the enterprise's figures, other documents, a yes/no lead → check
citations, add status notes → the user's script. ``_refuse`` is the one place a decision not to answer becomes an
answer."""

from __future__ import annotations

import copy
import datetime as dt
import logging
import re
from dataclasses import dataclass, replace

from assistant.about_place import about_the_place
from assistant.checks import check_citations
from assistant.conversation import Conversation, Turn, resolve
from assistant.decide import (
    Action,
    Decision,
    DecisionModel,
    Reason,
    decide,
    decide_message,
    decide_on_drafts,
    decide_on_quoted_clause,
    decide_question,
    decide_status,
    features,
    load_model,
)
from assistant.figures import with_figures
from assistant.generators import Generator, generator_factory
from assistant.question import AnswerKind, Question, mandarin
from assistant.retrieval.knowledge import KnowledgeBase
from assistant.retrieval.lexical import normalize
from assistant.retrieval.snapshot import Snapshot
from assistant.several import interleave, with_other_documents
from assistant.status import (
    asks_date,
    asks_status,
    note,
    period_in_text,
    refers_back,
    status_documents,
    status_drafts,
)
from assistant.support import (
    DocumentFrequencies,
    SupportMeasure,
    Thresholds,
    measure_support,
    split_terms,
    supported,
)
from assistant.timing import Stopwatch, TimedGenerator
from assistant.types import (
    REPHRASE_REASONS,
    Answer,
    Citation,
    Clause,
    Draft,
    Evidence,
    GuardReport,
    Note,
    Part,
    Query,
    in_script,
)
from assistant.vocabulary import TypoRepair, Vocabulary, default_vocabulary
from assistant.yesno import asks_whether_exists as asks_whether_exists  # re-exported: tests import it from here
from assistant.yesno import with_yes_lead
from core.prompts import REFUSAL, render
from core.textnorm import has_cjk, is_traditional, shorten, to_simplified
from index.gazetteer import Place

log = logging.getLogger(__name__)
_ASKS_DETAIL = re.compile(r"具体|详细|详情|还有(哪些|什么|啥)|其他|其它|别的|都有")
# A message with nothing to read is told so, in a sentence of its own.
_MESSAGE_REFUSALS = {Reason.EMPTY: "empty_question", Reason.NO_CONTENT: "no_content"}


@dataclass(frozen=True)
class Prepared:
    """What the chain derives from one index snapshot: the generator, the support texts and how many of them
    contain a word, swapped whole."""

    snapshot: Snapshot
    generator: Generator
    normalised: tuple[str, ...]
    frequencies: DocumentFrequencies
    typos: TypoRepair


class Assistant:
    """Answers questions from the knowledge base; conversations are passed in, never shared."""

    def __init__(self, knowledge: KnowledgeBase, settings, thresholds: Thresholds | None = None,
                 vocabulary: Vocabulary | None = None, decision_model: DecisionModel | None = None):
        self.kb = knowledge
        self.decision_model = decision_model or load_model()
        self.settings = settings
        self.thresholds = thresholds or Thresholds()
        self._prepared: Prepared | None = None  # what the chain derives from the knowledge base's snapshot
        self.vocabulary = vocabulary or default_vocabulary()
        self._alternatives = self.vocabulary.alternatives()
        self._make_generator = generator_factory(settings)  # the settings' generator, made per snapshot
        self.audience = "owner"  # set per question on the pinned view (see ask)

    def refresh(self, wait: bool = False) -> Generator:
        """Pick up a newly published index generation; the generator and the support texts follow it. A question
        does not wait while another thread loads one; a re-index does (``wait``), so that it ends on its own."""
        self.kb.reload(wait=wait)
        snapshot = self.kb.snapshot
        prepared = self._prepared
        # Compare snapshots rather than trust reload()'s answer: another caller may have reloaded first.
        if prepared is None or prepared.snapshot is not snapshot:
            normalised = tuple(normalize(text) for text in snapshot.texts)
            typos = TypoRepair((w for w in snapshot.bm25.words() if len(w) >= 3), normalised)
            prepared = Prepared(snapshot, self._make_generator(snapshot), normalised, DocumentFrequencies(normalised),
                                typos)
            self._prepared = prepared  # one assignment: other questions see the old or the new, never a mix
        return prepared.generator

    def pinned(self, stopwatch: Stopwatch | None = None) -> Assistant:
        """This assistant held at the current index generation, for one question: every step of the question
        searches the same snapshot, even if a re-index publishes a new generation meanwhile. No lock is taken."""
        self.refresh()
        view = copy.copy(self)
        view.stopwatch = stopwatch or Stopwatch()
        view.kb = self.kb.pinned(view.stopwatch)
        if view._prepared.snapshot is not view.kb.snapshot:  # another thread loaded a newer one just now
            view._prepared = None
            view.refresh()
        return view

    @property
    def _normalised(self) -> tuple[str, ...]:
        """The clauses' indexed texts, normalised for support, in clause order."""
        return self._prepared.normalised

    @property
    def _typos(self) -> TypoRepair:
        """Typo repair against the words of the current generation."""
        return self._prepared.typos

    def _normalised_text(self, clause: Clause) -> str:
        return self._normalised[self.kb.position[clause.clause_id]]

    def support(self, question: str, evidence: list[Evidence], skip: set[str]) -> float:
        """How much of the question the best of the top three clauses speaks to (see ``assistant.support``)."""
        return self._clause_support(question, [item.clause for item in evidence[:3]], skip)

    def _clause_support(self, text: str, clauses: list[Clause], skip: set[str], background: bool = True) -> float:
        """The support measure of a text against clauses; ``background``: the words of a sentence that only
        describes the asker are optional (a follow-up's context is judged with every word required)."""
        return self._measure(text, clauses, skip, background).score

    def _measure(self, text: str, clauses: list[Clause], skip: set[str], background: bool = True) -> SupportMeasure:
        """The support measure with its parts (``assistant.support.measure_support``)."""
        terms, optional = split_terms(text, skip, self.vocabulary)
        passages = [self._normalised_text(clause) for clause in clauses]
        return measure_support(terms, passages, self._prepared.frequencies, self._alternatives,
                               optional if background else ())

    def decide(self, text: str, evidence: list[Evidence], skip: set[str], query: Query | None = None,
               wants: tuple[AnswerKind, ...] = ()) -> Decision:
        """The one decision on a ranking: whether its clauses answer the question (``assistant.decide``). For a
        follow-up, how much of the question it follows the first clause speaks to (1 when the previous answer
        cited that clause): "国家级的呢?" after a question on provincial incubators is not about national centres."""
        context = query.context if query is not None else ""
        follows = 1.0
        if context and evidence and evidence[0].clause.clause_id not in query.cited:
            follows = self._measure(context, [evidence[0].clause], skip, background=False).score
        values = features(self._measure(text, [e.clause for e in evidence[:3]], skip),
                          self._measure(text, [e.clause for e in evidence[:1]], skip),
                          evidence, len(self._normalised), bool(context), wants, follows)
        return decide(self.decision_model, values, evidence, self.settings.decision_threshold)

    def _on_the_quoted_clause(self, decision: Decision, quoted: Clause, query: Query, skip: set[str],
                              evidence: list[Evidence]) -> Decision:
        """A follow-up's decision taken again on the clause its answer quotes first, when the generator quoted
        another clause than the first-ranked one: how much of the question followed that clause leaves out."""
        if quoted.clause_id in query.cited:
            return decision
        follows = self._measure(query.context, [quoted], skip, background=False).score
        return decide_on_quoted_clause(self.decision_model, decision, follows, evidence,
                                       self.settings.decision_threshold)

    def ask(self, question: str, conversation: Conversation | None = None, region: str | None = None,
            doc_ids: tuple[str, ...] | None = None, statuses: tuple[str, ...] | None = None,
            audience: str = "owner") -> Answer:
        """Answer one message of a conversation (a new one if none is given), optionally only from the
        documents of a region, the given documents, or documents of the given statuses; ``audience`` "helpdesk"
        asks an LLM generator for a formal reply's wording."""
        stopwatch = Stopwatch()
        conversation = conversation if conversation is not None else Conversation()
        pinned = self.pinned(stopwatch)
        pinned.audience = audience
        answer = pinned._answer(question, conversation, pinned._doc_filter(region, doc_ids, statuses))
        answer = replace(answer, timings=stopwatch.timings())
        conversation.turns.append(Turn(question, answer.resolved_question or question, answer))
        return answer

    def _answer(self, message: str, conversation: Conversation, doc_filter: tuple[str, ...] | None) -> Answer:
        """One message: cut → decide on the message → read → decide on the question → the status of documents, or
        retrieve, decide and generate. Every refusal is a decision of ``assistant.decide``, carried out by
        ``_refuse``."""
        today = self.settings.current_date()
        text, notes = self._cut((message or "").strip())
        base = dict(question=message, notes=notes, today=today)
        refusal = decide_message(text)
        if refusal is not None:
            return self._refuse(base, refusal)
        generator = TimedGenerator(self.refresh(), self.stopwatch)
        question = self._read(text, conversation, generator)
        base |= dict(resolved_question=question.resolved, traditional=question.traditional,
                     rewritten_question=question.rewritten)
        refusal = decide_question(question)
        if refusal is not None:
            return self._refuse(base, refusal)
        if self._asks_status(question):
            return self._status(base, question, conversation, doc_filter, today)
        return self._generate(generator, base, question, self._query(question), self._groups(question, doc_filter),
                              today, named=self._named(question, doc_filter))

    def _cut(self, text: str) -> tuple[str, tuple[Note, ...]]:
        """The message cut to the length limit, with a notice when it was cut."""
        limit = self.settings.max_question_chars
        if len(text) <= limit:
            return text, ()
        return text[:limit], (Note("truncated", render("question_truncated", limit=limit)),)

    def _read(self, text: str, conversation: Conversation, generator) -> Question:
        """The message read once (``assistant.question``): its forms and focus, places, context and script."""
        if has_cjk(text):
            conversation.traditional = is_traditional(text)
        simplified = self._typos.repair(mandarin(to_simplified(text)))
        resolution = resolve(simplified, conversation.last_resolved(), self.kb.regions.gazetteer)
        rewritten = self._rewritten(generator, resolution, conversation.last_resolved(), simplified)
        if rewritten:
            resolution = replace(resolution, text=rewritten)
        # A follow-up is read with what it follows; "那江门呢?" asks the whole previous question there instead.
        follow_up = resolution.follow_up and not resolution.place_swap
        # The generator scores sentences on what is asked, not where: place names are left out.
        focus = self._without_places(resolution.text if resolution.place_swap else simplified)
        return Question(text, simplified, resolution, self.kb.regions.match(resolution.text), conversation.traditional,
                        context=conversation.context() if follow_up else "",
                        cited=conversation.cited_clauses() if resolution.follow_up else (), rewritten=rewritten,
                        focus=focus)

    def _rewritten(self, generator, resolution, previous: str | None, message: str) -> str:
        """With an LLM generator, a follow-up (other than "那江门呢?", which code resolves) rewritten by the LLM into
        a whole question; empty when not rewritten."""
        rewrite = getattr(getattr(generator, "generator", generator), "rewrite", None)
        if rewrite is None or not self.settings.llm_rewrite_follow_ups or not resolution.follow_up \
                or resolution.place_swap or not previous:
            return ""
        rewritten = to_simplified(rewrite(previous, message))
        return "" if rewritten == message else rewritten

    def _asks_status(self, question: Question) -> bool:
        """Whether the question asks a document's status or dates, rather than a period a clause states."""
        simplified = question.simplified
        return (asks_status(simplified) or asks_date(simplified)) and not period_in_text(
            simplified, question.places.doc_ids, kb=self.kb, search_text=self._search_text(simplified))

    def _status(self, base: dict, question: Question, conversation: Conversation, doc_filter: tuple[str, ...] | None,
                today: dt.date) -> Answer:
        """Status (or dates) of the documents the question names: by place, by the previous answer's citations
        ("这个文件还有效吗?"), or the best match of its words."""
        simplified = question.simplified
        referred = refers_back(simplified) and not self.kb.regions.gazetteer.find(simplified)
        cited = conversation.cited_docs() if referred else ()
        documents = status_documents(question.places.doc_ids, cited, referred=referred, allowed=doc_filter)
        refusal = decide_status(documents, refers_back=referred, cited=cited, filtered=doc_filter is not None)
        if refusal is not None:
            return self._refuse(base, refusal)
        about_dates = asks_date(simplified)
        found = status_drafts(question.resolved, documents, today, kb=self.kb, top_k=self.settings.top_k,
                              about_dates=about_dates)
        decision = decide_on_drafts(None, found is not None, question)
        if not decision.answers:
            return self._refuse(base, decision)
        drafts, evidence = found
        return self._compose(base, drafts, evidence, (), today, notes=about_dates)

    def _query(self, question: Question) -> Query:
        """The question as the retriever and the generator see it. Sentences are chosen by the message in the
        policies' words too (奖励 → 奖补, 老板 → 企业负责人)."""
        asked = self._search_text(question.asked) if question.describes_asker else ""
        return Query(question.resolved, self._search_text(question.focus), self._without_places(question.context),
                     cited=question.cited, asked=asked, audience=self.audience)

    @staticmethod
    def _groups(question: Question, doc_filter: tuple[str, ...] | None
                ) -> list[tuple[Place | None, tuple[str, ...] | None]]:
        """The rankings to search: one a place when the question names several covered places (answered place by
        place), else one, within the documents of the place named and the filter."""
        match = question.places
        if len(match.covered) > 1:
            return list(match.covered)
        ids = match.doc_ids or None
        if doc_filter is not None:
            ids = tuple(set(ids or doc_filter) & set(doc_filter))
        return [(None, ids)]

    @staticmethod
    def _named(question: Question, doc_filter: tuple[str, ...] | None) -> tuple[Place, ...]:
        """The one covered place a question names, whose answer may come from documents filed elsewhere."""
        covered = question.places.covered
        return tuple(p for p, _ in covered) if doc_filter is None and len(covered) == 1 else ()

    def _search_text(self, text: str) -> str:
        """What is searched for a question: its words and the policy terms its everyday words stand for."""
        extra = self.vocabulary.expansions(normalize(text))
        return f"{text} {' '.join(extra)}" if extra else text

    def _without_places(self, text: str) -> str:
        return _strip_places(text, self.kb.regions.gazetteer.find(text))

    def _doc_filter(self, region: str | None, doc_ids, statuses) -> tuple[str, ...] | None:
        """The documents a user's filters allow (None: all)."""
        if not (region or doc_ids or statuses):
            return None
        self.kb.reload()
        allowed = self.kb.allowed(doc_ids, statuses)
        allowed = {d.doc_id for d in self.kb.docs} if allowed is None else allowed
        if region:
            allowed &= set(next((ids for name, ids in self.kb.regions.regions() if name == region), ()))
        return tuple(sorted(allowed))

    def _generate(self, generator: Generator, base: dict, question: Question, query: Query, groups, today: dt.date,
                  named: tuple[Place, ...] = ()) -> Answer:
        """Retrieve and decide each ranking, draft the answers, decide on what was drafted, then add what the
        enterprise's figures, other documents and a yes/no question call for."""
        skip = question.place_names
        drafts, merged, missing, guards, decisions = self._draft_rankings(generator, query, groups, skip,
                                                                          question.wants)
        if not drafts and named and not query.context:
            searched = {doc_id for _, ids in groups for doc_id in (ids or ())}
            drafts, merged = about_the_place(
                query, named, skip, merged, searched, kb=self.kb, generator=generator,
                search_text=self._search_text(query.text), top_k=self.settings.top_k, decide=self.decide)
        first = decisions[0] if decisions else None
        base = {**base, "decision": first}
        quoted = drafts[0][1].quoted if len(drafts) == 1 and not drafts[0][0] else None
        decision = decide_on_drafts(first, bool(drafts), question, quoted)
        if not decision.answers:
            # With nothing drafted, the LLM's checked decisions to refuse are kept with the refusal.
            return self._refuse(base, decision, merged, guard=None if drafts else GuardReport.merged(guards))
        drafts = [(label, with_figures(query.original, draft, question.stated_figures)) for label, draft in drafts]
        if len(groups) == 1 and groups[0] == (None, None) and not query.context:
            drafts, merged = with_other_documents(
                drafts, merged, query, skip, kb=self.kb, generator=generator, search_text=self._search_text(query.text),
                support=self.support, clause_support=self._clause_support, thresholds=self.thresholds)
        if not missing:  # a place without a basis is no "有"
            drafts = with_yes_lead(base["question"], drafts)
        return self._compose(base, drafts, merged, question.places.uncovered, today, no_basis=missing)

    def _draft_rankings(self, generator: Generator, query: Query, groups, skip: set[str],
                        wants: tuple[AnswerKind, ...]):
        """Each group's ranking, its decision, and a draft where the decision answers: the drafts (labelled by
        place), the rankings merged, the places without a basis, the LLM's guard reports and the decisions."""
        drafts: list[tuple[str, Draft]] = []
        evidence_lists: list[list[Evidence]] = []
        places = [place for place, _ in groups if place]
        missing: list[str] = []
        guards: list[GuardReport] = []
        decisions: list[Decision] = []
        for place, ids in groups:
            label = place.name if place else ""
            # In a comparison, each region is searched without the other regions' names in the query.
            text = _strip_places(query.text, [other for other in places if other != place])
            evidence = self.kb.search(self._search_text(text), self.settings.top_k, doc_ids=ids)
            if query.cited and not place:
                # A follow-up ("具体能提供啥服务?") asks more about what was just answered: that clause first.
                evidence = _cited_first(evidence, query.cited)
            evidence_lists.append(evidence)
            draft = None
            decisions.append(self.decide(text, evidence, skip, query, wants))
            if decisions[-1].answers:
                continuing = self._continuing(query, evidence, skip, place)
                # "具体…?" about the clause just quoted in part: the whole clause.
                whole = continuing is not evidence and bool(_ASKS_DETAIL.search(query.original))
                draft = generator.answer(replace(query, text=text, whole=whole), continuing)
                if draft.guard is not None:  # kept for a refusal: the LLM's decision to refuse was checked too
                    guards.append(draft.guard)
                # A follow-up quoting another clause than the first-ranked one: decided again on that clause.
                if draft.sources and query.context and draft.sources[0].clause_id != evidence[0].clause.clause_id:
                    decisions[-1] = self._on_the_quoted_clause(decisions[-1], draft.sources[0], query, skip, evidence)
                    draft = draft if decisions[-1].answers else None
            if draft and draft.sources:
                drafts.append((label, draft))
            elif label:
                missing.append(label)
        return drafts, interleave(evidence_lists), missing, guards, decisions

    def _continuing(self, query: Query, evidence: list[Evidence], skip: set[str], place) -> list[Evidence]:
        """The evidence a follow-up is answered from: only the clause just cited when the new message's own
        words are all in it ("具体能提供啥服务?" after a question on 智能化改造), else the whole ranking
        ("国家级的呢?" is not answered by a clause on provincial incubators)."""
        cited = [e for e in evidence if e.clause.clause_id in query.cited] if not place else []
        if not cited:
            return evidence
        score = self._clause_support(query.original, [cited[0].clause], skip)
        return cited if supported(score, self.thresholds.min_follow_up_words) else evidence

    def _compose(self, base: dict, drafts, evidence: list[Evidence], uncovered, today: dt.date, notes: bool = True,
                 no_basis: list[str] | None = None) -> Answer:
        """Join the drafts, renumber and check every citation marker, add status notes and sources."""
        allowed = {e.clause.clause_id for e in evidence}
        citations: list[Citation] = []
        parts: list[Part] = []
        for label, draft in drafts:
            checked = check_citations(draft, allowed, tuple(citations))
            citations = list(checked.citations)
            parts.append(Part(checked.text, label))
        said = [Note("region_missing", render("region_missing", region=place.name)) for place in uncovered]
        said += [Note("region_no_basis", render("region_no_basis", region=label)) for label in no_basis or []]
        if notes:
            said += [Note("status", n) for n in dict.fromkeys(note(c.clause.doc, today) for c in citations) if n]
        guard = GuardReport.merged([d.guard for _, d in drafts if d.guard is not None])
        if guard is not None and guard.fallback:  # the extractive answer stands in for the LLM's
            said.insert(0, Note("llm_fallback", render("llm_unavailable" if guard.error else "llm_fallback")))
        answer = Answer(refused=False, body=tuple(parts), citations=tuple(citations), evidence=tuple(evidence),
                        guard=guard, **{**base, "notes": (*base["notes"], *said)})
        # The user's script: quotes of a traditional document are shown in simplified to a simplified asker
        # (the citation keeps the clause exactly as written).
        return _in_script(answer)

    def _refuse(self, base: dict, decision: Decision, evidence: list[Evidence] | None = None,
                guard: GuardReport | None = None) -> Answer:
        """The one place a decision not to answer (``assistant.decide``) becomes an answer: the sentence its
        reason calls for, and for "not sure" the closest clauses (shown apart, never cited)."""
        reason = decision.reason or Reason.NO_SUPPORT
        text = REFUSAL
        if reason in _MESSAGE_REFUSALS:  # nothing to read: say so
            text = render(_MESSAGE_REFUSALS[reason])
        if reason is Reason.REGION_NOT_COVERED:
            text = REFUSAL + render("refusal_region_hint", regions="、".join(n for n, _ in self.kb.regions.regions()))
        if reason in REPHRASE_REASONS:  # not a gap of the knowledge base: the question must be asked differently
            text = render(REPHRASE_REASONS[reason])
        related: tuple[Evidence, ...] = ()
        if decision.action is Action.NOT_SURE and evidence:
            # Not sure: no clause answers directly, the closest ones may help (shown apart, never cited).
            related = tuple(evidence[: self.settings.related_clauses])
            text = text + "\n" + render("not_sure", related="\n".join(
                render("not_sure_clause", reference=e.clause.reference, excerpt=shorten(" ".join(e.clause.text.split()), 60)) for e in related))
        return _in_script(Answer(refused=True, body=(Part(text),), evidence=tuple(evidence or ()), reason=str(reason),
                                 guard=guard, related=related, **base))


def _in_script(answer: Answer) -> Answer:
    """The answer's body and notes in the script it is shown in (``Answer.script``)."""
    body = tuple(Part(in_script(p.text, answer.script), in_script(p.label, answer.script)) for p in answer.body)
    notes = tuple(Note(n.kind, in_script(n.text, answer.script)) for n in answer.notes)
    return replace(answer, body=body, notes=notes)


def _strip_places(text: str, places: list[Place]) -> str:
    """The text without the names (full or short) of these places."""
    for place in places:
        text = text.replace(place.name, " ").replace(place.short, " ")
    return text


def _cited_first(evidence: list[Evidence], cited: tuple[str, ...]) -> list[Evidence]:
    """The ranking with the clauses a previous answer cited moved to the top (when retrieved at all)."""
    order = {clause_id: i for i, clause_id in enumerate(cited)}
    first = sorted((e for e in evidence if e.clause.clause_id in order), key=lambda e: order[e.clause.clause_id])
    rest = [e for e in evidence if e.clause.clause_id not in cited]
    return [replace(e, rank=i) for i, e in enumerate(first + rest, 1)]
