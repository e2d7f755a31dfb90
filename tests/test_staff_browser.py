"""The staff desk in a real browser (Debian's Chromium via Playwright) on the real service served on loopback, with
the real index: a citizen's question with no basis (asked through the API, in a stored conversation) → a ticket →
staff log in at /staff, open it, edit the draft, send (twice: sent once) → the citizen's conversation holds the reply
→ staff publish it → the same question asked in other words is answered from the 答疑库 → retired → no longer.
Screenshots at 1366×900 and 390×844 go to tests/artifacts/."""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import urlparse

import pytest

from serve.factory import make_app
from tests.servers import AppServer
from tests.test_browser import ARGS, CHROMIUM, shot

pytestmark = pytest.mark.slow
TOKEN = "staff-desk-token"
UNIT = "吉林省工业和信息化厅"
NO_BASIS = "公司交公积金有补贴吗?"
REPHRASED = "企业缴纳住房公积金能拿到补贴吗"


def call(url: str, body: dict | None = None, headers: dict | None = None, method: str | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method or ("POST" if data else "GET"),
                                     headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def served(real_index):
    settings = real_index.model_copy(update={"staff_token": TOKEN, "reply_unit": UNIT, "api_requests_per_minute": 0})
    with AppServer(make_app(settings, warm_up=False)) as server:
        yield server.url


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: run scripts/setup.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield browser
        browser.close()


def desk(browser, served, width: int, height: int):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).hostname or ""))
    page.goto(f"{served}/staff/")
    page.wait_for_selector("#staff-token input")
    return context, page, hosts


def visible_cell(page, table: str, text: str):
    """A table cell as shown (Gradio's dataframe keeps a hidden copy of its cells for measuring)."""
    return page.locator(table).get_by_text(text, exact=True).locator("visible=true").first


def log_in(page, token: str) -> None:
    page.fill("#staff-token input", token)
    page.click("#staff-enter")


def test_the_whole_loop_from_a_refusal_to_the_answer_book_and_back(browser, served):
    started = call(f"{served}/api/ask", {"question": NO_BASIS, "contact": "13800000000"})
    assert started["refused"]
    context, page, hosts = desk(browser, served, 1366, 900)
    try:
        shot(page, "staff-01-login-1366")
        log_in(page, "wrong")
        page.wait_for_function("() => document.querySelector('#staff-status').innerText.includes('口令不正确')")
        assert "公积金" not in page.inner_text("body")  # nothing of the queue before login
        log_in(page, TOKEN)
        page.wait_for_function("() => document.querySelector('#staff-counts').innerText.includes('待处理：1')")
        visible_cell(page, "#staff-queue", NO_BASIS).click()
        page.wait_for_function("() => document.querySelector('#staff-conversation').innerText.includes('智能助手')")
        draft = page.input_value("#staff-draft textarea")
        assert draft.startswith("您好！") and "暂未找到" in draft and UNIT in draft and "抱歉" not in draft
        shot(page, "staff-02-ticket-1366")
        reply = draft.replace("建议您向所在地", "住房公积金缴存请咨询当地住房公积金管理中心；其他问题请向所在地")
        page.fill("#staff-draft textarea", reply)
        page.click("#staff-send")
        page.wait_for_function("() => document.querySelector('#staff-ticket-status').innerText.includes('已发送给提问人')")
        page.click("#staff-send")
        page.wait_for_function("() => document.querySelector('#staff-ticket-status').innerText.includes('没有重复发送')")
        shot(page, "staff-03-sent-1366")

        view = call(f"{served}/api/conversations/{started['conversation_id']}",
                    headers={"X-Conversation-Secret": started["conversation_secret"]})
        staff = [m for m in view["messages"] if m["role"] == "staff"]
        assert len(staff) == 1 and staff[0]["text"] == reply and staff[0]["label"].startswith(f"工作人员已答复（{UNIT}，")

        page.click("#staff-publish")
        page.wait_for_function("() => document.querySelector('#staff-ticket-status').innerText.includes('已发布到答疑库')")
        answered = call(f"{served}/api/ask", {"question": REPHRASED})
        assert answered["answer_book"]["unit"] == UNIT and answered["answer"].startswith(f"答疑库（{UNIT}，")

        page.click("#staff-tab-entries-button")
        visible_cell(page, "#staff-entries", NO_BASIS).click()
        page.wait_for_function("() => document.querySelector('#staff-entry-question textarea').value.includes('公积金')")
        page.click("#staff-entry-retire")
        page.wait_for_function("() => document.querySelector('#staff-entry-status').innerText.includes('不再被引用')")
        shot(page, "staff-04-answer-book-1366")
        again = call(f"{served}/api/ask", {"question": REPHRASED})
        assert "answer_book" not in again and "答疑库" not in again["answer"]
    finally:
        context.close()
    assert hosts <= {"127.0.0.1", "localhost", ""}, f"the desk contacted other hosts: {hosts}"


def test_the_desk_on_a_phone_and_the_public_page_without_it(browser, served):
    context, page, _ = desk(browser, served, 390, 844)
    try:
        log_in(page, TOKEN)
        page.wait_for_function("() => document.querySelector('#staff-status').innerText.includes('已登录')")
        assert page.locator("#staff-queue").is_visible()
        shot(page, "staff-05-phone-390")
        page.goto(f"{served}/")
        page.wait_for_selector("#question textarea")
        assert page.locator("#staff-token").count() == 0 and "工作人员答疑台" not in page.inner_text("body")
    finally:
        context.close()
