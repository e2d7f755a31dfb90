"""What the page shows, as pure functions: sources panel, chat messages, helpdesk draft; and the feedback store."""

from __future__ import annotations

import datetime as dt

import pytest

from assistant.types import Answer, Citation, Part
from core.prompts import REFUSAL, PromptError, render
from index.clauses import split_clauses
from serve.feedback import FeedbackStore
from serve.presenter import (
    answer_message,
    chat_message,
    helpdesk_draft,
    highlight,
    printable,
    sources_panel,
    stream_chunks,
    user_message,
    welcome,
)
from tests.test_clean import RIZHAO
from tests.test_metadata import doc

TODAY = dt.date(2026, 11, 21)


@pytest.fixture(scope="module")
def rizhao_clause():
    return next(c for c in split_clauses(doc(RIZHAO)) if c.clause_path == "三、（一）2")


def answer_with(clause, refused=False, text="根据…：市财政给予最高300万元奖励[1]。"):
    sentence = next(s for s in clause.text.split("。") if "300万元奖励" in s and "考核" in s)
    citations = () if refused else (Citation(1, clause, (sentence,)),)
    return Answer("日照对区县最高奖励多少?", refused, (Part(REFUSAL if refused else text),), citations=citations, today=TODAY)


def test_sources_panel_shows_title_number_issuer_path_badge_and_highlight(rizhao_clause):
    panel = sources_panel(answer_with(rizhao_clause))
    assert "《日照市“专精特新”中小企业培育提升行动方案（2022—2025年）》" in panel
    assert "日政办字〔2022〕10号" in panel and "日照市人民政府办公室" in panel and "三、（一）2" in panel
    assert 'badge-period_ended">实施期已届满' in panel
    assert panel.count("<mark>") == 1 and "市财政给予最高300万元奖励" in panel.split("<mark>")[1]


def test_refusal_reads_as_a_refusal_not_an_error(rizhao_clause):
    refused = answer_with(rizhao_clause, refused=True)
    assert chat_message(refused).startswith("ℹ️ **未找到政策依据**") and REFUSAL in chat_message(refused)
    assert "没有引用任何政策条款" in sources_panel(refused)


def test_a_not_sure_answer_shows_its_closest_clauses_as_related_not_as_citations(rizhao_clause):
    from dataclasses import replace

    from assistant.types import Evidence

    not_sure = replace(answer_with(rizhao_clause, refused=True), related=(Evidence(rizhao_clause, 0.5, 1),),
                       reason="no_support")
    panel = sources_panel(not_sure)
    assert "可能相关" in panel and "未作为回答的依据" in panel
    assert 'class="source related"' in panel and "三、（一）2" in panel and "[1]" not in panel


def test_user_text_and_clause_text_are_escaped():
    rendered, visible = shown(user_message("<script>alert(1)</script>"))
    assert "<script>" not in rendered and visible == "<script>alert(1)</script>"
    assert highlight("a<b>c", ("c",)) == "a&lt;b&gt;<mark>c</mark>"


def test_stream_chunks_grow_to_the_whole_message():
    chunks = stream_chunks("一二三四五六七八九十", size=4)
    assert chunks == ["一二三四", "一二三四五六七八", "一二三四五六七八九十"]
    assert stream_chunks("短", size=4) == ["短"]


def test_helpdesk_draft_is_formal_and_cites_clause_by_clause(rizhao_clause):
    draft = helpdesk_draft(answer_with(rizhao_clause))
    assert draft.startswith("您好！") and draft.rstrip().endswith("此复。")
    assert "1. 《日照市“专精特新”中小企业培育提升行动方案（2022—2025年）》（日政办字〔2022〕10号）三、（一）2：“2.实行激励奖补政策" in draft
    assert "日照市人民政府办公室" in draft and "来源：" not in draft
    refused = helpdesk_draft(answer_with(rizhao_clause, refused=True))
    assert REFUSAL in refused and "政策依据：" not in refused


def test_templates_render_strictly():
    assert "2022—2025" in render("status_is_ended", period="2022—2025", today="2026年11月21日")
    with pytest.raises(PromptError, match="today"):
        render("status_is_ended", period="2022—2025")
    with pytest.raises(PromptError, match="no prompt template"):
        render("no_such_template")


def test_feedback_store_creates_updates_and_survives_reopening(tmp_path):
    path = tmp_path / "feedback.sqlite"
    store = FeedbackStore(path)
    assert store.record("a1", "c1", "问", "答", ["x:1"], 1, "有用") == "created"
    assert store.record("a1", "c1", "问", "答", ["x:1"], -1, "") == "updated"
    reopened = FeedbackStore(path).all()
    assert len(reopened) == 1 and reopened[0].rating == -1 and reopened[0].comment == "有用"
    assert reopened[0].clause_ids == ("x:1",) and reopened[0].created_at
    with pytest.raises(ValueError):
        store.record("a2", "c1", "问", "答", [], 0)


def shown(markdown: str) -> tuple[str, str]:
    """How a CommonMark renderer shows a chat message: (its HTML, the text a reader sees)."""
    import html as html_module
    import re

    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark").render(markdown)
    return rendered, html_module.unescape(re.sub(r"<[^>]+>", "", rendered)).strip()


@pytest.mark.parametrize("question", [
    "![x](http://example.com/a.png)吉林专利保险费补几年?",
    "<img src=http://example.com/a.png> **粗体** [链接](http://example.com) `代码` # 标题",
    "1. 第一条\n- 列表\n> 引用 &amp; \\*星号\\* $$x$$ www.example.com a_b_c",
])
def test_user_markdown_and_html_are_shown_as_typed(question):
    rendered, visible = shown(user_message(question))
    assert "<img" not in rendered and "<a " not in rendered and "<strong>" not in rendered and "<code>" not in rendered
    assert "<h1>" not in rendered and "<ol>" not in rendered and "<ul>" not in rendered and "<blockquote>" not in rendered
    assert visible.split() == question.split()


def test_control_characters_are_stripped_from_the_user_text_but_newline_and_tab_stay():
    assert printable("a\x00b\x1b[31mc\r\nd\te\u202ef\x7f") == "ab[31mc\nd\tef"
    assert "\x1b" not in user_message("a\x1b[31mb") and "\x00" not in user_message("a\x00b")


@pytest.mark.parametrize("clause_text", [
    "补贴标准见下图![x](http://example.com/a.png)。",
    "补贴标准见下图\\![x](http://example.com/a.png)。",
    "补贴标准见下图![x][1]。\n\n[1]: http://example.com/a.png",
    "补贴标准见下图<img src=\"http://example.com/a.png\">。",
    "补贴标准见下图&#33;[x](http://example.com/a.png)。",
])
def test_an_answer_quoting_image_markup_loads_nothing(rizhao_clause, clause_text):
    message = chat_message(answer_with(rizhao_clause, text=f"{clause_text}[1]\n来源：\n[1] …"))
    rendered, visible = shown(message)
    assert "<img" not in rendered and "example.com/a.png" in visible
    for chunk in stream_chunks(message, size=3):
        assert "<img" not in shown(chunk)[0]


def test_a_question_not_in_chinese_is_not_shown_as_a_gap_of_the_knowledge_base():
    english = Answer("Does Jilin subsidise patent insurance?", True, (Part(render("english_question")),), reason="not_chinese")
    assert chat_message(english).startswith("目前只能用中文回答问题。Please ask in Chinese")
    assert "知识库中没有" not in sources_panel(english)
    assert helpdesk_draft(english) == english.text


def test_each_marker_of_an_answer_links_to_its_own_source_under_it(rizhao_clause):
    message = answer_message(answer_with(rizhao_clause), "a1")
    assert '<a class="cite" href="#a1-1" data-key="1">[1]</a>' in message
    source = message.split('<details class="source" id="a1-1"', 1)[1]
    assert "三、（一）2" in source and "日政办字〔2022〕10号" in source and 'badge-period_ended">实施期已届满' in source
    assert "<mark>" in source and "市财政给予最高300万元奖励" in source.split("<mark>")[1]
    assert "\n\n" not in message.split('<div class="answer-sources"', 1)[1]  # one HTML block: Markdown never splits it
    unknown = answer_with(rizhao_clause, text="最高300万元[1]，另见[7]。")
    assert "[7]" in answer_message(unknown, "a2") and 'href="#a2-7"' not in answer_message(unknown, "a2")


def test_a_not_sure_answer_lists_related_clauses_never_as_citations_and_a_next_step(rizhao_clause):
    from dataclasses import replace

    from assistant.types import Evidence

    not_sure = replace(answer_with(rizhao_clause, refused=True), related=(Evidence(rizhao_clause, 0.5, 1),),
                       reason="no_support")
    message = answer_message(not_sure, "a3")
    assert "可能相关的条款（未作为回答的依据）" in message and 'class="source related"' in message
    assert "三、（一）2" in message and 'class="cite"' not in message and "来源" not in message
    assert render("refusal_next_step") in message and "转人工" in message


def test_a_refusal_shows_the_next_step_and_a_rephrase_request_does_not(rizhao_clause):
    refused = answer_message(answer_with(rizhao_clause, refused=True), "a4")
    assert refused.startswith("ℹ️ **未找到政策依据**") and REFUSAL in refused
    assert render("refusal_next_step") in refused and "answer-sources" not in refused
    english = Answer("Does Jilin subsidise patent insurance?", True, (Part(render("english_question")),),
                     reason="not_chinese")
    assert "转人工" not in answer_message(english, "a5") and "未找到政策依据" not in answer_message(english, "a5")


def test_the_welcome_lists_documents_with_number_place_and_status_and_counts_the_rest(rizhao_clause):
    from dataclasses import replace

    rizhao = rizhao_clause.doc
    docs = [rizhao] + [replace(rizhao, doc_id=f"d{i}", title=f"某市政策{i:02d}", draft=True) for i in range(14)]
    shown = welcome(docs, TODAY, limit=12)
    assert "15 份政策文件" in shown and "日照市" in shown and "日政办字〔2022〕10号" in shown
    assert shown.count('class="coverage-doc"') == 12 and "另有 3 份文件" in shown
    assert 'badge-period_ended">实施期已届满' in shown and 'badge-draft_for_comment">征求意见稿' in shown
    assert render("welcome_empty") in welcome([], TODAY)
    hostile = replace(rizhao, title="<script>alert(1)</script>")
    assert "<script>" not in welcome([hostile], TODAY)
