"""Hostile input at the edge (#16), on both databases: ids longer than the columns that hold
them, NUL and invalid text in every field of an :class:`Incoming`. Nothing fails the update;
an id no channel gives (longer than the members table holds) is ignored, never truncated into
someone else's id."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.app import App
from db.models import Cooperative, Event, Member
from ground.messages import Incoming
from outputs.cooperatives import import_cooperatives
from outputs.events import import_events
from outputs.spreadsheets import SpreadsheetError
from tests.conftest import Chat


async def _members(app: App) -> int:
    async with app.conversation.sessions() as s:
        return await s.scalar(select(func.count()).select_from(Member)) or 0


async def test_over_long_sender_ids_are_ignored_not_truncated(small_app: App) -> None:
    conv = small_app.conversation
    first = await conv.handle(Incoming("zalo", "7" * 64, text="xin chào"))
    assert first.error_id is None and first.replies  # 64 characters: the column's width
    for user_id in ("7" * 64 + "1", "7" * 64 + "2", "u" * 200):
        out = await conv.handle(Incoming("zalo", user_id, text="/hoptacxa"))
        assert out.error_id is None and out.replies == [] and out.handler == "ignored"
    assert await _members(small_app) == 1


async def test_nul_and_invalid_text_in_every_field(small_app: App) -> None:
    conv = small_app.conversation
    dirty = "a\x00b\ud800c\x1b"
    for inc in (
        Incoming("zalo", "z\x00", text=dirty, display_name=dirty, language_code=dirty,
                 update_id=dirty * 40, once=True),
        Incoming("telegram", "1\x00", action=dirty, display_name=dirty),
        Incoming("console", dirty, text="/dangky " + dirty),
        Incoming("telegram", "2", text=dirty, contact_phone="09\x0012345678",
                 contact_verified=True),
    ):  # fmt: skip
        out = await conv.handle(inc)
        assert out.error_id is None, inc
    async with small_app.conversation.sessions() as s:
        names = (await s.execute(select(Member.user_id, Member.display_name))).all()
    assert all("\x00" not in (u + (n or "")) for u, n in names)


async def test_nul_and_invalid_utf8_in_every_imported_cell(app: App, tmp_path: Path) -> None:
    """Every cell of a cooperative and an event file carries a NUL: the rows go in clean,
    nothing fails on PostgreSQL. A file that is not UTF-8 is refused with one clear line."""
    now, tz = datetime(2026, 11, 28, 3, 0, tzinfo=UTC), ZoneInfo("Asia/Ho_Chi_Minh")
    (tmp_path / "c.csv").write_text(
        "Tên,Mã số,Loại hình,Lĩnh vực,Xã/phường,Địa chỉ,Điện thoại\n"
        "HTX\x00 Chè,N\x00-1,HTX\x00,Khác\x00,Xã Bắc Hà\x00,Thôn\x00 1,0912\x00345678\n",
        encoding="utf-8",
    )
    (tmp_path / "e.csv").write_text(
        "Tên sự kiện,Bắt đầu,Kết thúc,Địa điểm,Mô tả\n"
        "Hội\x00 chợ,20/12/2026\x00,22/12/2026,Lào\x00 Cai,mô\x00 tả\n",
        encoding="utf-8",
    )
    (tmp_path / "bad.csv").write_bytes(b"T\xean,M\xe3 s\xf4\nHTX \xff\xfe,N-2\n")
    async with app.conversation.sessions() as s:
        assert len((await import_cooperatives(s, tmp_path / "c.csv", now)).rejected) == 0
        assert len((await import_events(s, tmp_path / "e.csv", now, tz)).rejected) == 0
        for importer in (import_cooperatives(s, tmp_path / "bad.csv", now),
                         import_events(s, tmp_path / "bad.csv", now, tz)):  # fmt: skip
            with pytest.raises(SpreadsheetError, match="UTF-8") as raised:
                await importer
            assert "\n" not in str(raised.value)
    async with app.conversation.sessions() as s:
        coop = (await s.execute(select(Cooperative))).scalar_one()
        event = (await s.execute(select(Event))).scalar_one()
    assert (coop.name, coop.code, coop.address, coop.phone) == ("HTX Chè", "N-1", "Thôn 1",
                                                                "0912345678")  # fmt: skip
    assert (event.title, event.place, event.description) == ("Hội chợ", "Lào Cai", "mô tả")


async def test_the_report_form_reads_money_slang_and_asks_back_on_the_rest(app: App) -> None:
    """Typed into the report's money question: slang is read as members mean it, the rest is
    asked again (never stored as a silent misreading, never a crash)."""
    from tests.test_reports import DEC_1, _cycle, _flow, _seed

    await _seed(app)
    await _cycle(app, DEC_1)
    lan = Chat(app, "lan")
    await lan.say("/baocao")
    for typed in ("12", "2", "0", "15"):
        await lan.say(typed)
    _, data = await _flow(app, "lan")
    assert data and data["step"] == "revenue"
    for typed in ("²", "③", "1" * 26, ".12", "5²", "١٢", "5 năm"):
        out = await lan.send(typed)
        assert out.error_id is None, typed
        _, after = await _flow(app, "lan")
        assert after and after["step"] == "revenue" and "revenue" not in after["answers"], typed
    for typed, value in (("5 củ", 5_000_000), ("5 lít", 500_000), ("5 tỏi", 5_000_000_000),
                         ("5kk", 5_000_000)):  # fmt: skip
        await lan.say(typed)
        _, after = await _flow(app, "lan")
        assert after and after["answers"].get("revenue") == value, (typed, after)
        await lan.send(action="rp:f:revenue")  # back to the question, to type the next


@pytest.mark.parametrize("number", ["99999999999999999999", "-1", "0", "²"])
def test_command_line_ids_out_of_range_are_one_clear_line(
    database_url: str, tmp_path: Path, number: str
) -> None:
    """Ids typed at the command line reach the database only when it can hold them."""
    from tests.test_cli import run

    env = {"DATABASE_URL": database_url, "COOPBOT_ADMINS": "console:boss"}
    for args in (["broadcasts", "cancel", number, "--yes"], ["links", "approve", number],
                 ["tickets", "close", number], ["tickets", "answer", number, "Trả lời"],
                 ["audit", "--limit", number]):  # fmt: skip
        out = run(args, tmp_path, **env)
        if args[0] == "audit" and number == "0":
            assert out.returncode == 0, out.stderr  # no entries asked for: none printed
            continue
        assert out.returncode in (1, 2), (args, out.stderr)
        assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) <= 3, (
            args,
            out.stderr,
        )


def test_command_line_text_that_is_not_utf8_is_one_clear_line(
    database_url: str, tmp_path: Path
) -> None:
    """Bytes that are not UTF-8 in an argument reach Python as lone surrogates: cleaned as chat
    text is, they never fail the database."""
    from tests.test_cli import run

    env = {"DATABASE_URL": database_url, "COOPBOT_ADMINS": "console:boss"}
    for args in (["staff", "add", "console:\udcff"], ["staff", "remove", "\udcff\x01"],
                 ["broadcasts", "count", "commune", "\udcff"], ["reports", "open", "\udcff"],
                 ["tickets", "answer", "1", "tr\udcffả lời"],
                 ["chat", "--as", "\udcff"]):  # fmt: skip
        out = run(args, tmp_path, **env)
        assert "Traceback" not in out.stderr, (args, out.stderr[-500:])
