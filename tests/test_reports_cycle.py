"""Monthly reports over time and for staff: the schedule and reminders, opening by hand,
progress, exports, the chart, and a report over Telegram (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.app import App
from bot.scheduler import run_due_jobs
from db import reports as db
from db.models import (
    AuditEntry,
    Member,
    ReportPeriod,
)
from tests.conftest import Chat
from tests.test_reports import (
    DEC_1,
    HANOI,
    _cycle,
    _fill_form,
    _outbox,
    _prompts,
    _reports,
    _seed,
    _text,
    local,
)

# --- the schedule ----------------------------------------------------------------------------


async def test_reminders_only_to_cooperatives_that_have_not_submitted(app: App, clock: Any) -> None:
    await _seed(app)
    clock.now = DEC_1
    await _cycle(app, clock.now)
    assert await _cycle(app, clock.now + timedelta(minutes=1)) == db.CycleResult()  # nothing new
    lan = Chat(app, "lan")
    await lan.say("/baocao")
    await _fill_form(lan)
    await lan.send("1")
    await lan.send("1")
    clock.now = local(5)
    assert (await _cycle(app, clock.now)).prompts == 1
    assert (await _cycle(app, clock.now)).prompts == 0  # never twice
    assert "Nhắc: HTX Mận Bắc Hà chưa gửi" in (await _outbox(app, "minh"))[-1].text
    clock.now = local(10)
    assert (await _cycle(app, clock.now)).prompts == 1
    assert await _prompts(app) == [
        ("hoa", "open"),
        ("hoa", "done"),
        ("lan", "open"),
        ("minh", "open"),
        ("minh", "remind1"),
        ("minh", "remind2"),
    ]


async def test_catch_up_after_downtime_without_double_prompts(app: App, clock: Any) -> None:
    await _seed(app)
    # Down until the 7th, 02:00: nothing is sent at night...
    clock.now = local(7, 2)
    assert await _cycle(app, clock.now) == db.CycleResult()
    # ...at 08:00 the period opens and the prompts go out, without the 5th's reminder.
    clock.now = local(7, 8)
    result = await _cycle(app, clock.now)
    assert result.opened == ["2026-11"] and result.prompts == 3
    for minutes in (1, 60, 600):
        assert (await _cycle(app, clock.now + timedelta(minutes=minutes))).prompts == 0
    assert {k for _, k in await _prompts(app)} == {"open"}
    # The 10th's reminder still comes, once.
    clock.now = local(10, 8)
    assert (await _cycle(app, clock.now)).prompts == 3
    assert (await _cycle(app, clock.now)).prompts == 0
    # The scheduler runs the job too (and keeps running when it is a no-op).
    await run_due_jobs(app, clock.now + timedelta(minutes=1))
    assert len(await _prompts(app)) == 6


async def test_period_closes_and_a_member_linked_late_is_prompted(app: App, clock: Any) -> None:
    ids = await _seed(app)
    clock.now = DEC_1
    await _cycle(app, clock.now)
    async with app.conversation.sessions() as s:
        s.add(Member(channel="console", user_id="late", display_name="Muộn", locale="en",
                     role="member", opted_out=False, unreachable=False, created_at=clock.now,
                     cooperative_id=ids["C2"], coop_role="accountant", link_status="approved"))  # fmt: skip
        await s.commit()
    clock.now = local(3)
    assert (await _cycle(app, clock.now)).prompts == 1
    (prompt,) = await _outbox(app, "late")
    assert "November 2026" in prompt.text and "15 Dec 2026" in prompt.text  # their locale
    clock.now = local(15, 23)
    assert (await _cycle(app, clock.now)).closed == []
    clock.now = local(16, 0)
    assert (await _cycle(app, clock.now)).closed == ["2026-11"]
    async with app.conversation.sessions() as s:
        row = (await s.execute(select(ReportPeriod))).scalar_one()
    assert row.status == "closed"
    assert "chưa có kỳ báo cáo nào đang mở" in await Chat(app, "lan").say("/baocao")


def test_schedule_from_the_environment() -> None:
    s = db.ReportSchedule.from_env(
        {
            "COOPBOT_REPORT_OPEN_DAY": "2",
            "COOPBOT_REPORT_REMIND_DAYS": "6, 9 ,12",
            "COOPBOT_REPORT_CLOSE_DAY": "20",
        }
    )
    assert (s.open_day, s.remind_days, s.close_day) == (2, (6, 9, 12), 20)
    assert db.ReportSchedule.from_env({}) == db.ReportSchedule()
    with pytest.raises(db.ScheduleError, match="COOPBOT_REPORT"):
        db.ReportSchedule.from_env({"COOPBOT_REPORT_CLOSE_DAY": "3"})
    with pytest.raises(db.ScheduleError, match="COOPBOT_REPORT_OPEN_DAY"):
        db.ReportSchedule.from_env({"COOPBOT_REPORT_OPEN_DAY": "first"})
    assert db.parse_period("11/2026") == db.parse_period("2026-11") == "2026-11"
    assert db.parse_period("2026-13") is None


# --- staff -----------------------------------------------------------------------------------


async def test_staff_open_by_hand_progress_and_xlsx_export(app: App, clock: Any) -> None:
    await _seed(app)
    clock.now = local(20, month=11)
    boss = Chat(app, "boss")
    assert "chỉ dành cho cán bộ" in await Chat(app, "lan").say("/mobaocao 2026-10")
    assert "chưa bắt đầu" in await boss.say("/mobaocao 2027-01")
    reply = await boss.say("/mobaocao 2026-10")  # asks first: it writes to 3 people (#16)
    assert "Mở kỳ báo cáo tháng 10/2026" in reply and "tới 3 người" in reply
    assert await _prompts(app) == []
    reply = _text(await boss.send("1"))  # "Mở kỳ và gửi"
    assert "Đã mở kỳ báo cáo tháng 10/2026" in reply and "tới 3 người" in reply
    assert "đang mở" in await boss.say("/mobaocao 2026-10")
    assert len(await _prompts(app)) == 3
    lan = Chat(app, "lan")
    await lan.send(action="rp:start:2026-10")
    await _fill_form(lan)
    await lan.send("1")
    assert "Đã gửi báo cáo tháng 10/2026" in _text(await lan.send("1"))

    reply = await boss.say("/tiendo")
    assert "Báo cáo tháng 10/2026: 1/2 HTX đã gửi (50%)" in reply
    assert "• Xã Suối Giàng: 1/1" in reply and "• Xã Bắc Hà: 0/1" in reply
    assert "• Nông – lâm – thủy sản: 1/1" in reply

    out = await boss.send("/xuat 2026-10")
    att = out.replies[0].attachment
    assert att is not None and att.filename == "bao-cao-2026-10.xlsx"
    sheet = load_workbook(att.path).active
    assert sheet is not None
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    headers = table[0]
    assert "Doanh thu tháng (đồng)" in headers and "Thành viên chính thức (người)" in headers
    assert len(table) == 3  # the inactive cooperative that did not report is left out
    by_code = {
        row[headers.index("Mã số")]: dict(zip(headers, row, strict=True)) for row in table[1:]
    }
    assert by_code["C1"]["Doanh thu tháng (đồng)"] == 46_000_000
    assert by_code["C1"]["Chứng nhận"] == "VietGAP; OCOP 4 sao"
    assert by_code["C1"]["Trạng thái"] == "Đã gửi" and by_code["C2"]["Trạng thái"] == "Chưa gửi"
    assert by_code["C2"]["Doanh thu tháng (đồng)"] is None


async def test_cli_exports_and_opens(app: App, clock: Any, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    from bot.cli import main

    await _seed(app)
    monkeypatch.setenv("DATABASE_URL", app.settings.database_url)
    # The month just ended, by the real clock: the command line has no test clock.
    period = db.previous_period(datetime.now(UTC).astimezone(HANOI).date())
    label = f"{period[5:]}/{period[:4]}"
    # Prompting three people is asked first; a script must say --yes (#16).
    assert await asyncio.to_thread(main, ["reports", "open", period]) == 1
    assert "--yes" in capsys.readouterr().out and await _prompts(app) == []
    assert await asyncio.to_thread(main, ["reports", "open", period, "--yes"]) == 0
    assert f"Đã mở kỳ báo cáo tháng {label}" in capsys.readouterr().out
    assert len(await _prompts(app)) == 3
    for fmt in ("xlsx", "csv"):
        out = tmp_path / f"r.{fmt}"
        argv = ["export", "reports", "--period", period, "--format", fmt, "--output", str(out)]
        assert await asyncio.to_thread(main, argv) == 0
        assert out.is_file()
    text = (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("Kỳ báo cáo,Mã số,Tên HTX")
    async with app.conversation.sessions() as s:
        audit = (await s.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars().all()
    exports = [(a.actor, a.target, a.detail) for a in audit if a.action == "export_reports"]
    assert exports == [
        ("cli", period, {"rows": 2, "format": "xlsx", "file": "r.xlsx"}),
        ("cli", period, {"rows": 2, "format": "csv", "file": "r.csv"}),
    ]
    assert await asyncio.to_thread(main, ["export", "reports", "--period", "nonsense"]) == 2


async def test_chart_is_a_png(app: App, clock: Any) -> None:
    await _seed(app)
    clock.now = DEC_1
    await _cycle(app, clock.now)
    lan = Chat(app, "lan")
    await lan.say("/baocao")
    await _fill_form(lan)
    await lan.send("1")
    await lan.send("1")
    out = await Chat(app, "boss").send("/bieudo")
    att = out.replies[0].attachment
    assert att is not None and att.is_image and att.filename == "bieu-do-2026-11.png"
    assert att.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- Telegram, end to end --------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_report_over_telegram(tg: Any, small_app: App, clock: Any) -> None:
    from tests.telegram_fake import callback_update, message_update

    ids = await _seed(small_app)
    async with small_app.conversation.sessions() as s:
        s.add(Member(channel="telegram", user_id="4001", display_name="Lan", locale="vi",
                     role="member", opted_out=False, unreachable=False, created_at=clock.now,
                     cooperative_id=ids["C2"], coop_role="manager", link_status="approved"))  # fmt: skip
        await s.commit()
    clock.now = DEC_1
    await _cycle(small_app, clock.now)
    assert await tg.channel.deliver_outbox() == 1
    (prompt,) = tg.api.sent()
    assert prompt["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "rp:start:2026-11"
    await tg.send(callback_update(4001, "rp:start:2026-11"))
    for text in ("15", "0", "1", "6", "1,2 tỷ", "Mận tam hoa 5 tấn"):
        await tg.send(message_update(4001, text))
    assert "Câu 7/11" in tg.api.texts(4001)[-1]
    await tg.send(callback_update(4001, "rp:m:certifications:ocop3"))
    edited = tg.api.sent("editMessageText")
    assert edited and "✓ OCOP 3 sao" in str(edited[-1]["reply_markup"])
    await tg.send(callback_update(4001, "rp:m:certifications:_done"))
    await tg.send(message_update(4001, "0"))
    await tg.send(callback_update(4001, "rp:y:support_received:0"))
    await tg.send(callback_update(4001, "rp:skip:difficulties"))
    assert "• Doanh thu tháng: 1.200.000.000" in tg.api.texts(4001)[-1]
    await tg.send(callback_update(4001, "rp:send"))
    assert "Đã gửi báo cáo tháng 11/2026 của HTX Mận Bắc Hà" in tg.api.texts(4001)[-1]
    (report,) = await _reports(small_app)
    assert report.answers["revenue"] == 1_200_000_000
    assert report.answers["certifications"] == ["ocop3"]
    assert "support_detail" not in report.answers


@pytest.fixture
async def tg(small_app: App) -> Any:
    from bot.channels.telegram import TelegramChannel, TelegramLimiter
    from tests.telegram_fake import TOKEN, FakeTelegram
    from tests.test_telegram import Bot, FakeTime

    api, fake_time = FakeTelegram(), FakeTime()
    limiter = TelegramLimiter(sleep=fake_time.sleep, clock=fake_time.clock)
    channel = TelegramChannel(small_app.conversation, TOKEN, request=api, limiter=limiter)
    await channel.initialize(retries=0)
    await channel.application.start()
    yield Bot(channel, api, fake_time)
    await channel.stop()
