"""Kho tri thức in a real browser (Playwright driving Debian's chromium) on SQLite: edit an
answer, try a question on the draft, publish, ask the bot on the console and get the new
answer without a restart; add a variant from the unanswered queue; roll back."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import build_app
from ground.settings import Settings
from knowledge.base import KnowledgeStore
from tests.browser_server import LiveApp, free_port
from tests.conftest import FIXTURE_KB, ROOT, Chat, _truncate
from tests.console_client import LINK
from tests.test_knowledge_edit import NEW_ANSWER

CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "var" / "screenshots"
QUESTION = "Mở HTX phải có mấy người?"
UNKNOWN = "lập htx ở xã cần mấy hộ dân đóng góp"

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None,
    reason="Debian's chromium is not installed (.ci/run installs it)",
)


@pytest.fixture
def live(sqlite_url: str, tmp_path: Path) -> Iterator[LiveApp]:
    folder = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, folder)
    port = free_port()
    settings = Settings(database_url=sqlite_url, public_url=f"http://127.0.0.1:{port}",
                        admins=frozenset({("console", "boss")}), knowledge_dir=folder)  # fmt: skip
    app = build_app(settings, KnowledgeStore(folder))  # its own store: the shared one stays
    app.live.interval = 0  # poll the counter on every message (no timing in the test)
    server = LiveApp(app, port)
    server.start()
    yield server
    server.stop()
    asyncio.run(_truncate(sqlite_url))


def _say(live: LiveApp, user: str, text: str) -> str:
    return live.run(Chat(live.app, user).say(text))


def test_staff_keep_the_knowledge_base_in_a_browser(live: LiveApp) -> None:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            _walk(live, browser)
        finally:
            browser.close()


def _walk(live: LiveApp, browser) -> None:  # type: ignore[no-untyped-def]
    found = LINK.search(_say(live, "boss", "/dangnhap"))
    assert found
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(live.url + found.group(1))
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(live.url + "/console/")
    SHOTS.mkdir(parents=True, exist_ok=True)

    # Find the entry, edit its answer: the preview shows it as on Telegram and Zalo.
    page.get_by_role("link", name="Kho tri thức").click()
    page.fill("input[name=q]", "mấy người")
    page.get_by_role("button", name="Lọc").click()
    page.get_by_role("link", name="Số thành viên tối thiểu của HTX").click()
    page.fill("#kb-form textarea[name=answer]", NEW_ANSWER)
    page.get_by_role("button", name="Lưu bản nháp").click()
    assert "Đã lưu bản nháp." in page.locator(".notice").inner_text()
    assert NEW_ANSWER in page.locator("#kb-preview").inner_text()
    page.screenshot(path=str(SHOTS / "kb-edit-desktop.png"), full_page=True)

    # Try it on the draft: which entry answers, and its score.
    page.fill("#kb-try input[name=question]", QUESTION)
    page.get_by_role("button", name="Thử trên bản nháp").click()
    assert "Trả lời bằng mục htx.min_members" in page.locator("#kb-tried").inner_text()
    assert NEW_ANSWER not in _say(live, "m1", QUESTION)  # not published yet

    # Publish: the bot on the console answers with the new text, no restart.
    page.get_by_role("button", name="Đăng", exact=True).click()
    assert "Đã đăng phiên bản 2." in page.locator(".notice").inner_text()
    assert NEW_ANSWER in _say(live, "m1", QUESTION)

    # The unanswered queue: add the member's question as a variant, in one click.
    _say(live, "m1", UNKNOWN)
    page.get_by_role("link", name="Câu hỏi chưa trả lời").click()
    row = page.locator("tr", has_text=UNKNOWN)
    row.locator("input[name=entry]").fill("htx.min_members")
    row.get_by_role("button", name="Thêm làm cách hỏi của mục").click()
    assert "Đã thêm câu hỏi vào bản nháp của mục htx.min_members" in page.locator(
        ".notice").inner_text()  # fmt: skip
    assert UNKNOWN in page.locator("#kb-form textarea[name=questions]").input_value()

    # Roll back to version 1: the old answer is live again.
    page.get_by_role("button", name="Quay lại phiên bản 1").click()
    assert "thành phiên bản 3" in page.locator(".notice").inner_text()
    assert "05 thành viên chính thức." in _say(live, "m1", QUESTION)
    page.screenshot(path=str(SHOTS / "kb-history-desktop.png"), full_page=True)
