"""The staff web console's pages do what chat does, through the same operations (SQLite and
PostgreSQL): cooperatives (import with a bad row, search, export, approve a link), reports
(open after confirming, a member's report appears, export, chart)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.app import App
from db.cooperatives import DEMO_FILE
from db.models import AuditEntry, Cooperative, Event, Member, ReportPeriod
from tests.conftest import Chat, Clock
from tests.console_client import client, csrf, sign_in
from tests.test_reports import _fill_form

BAD_ROW = "HTX Lỗi,BAD-01,Hợp tác xã,Không có ngành này,Xã Không Tồn Tại,,123,Đang hoạt động\n"


def _coops_file(tmp_path: Path) -> Path:
    path = tmp_path / "hop-tac-xa.csv"
    path.write_text(DEMO_FILE.read_text(encoding="utf-8") + BAD_ROW, encoding="utf-8")
    return path


async def test_import_search_export_and_approve_a_link(small_app: App, tmp_path: Path) -> None:
    small_app_console_folder(small_app, tmp_path)
    async with client(small_app) as http:
        await sign_in(http, Chat(small_app, "boss"))
        token = await csrf(http, "/console/coops")
        path = _coops_file(tmp_path)
        r = await http.post("/console/coops/import", data={"csrf": token},
                            files={"file": (path.name, path.read_bytes(), "text/csv")})  # fmt: skip
        assert r.status_code == 200, r.text
        assert "đã nhập 12 hợp tác xã" in r.text
        assert "Dòng 14:" in r.text  # the bad row, by its line in the file
        r = await http.get("/console/coops", params={"q": "tú lệ"})
        assert "HTX Gạo nếp Tú Lệ (demo)" in r.text and "Chè Shan" not in r.text
        assert "0912000102" not in r.text and "091****102" in r.text  # phones masked
        r = await http.get("/console/coops/export", params={"fmt": "csv"})
        assert r.status_code == 200 and "DEMO-02" in r.text
        # A member asks to be linked with a typed phone: staff approve it on the page.
        member = Chat(small_app, "farmer")
        await member.say("/dangky")
        await member.say("DEMO-02")
        await member.say("1")  # the cooperative found
        await member.say("1")  # Chủ tịch / Giám đốc
        assert "cán bộ sẽ duyệt" in await member.say("0912000102")
        r = await http.get("/console/coops")
        assert "Liên kết chờ duyệt" in r.text and "DEMO-02" in r.text
        async with small_app.conversation.sessions() as s:
            who = (await s.execute(select(Member).where(Member.user_id == "farmer"))).scalar_one()
        r = await http.post(f"/console/coops/links/{who.id}",
                            data={"csrf": token, "decision": "ok"})  # fmt: skip
        assert r.status_code == 200 and "Đã duyệt liên kết" in r.text, r.text
        r = await http.post(f"/console/coops/links/{who.id}",
                            data={"csrf": token, "decision": "ok"})  # fmt: skip
        assert r.status_code == 400  # already decided
    async with small_app.conversation.sessions() as s:
        actions = set((await s.execute(select(AuditEntry.action))).scalars())
    assert {"import_cooperatives", "export_cooperatives", "link_approved"} <= actions


def small_app_console_folder(app: App, folder: Path) -> None:
    original = app.console

    def console():  # type: ignore[no-untyped-def]
        c = original()
        c.folder = folder / "console"
        return c

    app.console = console  # type: ignore[method-assign]


async def test_open_a_period_after_confirming_and_see_a_report_arrive(
    small_app: App, clock: Clock, tmp_path: Path
) -> None:
    small_app_console_folder(small_app, tmp_path)
    async with client(small_app) as http:
        await sign_in(http, Chat(small_app, "boss"))
        token = await csrf(http, "/console/coops")
        path = _coops_file(tmp_path)
        await http.post("/console/coops/import", data={"csrf": token},
                        files={"file": (path.name, path.read_bytes(), "text/csv")})  # fmt: skip
        async with small_app.conversation.sessions() as s:
            coop = (
                await s.execute(select(Cooperative).where(Cooperative.code == "DEMO-01"))
            ).scalar_one()
            rep = Member(channel="console", user_id="rep", locale="vi", role="member",
                         opted_out=False, unreachable=False, cooperative_id=coop.id,
                         coop_role="manager", link_status="approved", phone="0912000101")  # fmt: skip
            s.add(rep)
            await s.commit()
        r = await http.get("/console/reports")
        assert r.status_code == 200 and "Chưa mở kỳ báo cáo nào." in r.text
        r = await http.post("/console/reports/open", data={"csrf": token, "period": "2026-10"})
        assert r.status_code == 200 and 'name="confirm" value="1"' in r.text  # asks first
        async with small_app.conversation.sessions() as s:
            assert (await s.execute(select(ReportPeriod))).first() is None
        r = await http.post("/console/reports/open",
                            data={"csrf": token, "period": "2026-10", "confirm": "1"})  # fmt: skip
        assert r.status_code == 200 and "0/11" in r.text  # one demo cooperative is inactive
        r = await http.post("/console/reports/open", data={"csrf": token, "period": "2030-01"})
        assert r.status_code == 400 and "chưa bắt đầu" in r.text
        # The representative files the report through the console channel.
        await file_report(Chat(small_app, "rep"))
        r = await http.get("/console/reports", params={"ky": "2026-10", "loc": "done"})
        assert "1/11" in r.text and "HTX Chè Shan tuyết Suối Giàng (demo)" in r.text
        r = await http.get("/console/reports/export", params={"ky": "2026-10", "fmt": "csv"})
        assert r.status_code == 200 and "Suối Giàng" in r.text
        r = await http.get("/console/reports/chart.png", params={"ky": "2026-10"})
        assert r.status_code == 200 and r.content.startswith(b"\x89PNG")


async def file_report(rep: Chat) -> None:
    """The representative answers the monthly report on the console and sends it."""
    assert "Câu 1/" in await rep.say("/baocao")
    await _fill_form(rep)
    await rep.say("bỏ qua")  # the last question is optional
    assert "Đã gửi" in await rep.say("1")  # Gửi


async def test_a_broadcast_from_the_page_counts_previews_sends_and_reaches_100(
    small_app: App,
) -> None:
    from bot.channels.console import console_engine

    for user in ("m1", "m2", "m3"):
        await Chat(small_app, user).send("/start")
    async with client(small_app) as http:
        await sign_in(http, Chat(small_app, "boss"))
        token = await csrf(http, "/console/broadcasts")
        r = await http.get("/console/broadcasts/count", params={"audience": "all"})
        assert "Sẽ gửi tới 3 người" in r.text  # the author is not counted
        r = await http.get("/console/broadcasts/count",
                           params={"audience": "sector", "value_sector": "no-such"})  # fmt: skip
        assert "Không có nhóm người nhận này" in r.text
        r = await http.post("/console/broadcasts/preview",
                            data={"csrf": token, "text": "<i>Hội chợ</i> 5/12"})  # fmt: skip
        assert "&lt;i&gt;Hội chợ&lt;/i&gt; 5/12" in r.text and "Zalo" in r.text
        r = await http.post("/console/broadcasts",
                            data={"csrf": token, "text": "Hội chợ OCOP 5/12", "audience": "all"})  # fmt: skip
        assert r.status_code == 303
        detail = r.headers["location"]
        r = await http.get(detail + "/progress")
        assert "0/3" in r.text and 'hx-trigger="every 2s"' in r.text
        await console_engine(small_app.conversation).drain()
        r = await http.get(detail + "/progress")
        assert "100%" in r.text and "every 2s" not in r.text and "đã gửi xong" in r.text
        r = await http.post(detail + "/cancel", data={"csrf": token})
        assert r.status_code == 400  # nothing left to stop
    inbox = await take(small_app, "m2")
    assert "Hội chợ OCOP 5/12" in inbox


async def take(app: App, user: str) -> str:
    from bot.channels.console import take_outbox

    return "\n".join(r.text for r in await take_outbox(app.conversation, user, remember=False))


async def test_events_questions_and_the_audit_log(small_app: App, tmp_path: Path) -> None:
    small_app_console_folder(small_app, tmp_path)
    member = Chat(small_app, "farmer")
    await member.say("<b>câu hỏi lạ</b> về máy cày xyzzy")
    await member.say("cau hoi la ve may cay xyzzy")
    async with client(small_app) as http:
        await sign_in(http, Chat(small_app, "boss"))
        token = await csrf(http, "/console/events")
        r = await http.post("/console/events", data={
            "csrf": token, "title": "Hội chợ <OCOP>", "starts_at": "2026-12-05T08:00",
            "place": "Yên Bái", "tags": "ocop, hội chợ"})  # fmt: skip
        assert r.status_code == 200 and "Đã thêm sự kiện" in r.text
        assert "Hội chợ &lt;OCOP&gt;" in r.text and "05/12/2026, 08:00" in r.text
        async with small_app.conversation.sessions() as s:
            event_id = (await s.execute(select(Event.id))).scalar_one()
        r = await http.get(f"/console/events/{event_id}")
        assert 'value="2026-12-05T08:00"' in r.text and 'value="Hội chợ &lt;OCOP&gt;"' in r.text
        r = await http.post(f"/console/events/{event_id}", data={
            "csrf": token, "title": "Hội chợ OCOP", "starts_at": "2026-12-06T09:30"})  # fmt: skip
        assert r.status_code == 200 and "Đã lưu sự kiện" in r.text and "06/12/2026, 09:30" in r.text
        r = await http.post("/console/events", data={
            "csrf": token, "title": "Hội chợ <OCOP>", "starts_at": "2026-12-05T08:00"})  # fmt: skip
        r = await http.post("/console/events", data={"csrf": token, "title": "X",
                                                     "starts_at": "mai"})  # fmt: skip
        assert r.status_code == 400 and "không hợp lệ" in r.text
        events_file = tmp_path / "su-kien.csv"
        events_file.write_text("Tên sự kiện,Bắt đầu\nTập huấn,10/12/2026\nLỗi,không phải ngày\n",
                               encoding="utf-8")  # fmt: skip
        r = await http.post("/console/events/import", data={"csrf": token},
                            files={"file": (events_file.name, events_file.read_bytes())})  # fmt: skip
        assert r.status_code == 200 and "Dòng 3:" in r.text, r.text
        r = await http.get("/console/questions")
        assert "&lt;b&gt;câu hỏi lạ&lt;/b&gt; về máy cày xyzzy" in r.text
        assert "<b>câu hỏi lạ" not in r.text
        r = await http.get("/console/audit", params={"viec": "event_added"})
        assert "event_added" in r.text and "web_signed_in</td>" not in r.text
        r = await http.get("/console/audit", params={"ai": "console:boss"})
        assert "web_signed_in" in r.text
        r = await http.get("/console/")
        assert "Hội chợ &lt;OCOP&gt;" in r.text and "2</b>" in r.text  # questions this week


async def test_open_tickets_come_20_a_page_oldest_first(small_app: App, clock: Clock) -> None:
    from operations import Actor
    from operations import tickets as ticket_ops

    await Chat(small_app, "farmer").send("/start")
    async with small_app.conversation.sessions() as s:
        row = (await s.execute(select(Member).where(Member.user_id == "farmer"))).scalar_one()
        for i in range(25):
            clock.now += timedelta(minutes=1)
            await ticket_ops.open_ticket(s, Actor.of(row), f"câu số {i:02d}",
                                         translations=small_app.translations,
                                         settings=small_app.settings, now=clock())  # fmt: skip
        await s.commit()
    async with client(small_app) as http:
        await sign_in(http, Chat(small_app, "boss"))
        first = (await http.get("/console/tickets")).text
        second = (await http.get("/console/tickets", params={"trang": "2"})).text
    assert "câu số 00" in first and "câu số 19" in first and "câu số 20" not in first
    assert "Trang 1/2" in first and "câu số 24" in second and "câu số 00" not in second
