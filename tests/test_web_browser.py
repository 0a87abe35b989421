"""The staff console in a real browser (Playwright driving Debian's chromium), end to end on
SQLite: sign in with a link taken from the console channel, open a report period, see a report
a member files through the console appear, answer a ticket and see the answer arrive in the
member's chat, upload a cooperatives file with a bad row, send a broadcast and watch its
progress reach 100%. Screenshots of each page at phone and desktop widths go to
var/screenshots/ (git-ignored)."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import build_app
from bot.channels.console import console_engine, take_outbox
from ground.settings import Settings
from knowledge.base import KnowledgeStore
from tests.browser_server import LiveApp, free_port
from tests.conftest import ROOT, Chat, _truncate
from tests.console_client import LINK
from tests.test_web_console_pages import BAD_ROW, file_report

CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "var" / "screenshots"
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None,
    reason="Debian's chromium is not installed (.ci/run installs it)",
)


@pytest.fixture
def live(sqlite_url: str, fixture_kb: KnowledgeStore, tmp_path: Path) -> Iterator[LiveApp]:
    port = free_port()
    settings = Settings(database_url=sqlite_url, public_url=f"http://127.0.0.1:{port}",
                        admins=frozenset({("console", "boss")}))  # fmt: skip
    app = build_app(settings, fixture_kb)
    original = app.console

    def console():  # type: ignore[no-untyped-def]
        c = original()
        c.folder = tmp_path / "console"
        return c

    app.console = console  # type: ignore[method-assign]
    server = LiveApp(app, port)
    server.start()
    yield server
    server.stop()
    asyncio.run(_truncate(sqlite_url))


@pytest.fixture
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def _say(live: LiveApp, user: str, text: str) -> str:
    return live.run(Chat(live.app, user).say(text))


def _shoot(browser, url: str, cookies: list, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, (width, height) in WIDTHS.items():
        context = browser.new_context(viewport={"width": width, "height": height})
        context.add_cookies(cookies)
        page = context.new_page()
        page.goto(url)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
        context.close()


def test_staff_run_the_alliance_from_a_browser(live: LiveApp, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Sign in: the link comes from the console channel, as staff get it.
    found = LINK.search(_say(live, "boss", "/dangnhap"))
    assert found
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(live.url + found.group(1))
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "signin-desktop.png"))
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(live.url + "/console/")
    assert page.get_by_role("heading", name="Tổng quan").is_visible()

    # Upload the cooperatives with one bad row: the row's error is shown.
    coops = tmp_path / "hop-tac-xa.csv"
    from db.cooperatives import DEMO_FILE

    coops.write_text(DEMO_FILE.read_text(encoding="utf-8") + BAD_ROW, encoding="utf-8")
    page.goto(live.url + "/console/coops")
    page.set_input_files("input[name=file]", str(coops))
    page.get_by_role("button", name="Nhập tệp").click()
    report = page.locator("#import-report")
    assert "đã nhập 12 hợp tác xã" in report.inner_text()
    assert re.search(r"Dòng 14: .+", report.inner_text())

    # A representative of DEMO-01, linked and approved through chat and the page.
    _say(live, "rep", "/dangky")
    _say(live, "rep", "DEMO-01")
    _say(live, "rep", "1")
    _say(live, "rep", "1")
    _say(live, "rep", "0912000101")
    page.goto(live.url + "/console/coops")
    page.get_by_role("button", name="Duyệt").first.click()
    assert "Đã duyệt liên kết" in page.locator(".notice").inner_text()

    # Open a period, after confirming.
    page.goto(live.url + "/console/reports")
    page.fill("input[name=period]", "2026-10")
    page.get_by_role("button", name="Mở kỳ").click()
    page.get_by_role("button", name="Đồng ý").click()
    assert "Đã mở kỳ báo cáo tháng 10/2026" in page.locator(".notice").inner_text()
    assert "0/11" in page.content()
    # The member files the report through the console: it appears on the page.
    live.run(file_report(Chat(live.app, "rep")))
    page.goto(live.url + "/console/reports?ky=2026-10&loc=done")
    assert "1/11" in page.content()
    assert (
        page.locator("#report-rows")
        .get_by_text("HTX Chè Shan tuyết Suối Giàng (demo)")
        .is_visible()
    )

    # A ticket: answered on the page, the answer arrives in the member's chat.
    _say(live, "farmer", "/start")
    _say(live, "farmer", "/lienhe Xin hỏi hạn nộp hồ sơ vay vốn?")
    page.goto(live.url + "/console/tickets")
    assert "Xin hỏi hạn nộp hồ sơ vay vốn?" in page.content()
    page.locator("textarea[name=text]").first.fill("Hạn nộp là ngày 15/12.")
    page.get_by_role("button", name="Gửi trả lời").first.click()
    assert "Đã gửi câu trả lời" in page.locator(".notice").inner_text()
    inbox = live.run(take_outbox(live.app.conversation, "farmer", remember=False))
    assert any("Hạn nộp là ngày 15/12." in r.text for r in inbox)

    # A broadcast: live count, preview, send; progress reaches 100% while the page polls.
    page.goto(live.url + "/console/broadcasts")
    page.fill("textarea[name=text]", "Hội chợ OCOP ngày 5/12 tại Yên Bái.")
    page.select_option("select[name=audience]", "all")
    page.locator("#count").get_by_text("Sẽ gửi tới").wait_for()
    page.locator("#preview").get_by_text("Hội chợ OCOP ngày 5/12").first.wait_for()
    page.screenshot(path=str(SHOTS / "broadcast-compose-desktop.png"), full_page=True)
    page.get_by_role("button", name="Gửi thông báo").click()
    page.wait_for_url(re.compile(r".*/console/broadcasts/\d+$"))
    assert page.locator("#progress").get_attribute("hx-trigger") == "every 2s"
    live.run(console_engine(live.app.conversation).drain())
    page.locator(".pct").get_by_text("100%").wait_for(timeout=15000)
    assert "đã gửi xong" in page.locator("#progress").inner_text()
    context.close()

    # Screenshots of every page at phone and desktop widths.
    context = browser.new_context()
    signed = LINK.search(_say(live, "boss", "/dangnhap"))
    assert signed
    p2 = context.new_page()
    p2.goto(live.url + signed.group(1))
    p2.get_by_role("button", name="Đăng nhập").click()
    p2.wait_for_url(live.url + "/console/")
    cookies = context.cookies()
    context.close()
    for name, path in [
        ("overview", "/console/"), ("tickets", "/console/tickets"), ("coops", "/console/coops"),
        ("reports", "/console/reports?ky=2026-10"), ("broadcasts", "/console/broadcasts"),
        ("broadcast", "/console/broadcasts/1"), ("events", "/console/events"),
        ("questions", "/console/questions"), ("audit", "/console/audit"),
        ("sessions", "/console/sessions"),
    ]:  # fmt: skip
        _shoot(browser, live.url + path, cookies, name)
    assert len(list(SHOTS.glob("*-phone.png"))) >= 10
