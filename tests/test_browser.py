"""The public chat page in a real browser (Debian's Chromium driven by Playwright) against the app served on
127.0.0.1 by the test itself (``serve.factory.make_app``, as ``ui.py`` serves it), at a desktop's 1366×900 and a
phone's 390×844. Screenshots of each state go to tests/artifacts/."""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest

from serve.factory import make_app
from tests.servers import AppServer

pytestmark = pytest.mark.slow
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--disable-quic"]
TIMINGS: dict[str, float] = {}
SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
BOT = '#chat [data-testid="bot"]'
STATUS = "(document.querySelector('#chat-status') || {innerText: ''}).innerText"  # absent until it says something
# What the last answer's message holds once it is whole.
FINISHED = {"sources": ".answer-sources:not(.related-sources)", "refusal": ".next-step", None: None}


@pytest.fixture(scope="module")
def server(real_index, tmp_path_factory):
    database = tmp_path_factory.mktemp("page-db") / "page.sqlite"
    settings = real_index.model_copy(update={"admin_token": "s3cret", "api_requests_per_minute": 0,
                                             "database_url": f"sqlite:///{database}"})
    with AppServer(make_app(settings)) as served:  # warmed up, as ui.py serves it
        yield {"url": f"{served.url}/", "database": database}


@contextmanager
def chromium():
    """Debian's Chromium, headless, driven by Playwright (never a browser of Playwright's own download)."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: run scripts/setup.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "timings.json").write_text(json.dumps(TIMINGS, indent=2), encoding="utf-8")


def opened(browser, server, size: str):
    """A fresh browser context at one of SIZES on the page; checks afterwards that only loopback was contacted."""
    context = browser.new_context(viewport=SIZES[size], locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).hostname or ""))
    page.goto(server["url"])
    page.wait_for_selector("#question textarea")
    page.wait_for_selector("#chat .welcome .coverage-doc", timeout=30000)  # the welcome comes with the page's load
    return context, page, hosts


@pytest.fixture
def page(browser, server):
    context, page, hosts = opened(browser, server, "desktop")
    yield page
    assert hosts <= {"127.0.0.1", "localhost", ""}, f"the page contacted other hosts: {hosts}"
    context.close()


@pytest.fixture(params=list(SIZES))
def sized(request, browser, server):
    """The page at each size: (page, size name)."""
    context, page, hosts = opened(browser, server, request.param)
    yield page, request.param
    assert hosts <= {"127.0.0.1", "localhost", ""}, f"the page contacted other hosts: {hosts}"
    context.close()


def shot(page, name: str, whole: bool = True) -> None:
    """A screenshot of the state (``whole=False``: what the viewport shows, the fold included)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=whole)


def bot_messages(page) -> list[str]:
    return page.locator(BOT).all_inner_texts()


def wait_answer(page, before: int, expect: str | None = "sources") -> str:
    """Wait for an answer after ``before`` bot messages to be whole; returns the last bot message."""
    page.wait_for_function("n => document.querySelectorAll('#chat [data-testid=\"bot\"]').length > n",
                           arg=before, timeout=60000)
    if FINISHED[expect]:
        page.wait_for_function(
            "sel => { const m = [...document.querySelectorAll('#chat [data-testid=\"bot\"]')].pop();"
            " return m && m.querySelector(sel); }", arg=FINISHED[expect], timeout=60000)
    page.wait_for_function("() => !document.querySelector('#chat .generating')", timeout=60000)
    time.sleep(0.4)  # the page then shows the answer's first line
    return bot_messages(page)[-1]


def ask(page, question: str, expect: str | None = "sources") -> str:
    """Type a question, send it, wait for the whole answer; returns the last bot message."""
    before = len(bot_messages(page))
    page.fill("#question textarea", question)
    page.click("#send")
    return wait_answer(page, before, expect)


def box(page, selector: str) -> dict:
    return page.locator(selector).last.bounding_box()


def in_viewport(page, selector: str) -> bool:
    """Whether the element's top is on screen, in the window and inside any scrolled box around it."""
    return page.locator(selector).last.evaluate("""el => {
        const r = el.getBoundingClientRect();
        if (r.top < 0 || r.top > window.innerHeight - 10) return false;
        for (let p = el.parentElement; p; p = p.parentElement) {
            const s = getComputedStyle(p);
            if (/(auto|scroll)/.test(s.overflowY)) {
                const b = p.getBoundingClientRect();
                if (r.top < b.top - 1 || r.top > b.bottom - 10) return false;
            }
        }
        return true; }""")


def test_seed_question_gets_a_cited_answer_and_its_source_clause(page):
    page.fill("#question textarea", "日照市对达到考核目标的区县最高奖励多少?")
    started = time.perf_counter()
    page.click("#send")
    page.wait_for_function(
        """() => { const m = document.querySelectorAll('#chat [data-testid="bot"]');
                   return m.length && m[m.length - 1].innerText.trim().length > 3; }""",
        timeout=60000,
    )
    TIMINGS["first_token_s"] = round(time.perf_counter() - started, 3)
    page.wait_for_selector("#chat .answer-sources", timeout=60000)
    TIMINGS["full_answer_s"] = round(time.perf_counter() - started, 3)
    answer = bot_messages(page)[-1]
    assert "300万元" in answer and "[1]" in answer and "三、（一）2" in answer
    source = page.text_content("#chat details.source")
    assert "日政办字〔2022〕10号" in source and "日照市人民政府办公室" in source and "实施期已届满" in source
    assert "市财政给予最高300万元奖励" in page.text_content("#chat details.source mark")
    shot(page, "01-cited-answer")
    # The chat's copy button copies the answer as text: its [n] and one line a source, no HTML.
    page.locator(BOT).last.hover()
    page.locator(f'{BOT} ~ * button[aria-label="Copy message"], #chat button[aria-label="Copy message"]').last.click()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert "300万元" in copied and "[1]" in copied and "三、（一）2" in copied and "来源" in copied
    assert "<" not in copied and "class=" not in copied and "市财政给予最高300万元奖励" in copied


def test_follow_up_question(page):
    ask(page, "吉林省对专精特新企业的专利保险费有补助吗?")
    answer = ask(page, "最多补几年?")
    assert "3年" in answer and "二、（三）14" in answer
    shot(page, "02-follow-up")
    # The chat's own clear button forgets the conversation: a follow-up then has nothing to follow.
    page.locator('#chat button[aria-label="清空对话"]').click()
    page.wait_for_function("() => document.querySelectorAll('#chat [data-testid=\"bot\"]').length == 0")
    alone = ask(page, "最多补几年?", expect="refusal")  # with the history: 3年
    assert "知识库中没有" in alone and "3年" not in alone


def test_traditional_question_is_answered_in_traditional(page):
    answer = ask(page, "江門的專精特新企業用電用能有什麼保障?")
    assert "傾斜" in answer and "來源" in answer
    assert "有效" in page.inner_text("#chat .answer-sources .badge")
    shot(page, "03-traditional")


def test_refused_question_looks_like_a_refusal(page):
    answer = ask(page, "北京市专精特新企业房租补贴标准是多少?", expect="refusal")
    assert "未找到政策依据" in answer and "知识库中没有" in answer
    assert "换个说法再问" in answer and "转人工" in answer  # the next step, not a dead end
    assert "⚠️" not in answer and "来源" not in answer
    shot(page, "04-refusal")


def test_two_browser_contexts_never_see_each_others_conversation(browser, server):
    contexts = [browser.new_context(viewport=SIZES["desktop"]) for _ in range(2)]
    pages = [context.new_page() for context in contexts]
    for page in pages:
        page.goto(server["url"])
        page.wait_for_selector("#question textarea")
    ask(pages[0], "吉林省对专精特新企业的专利保险费有补助吗?")
    ask(pages[1], "日照每年组织多少家专精特新企业参加上市挂牌培训?")
    follow_up = ask(pages[0], "最多补几年?")
    assert "3年" in follow_up
    assert "专利保险" not in pages[1].inner_text("#chat") and "上市挂牌" not in pages[0].inner_text("#chat")
    shot(pages[0], "07-context-a")
    shot(pages[1], "07-context-b")
    for context in contexts:
        context.close()


def test_bad_input_empty_huge_and_html(page):
    page.fill("#question textarea", "   ")
    page.click("#send")
    page.wait_for_function("() => document.querySelector('#chat-status').innerText.includes('请输入')")
    assert bot_messages(page) == []
    answer = ask(page, "吉林省技术合同交易额补助上限是多少?" + "请" * 10000)
    assert "前2000个字" in answer
    page.click("#new-conversation")
    page.wait_for_function("() => document.querySelectorAll('#chat [data-testid=\"bot\"]').length == 0")
    script = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">吉林专利保险费补几年?'
    ask(page, script)
    assert page.evaluate("() => window.__xss") is None
    user_text = page.locator('#chat [data-testid="user"]').last.inner_text()
    assert "<script>" in user_text and "<img" in user_text
    shot(page, "08-bad-input")


def test_markdown_in_a_question_is_shown_as_text_and_fetches_nothing(page):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    image = "![x](http://127.0.0.1:9/x.png)"
    ask(page, "吉林专利保险费补几年?" + image + "**粗**", expect=None)  # answered or declined, both fine
    user_text = page.locator('#chat [data-testid="user"]').last.inner_text()
    assert image in user_text and "**粗**" in user_text
    assert page.locator("#chat img[src*='127.0.0.1:9']").count() == 0
    assert not [url for url in requested if "127.0.0.1:9/" in url]
    shot(page, "08b-markdown-as-text")


# The public page at a desktop's and a phone's size (issue 17, item 5).

def test_no_staff_or_admin_element_is_on_the_public_page(sized):
    page, size = sized
    assert page.locator('[role="tab"], [role="tablist"]').count() == 0
    for selector in ("#tab-helpdesk", "#tab-admin", "#helpdesk-question", "#admin-token", "#admin-reindex"):
        assert page.locator(selector).count() == 0, selector
    text = page.inner_text("body")
    assert "工作人员答复" not in text and "管理口令" not in text and "重新建立索引" not in text


def test_the_welcome_states_the_coverage_and_an_example_sends_when_clicked(sized, server):
    page, size = sized
    welcome = page.inner_text("#chat .welcome")
    assert "5 份政策文件" in welcome and "日政办字〔2022〕10号" in welcome and "重庆市" in welcome
    assert "有效" in welcome and "征求意见稿" in welcome and "实施期已届满" in welcome
    assert page.locator("#chat .welcome .coverage-doc").count() == 5
    examples = page.locator("#chat button.example")
    assert examples.count() == 4
    assert in_viewport(page, "#question textarea")  # the input above the fold on a first visit
    if size == "desktop":
        assert all(examples.nth(i).bounding_box()["y"] + examples.nth(i).bounding_box()["height"] <= 900
                   for i in range(4)), "the examples are below the fold"
        assert in_viewport(page, "#chat .welcome")
    shot(page, f"11-welcome-{size}", whole=False)
    chosen = examples.first.inner_text().strip()
    examples.first.click()
    answer = wait_answer(page, 0)
    assert page.locator('#chat [data-testid="user"]').first.inner_text().strip() == chosen  # sent, not only filled
    assert "3年" in answer and page.input_value("#question textarea") == ""
    assert in_viewport(page, f"{BOT} .message-content")  # the answer's first line, not its sources, in view
    shot(page, f"12-example-answered-{size}", whole=False)


def test_each_answer_links_its_markers_to_its_own_sources_under_it(sized):
    page, size = sized
    ask(page, "日照市对达到考核目标的区县最高奖励多少?")
    first_answer = page.locator(BOT).last
    top = first_answer.bounding_box()["y"]
    sources = first_answer.locator(".answer-sources")
    assert sources.bounding_box()["y"] - top < 700, "the sources are not right under the answer"
    ask(page, "吉林省对专精特新企业的专利保险费有补助吗?")
    assert in_viewport(page, f"{BOT} .message-content"), "the new answer's first line is not in view"
    shot(page, f"13-second-answer-{size}", whole=False)
    # The earlier answer still has its own sources, and its [1] opens them.
    earlier = page.locator(BOT).first
    link = earlier.locator("a.cite").first
    target = link.get_attribute("href").lstrip("#")
    assert earlier.locator(f"details.source#{target}").count() == 1
    assert "三、（一）2" in earlier.locator(".answer-sources").inner_text()
    link.scroll_into_view_if_needed()
    link.click()
    page.wait_for_function("id => document.getElementById(id).open", arg=target, timeout=5000)
    assert in_viewport(page, f"#{target}")
    assert "市财政给予最高300万元奖励" in page.inner_text(f"#{target} mark")
    shot(page, f"14-earlier-source-opened-{size}", whole=False)


def test_a_not_sure_or_refused_answer_shows_a_next_step(sized):
    page, size = sized
    answer = ask(page, "北京市专精特新企业房租补贴标准是多少?", expect="refusal")
    assert "换个说法再问" in answer and "转人工" in answer
    assert in_viewport(page, f"{BOT} .message-content")
    shot(page, f"15-refusal-next-step-{size}", whole=False)
    # "Not sure" (nothing to follow: no earlier question): the closest clauses as possibly related, not as sources.
    page.click("#new-conversation")
    page.wait_for_function("() => document.querySelectorAll('#chat [data-testid=\"bot\"]').length == 0")
    answer = ask(page, "最多补几年?", expect="refusal")
    related = page.locator(f"{BOT} .related-sources").last
    assert "可能相关的条款（未作为回答的依据）" in related.inner_text() and related.locator("details.source").count() >= 1
    assert page.locator(f"{BOT} a.cite").count() == 0 and "转人工" in answer
    related.locator("summary").first.click()
    shot(page, f"15b-not-sure-related-{size}", whole=False)


def test_regenerate_replaces_the_last_answer(sized):
    page, size = sized
    ask(page, "吉林省对专精特新企业的专利保险费有补助吗?")
    first_id = page.locator(f"{BOT} details.source").last.get_attribute("id")
    page.locator('#chat button[aria-label="重试"]').click()
    page.wait_for_function(
        "old => { const d = [...document.querySelectorAll('#chat details.source')].pop(); return d && d.id != old; }",
        arg=first_id, timeout=60000)
    page.wait_for_function("() => !document.querySelector('#chat .generating')", timeout=60000)
    assert len(bot_messages(page)) == 1 and page.locator('#chat [data-testid="user"]').count() == 1
    assert "3年" in bot_messages(page)[-1]
    shot(page, f"16-regenerated-{size}", whole=False)


def test_feedback_is_the_thumb_then_an_optional_reason_confirmed_near_it(sized, server):
    page, size = sized
    question = f"吉林新认定的省级科技企业孵化器补贴多少?（{size}）"
    ask(page, question)
    thumb = page.locator('#chat button[aria-label="踩"]').last
    thumb_box = thumb.bounding_box()  # the button is relabelled once clicked
    thumb.click()
    page.wait_for_selector("#feedback-dialog", state="visible", timeout=10000)
    assert "已记录" in page.inner_text("#feedback-status")
    assert in_viewport(page, "#feedback-status")
    gap = box(page, "#feedback-status")["y"] - (thumb_box["y"] + thumb_box["height"])
    assert 0 <= gap < 250, f"the confirmation is {gap:.0f} px from the thumb"
    rows = sqlite3.connect(server["database"]).execute(
        "SELECT rating, comment FROM feedback WHERE question = ?", (question,)).fetchall()
    assert rows == [(-1, "")]  # stored at the thumb, before any reason
    shot(page, f"17-feedback-dialog-{size}", whole=False)
    page.get_by_label("引用的条款不对").check()
    page.fill("#feedback-comment textarea", "应是二、（四）18")
    page.click("#feedback-submit")
    page.wait_for_function("() => document.querySelector('#feedback-status').innerText.includes('原因已记录')")
    assert not page.locator("#feedback-dialog").is_visible()
    rows = sqlite3.connect(server["database"]).execute(
        "SELECT rating, comment, clause_ids FROM feedback WHERE question = ?", (question,)).fetchall()
    assert [(r[0], r[1]) for r in rows] == [(-1, "引用的条款不对；应是二、（四）18")] and "二、（四）18" in rows[0][2]
    shot(page, f"18-feedback-reason-recorded-{size}", whole=False)


def test_a_reload_keeps_the_conversation(sized, server):
    page, size = sized
    ask(page, "吉林省对专精特新企业的专利保险费有补助吗?")
    assert page.evaluate("() => localStorage.getItem('policyqa-conversation')")  # the id and secret, kept
    database = sqlite3.connect(server["database"])
    started = database.execute("SELECT conversation_id FROM conversation_turns ORDER BY rowid DESC LIMIT 1").fetchone()[0]
    page.reload()  # the stored messages are shown again (the desk's Desk.page_messages), the answer's text too
    page.wait_for_function(f"() => [...document.querySelectorAll('{BOT}')].some(m => m.innerText.includes('3年'))",
                           timeout=30000)
    shot(page, f"19-reloaded-{size}", whole=False)
    answer = ask(page, "最多补几年?")  # a follow-up of the question asked before the reload
    assert "3年" in answer and "二、（三）14" in answer
    turns = database.execute("SELECT position, question FROM conversation_turns WHERE conversation_id = ? "
                             "ORDER BY position", (started,)).fetchall()
    assert turns == [(0, "吉林省对专精特新企业的专利保险费有补助吗?"), (1, "最多补几年?")]  # the same conversation
    page.click("#new-conversation")
    page.wait_for_function("() => document.querySelectorAll('#chat [data-testid=\"bot\"]').length == 0")
    page.reload()
    page.wait_for_selector("#chat .welcome .coverage-doc", timeout=30000)
    time.sleep(1)
    assert "已接续" not in page.evaluate(f"() => {STATUS}") and not bot_messages(page)  # 新对话 forgets it there too
