"""The chat page embedded in a portal page with the README's <iframe> snippet, and the portal's own script calling
the API across origins (CORS), in a real browser (Debian's Chromium). Both servers listen on 127.0.0.1 only."""

from __future__ import annotations

import http.server
import threading
from functools import partial
from urllib.parse import urlparse

import pytest

from serve.factory import make_app
from tests.conftest import ROOT
from tests.servers import AppServer, free_port
from tests.test_browser import ARGS, ARTIFACTS, CHROMIUM

pytestmark = pytest.mark.slow


def iframe_snippet(readme: str) -> str:
    """The README's snippet (so the documented one is the one tested)."""
    start = readme.index("<iframe")
    return readme[start:readme.index("</iframe>", start) + len("</iframe>")]


PORTAL = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>某市政务服务门户</title></head>
<body><h1>企业服务专区</h1>{snippet}
<script>
window.askApi = q => fetch("{app}/api/ask", {{method: "POST", headers: {{"Content-Type": "application/json"}},
  body: JSON.stringify({{question: q}})}}).then(r => r.json());
</script></body></html>"""


@pytest.fixture(scope="module")
def portal(real_index, tmp_path_factory):
    app_port, portal_port = free_port(), free_port()
    portal_origin = f"http://127.0.0.1:{portal_port}"
    settings = real_index.model_copy(update={"port": app_port, "cors_origins": [portal_origin],
                                             "api_requests_per_minute": 0})
    snippet = iframe_snippet((ROOT / "README.md").read_text(encoding="utf-8")).replace(
        "https://policyqa.example.gov.cn", f"http://127.0.0.1:{app_port}")
    folder = tmp_path_factory.mktemp("portal")
    (folder / "index.html").write_text(PORTAL.format(snippet=snippet, app=f"http://127.0.0.1:{app_port}"),
                                       encoding="utf-8")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    site = http.server.ThreadingHTTPServer(("127.0.0.1", portal_port), handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    with AppServer(make_app(settings), port=app_port):
        yield f"{portal_origin}/index.html"
    site.shutdown()


def test_the_chat_page_works_inside_the_portals_iframe_and_the_portal_may_call_the_api(portal):
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: run scripts/setup.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1300}, locale="zh-CN")
        hosts: set[str] = set()
        page.on("request", lambda request: hosts.add(urlparse(request.url).hostname or ""))
        page.goto(portal)
        chat = page.frame_locator("iframe#policyqa")
        chat.locator("#question textarea").fill("日照市对达到考核目标的区县最高奖励多少?")
        chat.locator("#send").click()
        chat.locator("#chat .answer-sources").first.wait_for(timeout=60000)
        assert "300万元" in chat.locator('#chat [data-testid="bot"]').last.inner_text()
        answer = page.evaluate("() => window.askApi('吉林省对专精特新企业的专利保险费有补助吗?')")
        assert "3年" in answer["answer"] and answer["citations"]
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "10-embedded-in-portal.png"), full_page=True)
        browser.close()
    assert hosts <= {"127.0.0.1"}, f"the page contacted other hosts: {hosts}"
