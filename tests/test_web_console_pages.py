"""The staff web console's pages do what chat does, through the same operations (SQLite and
PostgreSQL): cooperatives (import with a bad row, search, export, approve a link), reports
(open after confirming, a member's report appears, export, chart)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.app import App
from db.cooperatives import DEMO_FILE
from db.models import AuditEntry, Cooperative, Member, ReportPeriod
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
