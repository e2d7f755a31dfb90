"""Reply drafts staff can send as they are: a citizen's message → greeting, the answer to every sub-question of it
(or that the documents do not say), the sources listed under it, sign-off with the replying unit and date.

The message is cut into segments by general cues (``serve/rules/drafts.yaml``): courtesies ("你好", "请问") are
dropped, segments that ask are the sub-questions, the others describe the asker and go with the first one. The
sub-questions are asked in order in one conversation (a short "找谁问" is read as a follow-up). No [n] marker is in
the body; each clause is quoted once; a sub-question asking for a kind of answer (a date, an amount, who is
responsible: ``assistant/rules/answer_kinds.yaml``) that no cited clause states is said to be unanswered by them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from assistant.conversation import Conversation, is_follow_up
from assistant.question import wanted_kinds
from assistant.types import REPHRASE_REASONS, Answer, Clause
from core.prompts import render
from core.textnorm import to_simplified

DRAFT_RULES_PATH = Path(__file__).parent / "rules" / "drafts.yaml"
_MARKER = re.compile(r"\s*\[\d+\]")
_SENTENCE = re.compile(r"[^。；;！!？?\n]+[。；;！!？?]?")
# Notes a citizen needs beside the answer: a place the documents do not cover, a policy's status.
_CITIZEN_NOTES = ("region_missing", "region_no_basis", "status")


@dataclass(frozen=True)
class DraftRules:
    """The cues a message is read by (see the module's docstring)."""

    courtesies: tuple[str, ...]
    segment_break: re.Pattern
    asks: re.Pattern
    kind_nouns: dict[str, str]
    responsible: re.Pattern


@lru_cache(maxsize=4)
def draft_rules(path: Path = DRAFT_RULES_PATH) -> DraftRules:
    """The rules file, read once."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    courtesies = tuple(sorted(data["courtesies"], key=len, reverse=True))  # "老师您好" before "您好"
    return DraftRules(courtesies, re.compile(data["segment_break"]), re.compile(data["asks"]), dict(data["kind_nouns"]),
                      re.compile(data["responsible"]))


@dataclass(frozen=True)
class ReadMessage:
    """A citizen's message read for a reply: what describes the asker, and the sub-questions in order."""

    background: tuple[str, ...]
    asked: tuple[str, ...]


def without_courtesies(segment: str, rules: DraftRules) -> str:
    """The segment without the courtesies it begins or ends with ("你好，请问…谢谢")."""
    text = segment.strip()
    changed = True
    while changed and text:
        changed = False
        for courtesy in rules.courtesies:
            if text.startswith(courtesy):
                text, changed = text[len(courtesy):].lstrip(" ，,：:"), True
            if text.endswith(courtesy):
                text, changed = text[: -len(courtesy)].rstrip(" ，,"), True
    return text


def read_message(message: str, rules: DraftRules | None = None) -> ReadMessage:
    """Cut a message into background and sub-questions (a message asking nothing is one sub-question)."""
    rules = rules or draft_rules()
    background, asked = [], []
    for segment in rules.segment_break.split(message or ""):
        text = without_courtesies(segment, rules)
        if not text:
            continue
        (asked if rules.asks.search(to_simplified(text)) else background).append(text)
    if not asked and background:
        return ReadMessage((), ("，".join(background),))
    return ReadMessage(tuple(background), tuple(asked))


def responsible_units(clauses: list[Clause], rules: DraftRules | None = None) -> list[str]:
    """Who the clauses name as responsible ("省工业和信息化厅、省财政厅及各市〔州〕、县〔市〕政府"), each once."""
    rules = rules or draft_rules()
    return list(dict.fromkeys(m.group(1).strip().rstrip("。,，") for c in clauses for m in rules.responsible.finditer(c.text)))


def reply_draft(message: str, assistant, settings) -> str:
    """The reply to a citizen's message, drafted from the knowledge base (see the module's docstring)."""
    rules = draft_rules()
    read = read_message(message, rules)
    if not read.asked:
        return ""
    conversation = Conversation()
    paragraphs: list[str] = []
    cited: dict[str, Clause] = {}
    related: dict[str, Clause] = {}
    answered = 0
    gazetteer = assistant.kb.regions.gazetteer
    places: list = []
    for position, asked in enumerate(read.asked):
        text = "，".join([*read.background, asked]) if position == 0 else asked
        # The sub-questions of one message are about one place: a later one naming none, and whole enough not to be
        # read as a follow-up ("找谁问" is), is asked about the place named before ("重庆…到哪年？科技型企业数量
        # 目标是多少家？").
        named = gazetteer.find(to_simplified(text))
        if position and places and not named and not is_follow_up(to_simplified(asked)):
            text = places[0].short + text
        places = places or list(named)
        answer = assistant.ask(text, conversation, audience="helpdesk")
        if answer.refused and answer.reason in REPHRASE_REASONS:
            return answer.text  # a note to staff: the message must be read another way (e.g. put in Chinese)
        if answer.refused and cited and wanted_kinds(to_simplified(asked)):
            # "电话多少?" after an answered question: asked of the clauses already cited.
            paragraphs.extend(_kind_lines(asked, answer, list(cited.values()), rules))
            continue
        if answer.refused:
            related.update((e.clause.clause_id, e.clause) for e in answer.related)
            paragraphs.append(render("reply_sub_no_basis", asked=_quoted(asked)))
            continue
        answered += 1
        clauses = [c.clause for c in answer.citations]
        if any(c.clause_id not in cited for c in clauses):
            paragraphs.append(_body(answer))
        cited.update((c.clause_id, c) for c in clauses)
        paragraphs.extend(_kind_lines(asked, answer, clauses, rules))
    asked_all = "、".join(_quoted(a) for a in read.asked)
    unit, date = settings.reply_unit, sign_off_date(settings)
    if not answered:
        references = "\n".join(f"{i}. {c.reference}" for i, c in enumerate(related.values(), 1))
        return render("reply_draft_no_basis", asked=asked_all, unit=unit, date=date,
                      related=render("reply_related", references=references) if related else "")
    basis = "\n".join(f"{i}. {c.reference}" for i, c in enumerate(cited.values(), 1))
    return render("reply_draft", asked=asked_all, answer="\n\n".join(paragraphs), basis=basis, unit=unit, date=date)


def _body(answer: Answer) -> str:
    """The answer's body and the notes a citizen needs, without citation markers."""
    parts = [f"{p.label}：{p.text}" if p.label else p.text for p in answer.body]
    parts += [n.text for n in answer.notes if n.kind in _CITIZEN_NOTES]
    return "\n".join(_MARKER.sub("", part).replace("。。", "。") for part in parts)


def _kind_lines(asked: str, answer: Answer, clauses: list[Clause], rules: DraftRules) -> list[str]:
    """For each kind of answer the sub-question asks: who is responsible, named; a figure or date the quoted
    sentences lack, taken from the cited clause when it states one, else said to be unstated."""
    lines = []
    quoted = " ".join(s for c in answer.citations for s in c.sentences)
    for kind in wanted_kinds(to_simplified(asked)):
        if kind.name == "who":
            units = responsible_units(clauses, rules)
            lines.append(render("reply_who", asked=_quoted(asked), units="、".join(units)) if units else
                         render("reply_kind_missing", asked=_quoted(asked), noun=rules.kind_nouns["who"]))
            continue
        if kind.stated.search(quoted):
            continue
        stated = next((s.strip() for c in clauses for s in _SENTENCE.findall(c.text) if kind.stated.search(s)), "")
        if stated:
            lines.append(render("reply_kind_found", asked=_quoted(asked), sentence=stated))
        else:
            lines.append(render("reply_kind_missing", asked=_quoted(asked),
                                noun=rules.kind_nouns.get(kind.name, "相关内容")))
    return lines


def _quoted(asked: str) -> str:
    return asked.strip().rstrip("?？。.!！")


def sign_off_date(settings) -> str:
    """The date a reply is signed with ("2026年12月3日": the settings' date)."""
    day = settings.current_date()
    return f"{day.year}年{day.month}月{day.day}日"
