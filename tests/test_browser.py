"""The chat page in a real browser (Debian's Chromium driven by Playwright) against the page served on
127.0.0.1 by the test itself. Screenshots of each state go to tests/artifacts/."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from serve.factory import make_assistant
from serve.feedback import FeedbackStore
from serve.web import Page, build_app, serve_options

pytestmark = pytest.mark.slow
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--disable-quic"]
TIMINGS: dict[str, float] = {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(real_index, tmp_path_factory):
    settings = real_index.model_copy(update={"admin_token": "s3cret", "port": free_port()})
    store = FeedbackStore(tmp_path_factory.mktemp("feedback") / "feedback.sqlite")
    rebuilt = []
    page = Page(make_assistant(settings), store, settings, reindex=lambda: rebuilt.append(1) or "索引已更新（测试）")
    page.warm_up()  # as ui.py does before serving
    app = build_app(page)
    app.launch(**serve_options(settings), prevent_thread_lock=True, quiet=True)
    yield {"url": f"http://127.0.0.1:{settings.port}/", "store": store, "rebuilt": rebuilt}
    app.close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: run scripts/setup.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield browser
        browser.close()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "timings.json").write_text(json.dumps(TIMINGS, indent=2), encoding="utf-8")


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1100}, locale="zh-CN")
    page = context.new_page()
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).hostname or ""))
    page.goto(server["url"])
    page.wait_for_selector("#question textarea")
    yield page
    assert hosts <= {"127.0.0.1", "localhost", ""}, f"the page contacted other hosts: {hosts}"
    context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def bot_messages(page) -> list[str]:
    return page.locator('#chat [data-testid="bot"]').all_inner_texts()


def ask(page, question: str, expect_sources: bool = True) -> str:
    """Type a question, send it, wait for the whole answer; returns the last bot message."""
    before = len(bot_messages(page))
    page.fill("#question textarea", question)
    page.click("#send")
    page.wait_for_function(
        "n => document.querySelectorAll('#chat [data-testid=\"bot\"]').length > n", arg=before, timeout=60000
    )
    selector = "#sources .source" if expect_sources else "#sources .refusal-note, #sources .sources-empty"
    page.wait_for_selector(selector, timeout=60000)
    page.wait_for_function("() => !document.querySelector('#chat .generating')", timeout=60000)
    time.sleep(0.3)
    return bot_messages(page)[-1]


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
    page.wait_for_selector("#sources .source", timeout=60000)
    TIMINGS["full_answer_s"] = round(time.perf_counter() - started, 3)
    answer = bot_messages(page)[-1]
    assert "300万元" in answer and "[1]" in answer and "三、（一）2" in answer
    source = page.inner_text("#sources .source")
    assert "日政办字〔2022〕10号" in source and "日照市人民政府办公室" in source and "实施期已届满" in source
    assert "市财政给予最高300万元奖励" in page.inner_text("#sources mark")
    shot(page, "01-cited-answer")


def test_follow_up_question(page):
    ask(page, "吉林省对专精特新企业的专利保险费有补助吗?")
    answer = ask(page, "最多补几年?")
    assert "3年" in answer and "二、（三）14" in answer
    shot(page, "02-follow-up")
    # The chat's own clear button forgets the conversation: a follow-up then has nothing to follow.
    page.locator('#chat button[aria-label="清空对话"]').click()
    page.wait_for_function("() => document.querySelectorAll('#chat [data-testid=\"bot\"]').length == 0")
    assert "未找到政策依据" in ask(page, "最多补几年?", expect_sources=False)  # with the history: 3年


def test_traditional_question_is_answered_in_traditional(page):
    answer = ask(page, "江門的專精特新企業用電用能有什麼保障?")
    assert "傾斜" in answer and "來源" in answer
    assert "有效" in page.inner_text("#sources .badge")
    shot(page, "03-traditional")


def test_refused_question_looks_like_a_refusal(page):
    answer = ask(page, "北京市专精特新企业房租补贴标准是多少?", expect_sources=False)
    assert "未找到政策依据" in answer and "知识库中没有" in answer
    assert "没有引用任何政策条款" in page.inner_text("#sources")
    assert "⚠️" not in answer
    shot(page, "04-refusal")


def test_helpdesk_draft_is_formal_editable_and_cited(page):
    page.get_by_role("tab", name="工作人员答复").click()
    page.fill("#helpdesk-question textarea", "我公司是吉林省的省级专精特新中小企业，请问新认定的省级科技企业孵化器有什么补贴？")
    page.click("#helpdesk-generate")
    page.wait_for_function(
        "() => document.querySelector('#helpdesk-draft textarea').value.includes('此复')", timeout=60000
    )
    draft = page.input_value("#helpdesk-draft textarea")
    assert draft.startswith("您好！") and "政策依据：" in draft and "50万元" in draft and "二、（四）18" in draft
    assert "吉林省人民政府" in draft
    page.wait_for_selector("#helpdesk-sources .source")
    page.fill("#helpdesk-draft textarea", draft + "\n（经办人：张三）")
    assert page.input_value("#helpdesk-draft textarea").endswith("（经办人：张三）")
    shot(page, "05-helpdesk-draft")


def test_feedback_is_stored_and_a_second_click_updates_it(page, server):
    ask(page, "吉林新认定的省级科技企业孵化器补贴多少?")
    page.fill("#feedback-comment textarea", "很清楚")
    page.click("#thumbs-up")
    page.wait_for_function("() => document.querySelector('#feedback-status').innerText.includes('已记录')")
    page.click("#thumbs-down")
    page.wait_for_function("() => document.querySelector('#feedback-status').innerText.includes('已更新')")
    rows = sqlite3.connect(server["store"].path).execute(
        "SELECT question, rating, comment, clause_ids, created_at FROM feedback WHERE question LIKE '%孵化器%'"
    ).fetchall()
    assert len(rows) == 1
    question, rating, comment, clause_ids, created_at = rows[0]
    assert rating == -1 and comment == "很清楚" and "二、（四）18" in clause_ids and created_at
    # Every answer can be rated with the chat's own buttons, not only the latest one.
    ask(page, "日照每年组织多少家专精特新企业参加上市挂牌培训?")
    page.locator('#chat button[aria-label="赞"]').first.click()  # zh-CN labels of the chat's Like/Dislike
    # The status already says 已更新 (the click before): wait for the row itself to change.
    def current_rating() -> int:
        return sqlite3.connect(server["store"].path).execute(
            "SELECT rating FROM feedback WHERE question LIKE '%孵化器%'"
        ).fetchone()[0]

    deadline = time.monotonic() + 30
    while current_rating() != 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert current_rating() == 1
    page.locator('#chat button[aria-label="踩"]').last.click()
    page.wait_for_function("() => document.querySelector('#feedback-status').innerText.includes('已记录')")
    rows = sqlite3.connect(server["store"].path).execute("SELECT question, rating FROM feedback WHERE question LIKE '%挂牌%'").fetchall()
    assert rows == [("日照每年组织多少家专精特新企业参加上市挂牌培训?", -1)]
    shot(page, "06-feedback")


def test_two_browser_contexts_never_see_each_others_conversation(browser, server):
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1100}) for _ in range(2)]
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
    ask(page, "吉林专利保险费补几年?" + image + "**粗**", expect_sources=False)  # answered or declined, both fine
    user_text = page.locator('#chat [data-testid="user"]').last.inner_text()
    assert image in user_text and "**粗**" in user_text
    assert page.locator("#chat img[src*='127.0.0.1:9']").count() == 0
    assert not [url for url in requested if "127.0.0.1:9/" in url]
    shot(page, "08b-markdown-as-text")


def test_admin_view_lists_feedback_documents_and_reindexes(page, server):
    page.get_by_role("tab", name="管理").click()
    page.fill("#admin-token input", "wrong")
    page.click("#admin-enter")
    page.wait_for_function("() => document.querySelector('#admin-status').innerText.includes('口令不正确')")
    page.fill("#admin-token input", "s3cret")
    page.click("#admin-enter")
    page.wait_for_selector("#docs-table:has-text('日政办字〔2022〕10号')", timeout=30000)
    assert "实施期已届满" in page.inner_text("#docs-table") and "征求意见稿" in page.inner_text("#docs-table")
    page.click("#admin-reindex")
    page.wait_for_function("() => document.querySelector('#admin-status').innerText.includes('索引已更新')")
    assert server["rebuilt"] == [1]
    shot(page, "09-admin")
