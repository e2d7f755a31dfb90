"""The 在线答疑 loop in a real browser (Debian's Chromium via Playwright) on the real service served on loopback, with
the real index, two browser contexts side by side: the citizen on the public chat page types a question with no basis
(declined, with its next step) → a ticket → staff log in at /staff, open it, edit the draft, send (twice: sent once)
→ the citizen reloads the page and sees the reply labelled 工作人员已答复（unit，date） → staff publish it → the same
question in other words, typed on the page, is answered from the 答疑库 with its citation and clauses → staff retire
the entry → asked again, not. Screenshots at 1366×900 and 390×844 go to tests/artifacts/."""

from __future__ import annotations

import re
import time
from urllib.parse import urlparse

import pytest

from serve.factory import make_app
from tests.servers import AppServer
from tests.test_browser import BOT, SIZES, ask, bot_messages, chromium, in_viewport, shot

pytestmark = pytest.mark.slow
TOKEN = "staff-desk-token"
UNIT = "吉林省工业和信息化厅"
NO_BASIS = "公司交公积金有补贴吗?"
REPHRASED = "企业缴纳住房公积金能拿到补贴吗"


@pytest.fixture(scope="module")
def served(real_index, tmp_path_factory):
    # A database of its own: the other browser tests' refused questions on the shared index open tickets too.
    database = tmp_path_factory.mktemp("desk-loop") / "desk.sqlite"
    settings = real_index.model_copy(update={"staff_token": TOKEN, "reply_unit": UNIT, "api_requests_per_minute": 0,
                                             "database_url": f"sqlite:///{database}"})
    with AppServer(make_app(settings, warm_up=False)) as server:
        yield server.url


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


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


def citizen(browser, served):
    """The public chat page in a browser context of its own (the citizen's: its own localStorage, no staff login)."""
    context = browser.new_context(viewport=SIZES["desktop"], locale="zh-CN")
    page = context.new_page()
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).hostname or ""))
    page.goto(f"{served}/")
    page.wait_for_selector("#chat .welcome .coverage-doc", timeout=30000)
    return context, page, hosts


def reloaded(page) -> str:
    """Reload the public page and wait for the kept conversation to be shown again with the staff reply; returns the
    reply's message as shown."""
    page.reload()
    page.wait_for_function(f"() => [...document.querySelectorAll('{BOT}')].some(m => m.innerText.includes('工作人员已答复'))",
                           timeout=30000)
    time.sleep(0.5)  # the chat settles its scroll
    return [text for text in bot_messages(page) if "工作人员已答复" in text][-1]


def asked_on_page(page, question: str, done: str) -> str:
    """Type a question on the public page and wait until its answer (the last message) holds ``done`` (its end) and
    the page has stopped generating."""
    before = len(bot_messages(page))
    page.fill("#question textarea", question)
    page.click("#send")
    page.wait_for_function(
        "([n, done]) => { const m = [...document.querySelectorAll('#chat [data-testid=\"bot\"]')];"
        " return m.length > n && m[m.length - 1].innerText.includes(done)"
        " && !document.querySelector('#chat .generating'); }", arg=[before, done], timeout=60000)
    time.sleep(0.6)  # the last chunk, the message with its sources, then shown
    return bot_messages(page)[-1]


def test_the_whole_loop_from_a_refusal_on_the_public_page_to_the_answer_book_and_back(browser, served):
    asker, public, public_hosts = citizen(browser, served)
    context, page, hosts = desk(browser, served, 1366, 900)
    try:
        refused = ask(public, NO_BASIS, expect="refusal")  # typed on the public page
        assert "知识库中没有" in refused and "换个说法再问" in refused and "转人工" in refused  # the next step
        shot(public, "loop-01-citizen-refused-1366", whole=False)

        shot(page, "staff-01-login-1366")
        log_in(page, "wrong")
        page.wait_for_function("() => document.querySelector('#staff-status').innerText.includes('口令不正确')")
        assert "公积金" not in page.inner_text("body")  # nothing of the queue before login
        log_in(page, TOKEN)
        page.wait_for_function("() => document.querySelector('#staff-counts').innerText.includes('待处理：1')")
        visible_cell(page, "#staff-queue", NO_BASIS).click()  # the page's turn became the ticket
        page.wait_for_function("() => document.querySelector('#staff-conversation').innerText.includes('智能助手')")
        assert NO_BASIS in page.inner_text("#staff-conversation")
        draft = page.input_value("#staff-draft textarea")
        assert draft.startswith("您好！") and "暂未找到" in draft and UNIT in draft and "抱歉" not in draft
        shot(page, "staff-02-ticket-1366")
        reply = draft.replace("建议您向所在地", "住房公积金缴存请咨询当地住房公积金管理中心；其他问题请向所在地")
        assert reply != draft
        page.fill("#staff-draft textarea", reply)
        page.click("#staff-send")
        page.wait_for_function("() => document.querySelector('#staff-ticket-status').innerText.includes('已发送给提问人')")
        page.click("#staff-send")
        page.wait_for_function("() => document.querySelector('#staff-ticket-status').innerText.includes('没有重复发送')")
        shot(page, "staff-03-sent-1366")

        # The citizen reloads the public page: the conversation again, the staff reply labelled, at both sizes.
        shown = reloaded(public)
        assert re.search(rf"工作人员已答复（{UNIT}，\d{{4}}年\d{{1,2}}月\d{{1,2}}日）", shown)
        assert "住房公积金缴存请咨询当地住房公积金管理中心" in shown and shown.count("工作人员已答复") == 1  # sent once
        assert public.locator('#chat [data-testid="user"]').first.inner_text().strip() == NO_BASIS
        assert in_viewport(public, f"{BOT} .message-content")  # the reply, the last message, in view
        shot(public, "loop-02-citizen-reloaded-1366", whole=False)
        public.set_viewport_size(SIZES["phone"])
        assert "住房公积金缴存请咨询当地住房公积金管理中心" in reloaded(public)
        shot(public, "loop-02-citizen-reloaded-390", whole=False)
        assert in_viewport(public, f"{BOT} .message-content")  # its first line, not only its end
        public.set_viewport_size(SIZES["desktop"])
        reloaded(public)

        page.click("#staff-publish")
        page.wait_for_function("() => document.querySelector('#staff-ticket-status').innerText.includes('已发布到答疑库')")
        # The same question in other words, typed on the page (in the same conversation): the 答疑库 answers, cited.
        answered = asked_on_page(public, REPHRASED, "工作人员对同类问题的答复")
        cited = re.match(rf"答疑库（{UNIT}，\d{{4}}年\d{{1,2}}月\d{{1,2}}日）", answered)
        assert cited and f"本答复引自{cited.group(0)}" in answered  # the citation, and the note saying so
        assert "住房公积金缴存请咨询当地住房公积金管理中心" in answered
        sources = public.locator(BOT).last.locator(".answer-sources:not(.related-sources) details.source")
        assert sources.count() >= 1 and "[1]" in answered  # the entry's clauses, cited under it
        assert "未找到政策依据" not in answered and "转人工" not in answered
        shot(public, "loop-03-citizen-answer-book-1366", whole=False)

        page.click("#staff-tab-entries-button")
        visible_cell(page, "#staff-entries", NO_BASIS).click()
        page.wait_for_function("() => document.querySelector('#staff-entry-question textarea').value.includes('公积金')")
        page.click("#staff-entry-retire")
        page.wait_for_function("() => document.querySelector('#staff-entry-status').innerText.includes('不再被引用')")
        shot(page, "staff-04-answer-book-1366")
        again = asked_on_page(public, REPHRASED, "换个说法再问")  # declined again, with its next step
        assert "答疑库" not in again and "住房公积金缴存请咨询" not in again
        shot(public, "loop-04-citizen-retired-1366", whole=False)
    finally:
        context.close()
        asker.close()
    assert hosts <= {"127.0.0.1", "localhost", ""}, f"the desk contacted other hosts: {hosts}"
    assert public_hosts <= {"127.0.0.1", "localhost", ""}, f"the public page contacted other hosts: {public_hosts}"


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
