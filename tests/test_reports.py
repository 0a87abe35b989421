"""Monthly reports: the form, the schedule, corrections, progress and exports (SQLite and
PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.app import App, build_app
from bot.scheduler import run_due_jobs
from db import reports as db
from db.models import (
    AuditEntry,
    Cooperative,
    Member,
    OutboxMessage,
    Report,
    ReportPeriod,
    ReportPrompt,
    ReportVersion,
)
from handlers.reports import run_report_cycle
from knowledge.forms import check_forms, load_form, monthly_report, read_form
from tests.conftest import Chat

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
# 08:30 in Hà Nội on 1 December 2026: the day period 2026-11 opens.
DEC_1 = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)


def local(day: int, hour: int = 9, month: int = 12) -> datetime:
    """``day``/``month``/2026 at ``hour``:00 in Hà Nội, as UTC."""
    return datetime(2026, month, day, hour, 0, tzinfo=HANOI).astimezone(UTC)


async def _seed(app: App) -> dict[str, int]:
    """Three cooperatives (one inactive) and their people, all on the console."""
    now = datetime(2026, 11, 1, tzinfo=UTC)
    ids: dict[str, int] = {}
    async with app.conversation.sessions() as s:
        coops = [
            ("C1", "HTX Chè Suối Giàng", "Xã Suối Giàng", "nong_lam_thuy_san", "active"),
            ("C2", "HTX Mận Bắc Hà", "Xã Bắc Hà", "khac", "active"),
            ("C3", "HTX Đã Nghỉ", "Xã Bắc Hà", "khac", "inactive"),
        ]
        for code, name, commune, sector, status in coops:
            coop = Cooperative(code=code, name=name, kind="htx", sector=sector, commune=commune,
                               commune_code=1, status=status, created_at=now, updated_at=now)  # fmt: skip
            s.add(coop)
            await s.flush()
            ids[code] = coop.id
        people = [
            ("lan", "Lan", "C1", "manager", "approved"),
            ("hoa", "Hoa", "C1", "accountant", "approved"),
            ("tu", "Tú", "C1", "member", "approved"),
            ("minh", "Minh", "C2", "manager", "approved"),
            ("cho", "Chờ", "C2", "accountant", "pending"),
            ("nghi", "Nghỉ", "C3", "manager", "approved"),
        ]
        for user, name, code, role, link in people:
            m = Member(channel="console", user_id=user, display_name=name, locale="vi",
                       role="member", opted_out=False, unreachable=False, created_at=now,
                       cooperative_id=ids[code], coop_role=role, link_status=link)  # fmt: skip
            s.add(m)
        await s.commit()
    return ids


async def _cycle(app: App, now: datetime) -> db.CycleResult:
    conv = app.conversation
    return await run_report_cycle(conv.sessions, conv.translations, now)


async def _outbox(app: App, user_id: str) -> list[OutboxMessage]:
    async with app.conversation.sessions() as s:
        stmt = (
            select(OutboxMessage)
            .join(Member, Member.id == OutboxMessage.member_id)
            .where(Member.user_id == user_id)
            .order_by(OutboxMessage.id)
        )
        return list((await s.execute(stmt)).scalars())


async def _prompts(app: App) -> list[tuple[str, str]]:
    async with app.conversation.sessions() as s:
        stmt = (
            select(Member.user_id, ReportPrompt.kind)
            .join(Member, Member.id == ReportPrompt.member_id)
            .order_by(Member.user_id, ReportPrompt.id)
        )
        return [(u, k) for u, k in (await s.execute(stmt)).all()]


async def _reports(app: App) -> list[Report]:
    async with app.conversation.sessions() as s:
        return list((await s.execute(select(Report).order_by(Report.id))).scalars())


async def _versions(app: App) -> list[ReportVersion]:
    async with app.conversation.sessions() as s:
        stmt = select(ReportVersion).order_by(ReportVersion.version)
        return list((await s.execute(stmt)).scalars())


async def _flow(app: App, user_id: str) -> tuple[str | None, dict[str, Any] | None]:
    async with app.conversation.sessions() as s:
        m = (await s.execute(select(Member).where(Member.user_id == user_id))).scalar_one()
        return m.flow, m.flow_data


def _labels(out: Any) -> list[str]:
    return [b.label for b in out.replies[-1].flat_buttons()]


def _text(out: Any) -> str:
    return "\n\n".join(r.text for r in out.replies)


def console_render(reply: Any) -> str:
    from bot.channels.console import render

    return render(reply, "(Gõ số để chọn)")


async def _fill_form(chat: Chat) -> None:
    """Answer every question (from the first) with typical values."""
    assert "Câu 2/" in await chat.say("12 người")
    assert "Câu 3/" in await chat.say("2")
    assert "Câu 4/" in await chat.say("0")
    assert "Câu 5/" in await chat.say("15")
    assert "Câu 6/" in await chat.say("46 triệu")
    assert "Câu 7/" in await chat.say("Chè shan tuyết 2 tấn")
    out = await chat.send("1")  # VietGAP
    assert _labels(out)[0] == "✓ VietGAP"
    await chat.send("4")  # OCOP 4 sao
    assert "Câu 8/" in _text(await chat.send("7"))  # Xong
    assert "Câu 9/" in await chat.say("1 hội chợ")
    assert "Câu 10/" in _text(await chat.send("1"))  # Có
    assert "Câu 11/" in await chat.say("Vay 200 triệu Quỹ hỗ trợ phát triển HTX")


# --- the form as data ------------------------------------------------------------------------


def test_monthly_form_is_valid_and_has_the_suggested_fields() -> None:
    form = monthly_report()
    keys = [f.key for f in form.fields]
    assert keys[:4] == ["members_official", "members_joined", "members_left", "workers_regular"]
    assert {"revenue", "main_products", "certifications", "trade_fairs", "difficulties"} <= set(
        keys
    )
    assert form.field("revenue").type == "money" and not form.field("revenue").required  # type: ignore[union-attr]
    certs = form.field("certifications")
    assert certs and [o.key for o in certs.options][-1] == "none"
    assert check_forms() == ([], 1)


def test_form_check_reports_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        """
id: bad
title: {vi: Sai}
fields:
  - key: a
    type: integer
    label: {vi: A, en: A}
    question: {vi: "A?", en: "A?"}
    min: 5
    max: 1
  - key: a
    type: text
    label: {vi: A, en: A}
    question: {vi: "A?", en: "A?"}
  - key: c
    type: choice
    label: {vi: C, en: C}
    question: {vi: "C?"}
    options: [{key: x, label: {vi: X, en: X}}]
  - key: d
    type: colour
  - key: e
    type: text
    label: {vi: E, en: E}
    question: {vi: "E?", en: "E?"}
    when: {zzz: true}
""",
        encoding="utf-8",
    )
    _, problems = read_form(bad)
    text = "\n".join(map(str, problems))
    for expected in (
        "title needs",
        "max is smaller than min",
        "key used twice",
        "at least two options",
        "question needs",
        "type must be one of",
        "zzz is not an earlier field",
    ):
        assert expected in text, text
    with pytest.raises(Exception, match="key used twice"):
        load_form(bad)


def test_kb_check_validates_forms_too(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import main

    monkeypatch.setenv("COOPBOT_LOCALE", "en")  # the summary in English, as written here

    assert main(["kb", "check"]) == 0
    assert "1 form" in capsys.readouterr().out


# --- the conversation ------------------------------------------------------------------------


async def test_whole_form_on_the_console_with_summary_and_colleagues_told(
    app: App, clock: Any
) -> None:
    await _seed(app)
    clock.now = DEC_1
    result = await _cycle(app, clock.now)
    assert result.opened == ["2026-11"] and result.prompts == 3  # lan, hoa, minh
    (prompt,) = await _outbox(app, "lan")
    assert "báo cáo tháng 11/2026 của HTX Chè Suối Giàng" in prompt.text
    assert "15/12/2026" in prompt.text
    assert prompt.buttons == [[["Bắt đầu báo cáo", "rp:start:2026-11"]]]

    lan = Chat(app, "lan")
    out = await lan.send(action="rp:start:2026-11")
    assert "Câu 1/11" in _text(out) and "thành viên chính thức" in _text(out)
    await _fill_form(lan)
    # The last question is optional and asks for text: its "Bỏ qua" button is pressed by
    # typing its label (a typed number would be the answer itself).
    out = await lan.send("bỏ qua")
    summary = _text(out)
    assert "• Thành viên chính thức: 12" in summary
    assert "• Doanh thu tháng: 46.000.000\xa0₫" in summary
    assert "• Chứng nhận: VietGAP, OCOP 4 sao" in summary
    assert "• Có nhận hỗ trợ: Có" in summary
    assert "• Khó khăn, kiến nghị: —" in summary
    assert _labels(out) == ["Gửi", "Sửa"]
    out = await lan.send("1")  # Gửi
    assert "Đã gửi báo cáo tháng 11/2026 của HTX Chè Suối Giàng" in _text(out)
    assert await _flow(app, "lan") == (None, None)

    (report,) = await _reports(app)
    assert report.version == 1 and report.period == "2026-11"
    assert report.answers["revenue"] == 46_000_000
    assert report.answers["certifications"] == ["vietgap", "ocop4"]
    assert report.answers["support_received"] is True
    assert report.answers["difficulties"] is None
    # Hoa (the other representative) is told once; Minh (another cooperative) is not.
    told = (await _outbox(app, "hoa"))[-1].text
    assert "Lan đã gửi báo cáo tháng 11/2026 của HTX Chè Suối Giàng" in told
    assert len(await _outbox(app, "minh")) == 1
    # Hoa's /baocao shows what was sent, with a button to correct it.
    out = await Chat(app, "hoa").send("/baocao")
    assert "đã được Lan gửi" in _text(out) and _labels(out) == ["Sửa báo cáo"]


async def test_back_skip_bad_input_and_ambiguous_numbers(app: App, clock: Any) -> None:
    await _seed(app)
    clock.now = DEC_1
    await _cycle(app, clock.now)
    lan = Chat(app, "lan")
    await lan.say("/baocao")
    # Bad input: a short explanation with an example, and the same question again.
    reply = await lan.say("nhiều lắm")
    assert "chưa đọc được số" in reply and "ví dụ: 12" in reply and "Câu 1/11" in reply
    reply = await lan.say("-3")
    assert "không được âm" in reply and "Câu 1/11" in reply
    reply = await lan.say("1.5")
    assert "số nguyên" in reply and "Câu 1/11" in reply
    reply = await lan.say("200000")
    assert "ngoài khoảng hợp lệ" in reply and "Câu 1/11" in reply
    # "1.200" is 1200 or 1.2: repeated back with buttons.
    out = await lan.send("1.200")
    assert "nhiều cách" in _text(out) and _labels(out) == ["1.200", "Nhập lại"]
    out = await lan.send("2")  # Nhập lại
    assert "gõ lại" in _text(out) and "Câu 1/11" in _text(out)
    await lan.send("1.200")
    assert "Câu 2/11" in _text(await lan.send("1"))
    # /quay goes back one question and shows the answer so far.
    reply = await lan.say("/quay")
    assert "Câu 1/11" in reply and "Câu trả lời hiện tại: 1.200" in reply
    assert "Câu 2/11" in await lan.say("25")
    assert "đầu tiên" in (await lan.say("/quay") + await lan.say("/quay"))
    for answer in ("25", "1", "0", "12"):
        await lan.say(answer)
    # Money: ambiguous with a unit gives two readings.
    out = await lan.send("1,200 tỷ")
    assert _labels(out) == ["1.200.000.000\xa0₫", "1.200.000.000.000\xa0₫", "Nhập lại"]
    await lan.send("1")
    _, data = await _flow(app, "lan")
    assert data and data["answers"]["revenue"] == 1_200_000_000 and data["step"] == "main_products"
    # Optional revenue can be skipped; going back and pressing "Bỏ qua" stores nothing.
    out = await lan.send("/quay")
    shown = console_render(out.replies[-1])
    assert "• Bỏ qua" in shown and "1. Bỏ qua" not in shown
    out = await lan.send("bo qua")  # typed: on a money question "1" would be 1 đồng
    assert "Câu 6/11" in _text(out)
    _, data = await _flow(app, "lan")
    assert data and data["answers"]["revenue"] is None
    # A "no" to support skips the question about it.
    await lan.say("rau cải")
    await lan.send("6")  # Chưa có chứng nhận
    await lan.send("7")  # Xong
    await lan.say("0")
    out = await lan.send("không")
    # Each question keeps its number: the total does not shrink to 10 (#18).
    assert "Câu 11/11" in _text(out) and "/10" not in _text(out)


async def test_members_without_a_representative_link_are_told_how(app: App, clock: Any) -> None:
    await _seed(app)
    clock.now = DEC_1
    await _cycle(app, clock.now)
    assert "/dangky" in await Chat(app, "stranger").say("/baocao")
    assert "Chủ tịch/Giám đốc hoặc Kế toán" in await Chat(app, "tu").say("/baocao")
    assert "chờ cán bộ duyệt" in await Chat(app, "cho").say("/baocao")


async def test_no_open_period_says_when_it_opens(app: App, clock: Any) -> None:
    await _seed(app)
    clock.now = local(20, month=11)
    reply = await Chat(app, "lan").say("/baocao")
    assert "chưa có kỳ báo cáo nào đang mở" in reply and "01/12/2026" in reply


async def _two_answers_given(app: App, clock: Any) -> Chat:
    """Lan, a representative, has started November's report and answered two questions."""
    await _seed(app)
    clock.now = DEC_1
    await _cycle(app, clock.now)
    lan = Chat(app, "lan")
    await lan.say("/baocao")
    await lan.say("12")
    await lan.say("2")
    return lan


async def test_answers_survive_a_restart(app: App, settings: Any, real_kb: Any, clock: Any) -> None:
    await _two_answers_given(app, clock)
    # A new App on the same database: the draft is there.
    again = build_app(settings, real_kb)
    again.conversation.clock = clock
    try:
        reply = await Chat(again, "lan").say("/baocao")
        assert "Tiếp tục báo cáo tháng 11/2026 (đã trả lời 2 câu)" in reply and "Câu 3/11" in reply
        assert "Câu 4/11" in await Chat(again, "lan").say("0")
    finally:
        await again.close()
    _, data = await _flow(app, "lan")
    assert data and data["answers"] == {"members_official": 12, "members_joined": 2,
                                        "members_left": 0}  # fmt: skip


async def test_cancel_asks_before_answers_are_lost(app: App, clock: Any) -> None:
    lan = await _two_answers_given(app, clock)
    out = await lan.send("/huy")
    assert "đã trả lời 2 câu của báo cáo tháng 11/2026" in _text(out)
    assert _labels(out) == ["Làm tiếp báo cáo", "Xoá bản nháp"]
    flow, data = await _flow(app, "lan")
    assert flow == "report" and data and len(data["answers"]) == 2  # nothing lost yet
    resumed = await lan.send(action="rp:start:")
    assert "Câu 3/11" in _text(resumed)
    await lan.send("/huy")
    dropped = await lan.send(action="rp:drop")
    assert "Đã xoá bản nháp báo cáo" in _text(dropped)
    assert await _flow(app, "lan") == (None, None)
    # With nothing answered yet, /huy just ends the form.
    await lan.say("/baocao")
    assert "Đã huỷ" in await lan.say("/huy")
    assert (await _flow(app, "lan"))[0] is None


async def test_corrections_keep_versions_until_the_period_closes(app: App, clock: Any) -> None:
    await _seed(app)
    clock.now = DEC_1
    await _cycle(app, clock.now)
    lan = Chat(app, "lan")
    await lan.say("/baocao")
    await _fill_form(lan)
    await lan.send("1")  # skip the last
    await lan.send("1")  # Gửi
    # Hoa corrects the revenue.
    hoa = Chat(app, "hoa")
    out = await hoa.send(action="rp:fix:2026-11")
    assert "sửa câu nào" in _text(out)
    labels = _labels(out)
    out = await hoa.send(str(labels.index("Doanh thu tháng") + 1))
    assert "Câu trả lời hiện tại: 46.000.000" in _text(out)
    out = await hoa.send("50tr")
    assert "• Doanh thu tháng: 50.000.000\xa0₫" in _text(out)
    assert "phiên bản 2" in _text(await hoa.send("1"))
    (report,) = await _reports(app)
    assert report.version == 2 and report.answers["revenue"] == 50_000_000
    assert [(v.version, v.answers["revenue"]) for v in await _versions(app)] == [
        (1, 46_000_000),
        (2, 50_000_000),
    ]
    # After the close day the period closes and corrections are refused.
    clock.now = local(16, 0) + timedelta(minutes=5)
    result = await _cycle(app, clock.now)
    assert result.closed == ["2026-11"]
    out = await hoa.send(action="rp:fix:2026-11")
    assert "đã đóng" in _text(out)


async def test_a_colleague_submitting_meanwhile_is_a_conflict(app: App, clock: Any) -> None:
    await _seed(app)
    clock.now = DEC_1
    await _cycle(app, clock.now)
    lan, hoa = Chat(app, "lan"), Chat(app, "hoa")
    await lan.say("/baocao")
    await hoa.say("/baocao")
    await _fill_form(lan)
    await _fill_form(hoa)
    await lan.send("1")
    await hoa.send("1")
    await lan.send("1")  # Lan submits first
    out = await hoa.send("1")  # Hoa's "Gửi"
    assert "Lan đã gửi" in _text(out) and _labels(out) == ["Gửi bản của tôi", "Xem bản đã gửi"]
    out = await hoa.send("1")
    assert "phiên bản 2" in _text(out)
    assert [v.version for v in await _versions(app)] == [1, 2]


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
