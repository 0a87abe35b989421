"""Monthly reports: the form, the schedule, corrections, progress and exports (SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app import App, build_app
from db import reports as db
from db.models import (
    Cooperative,
    Member,
    OutboxMessage,
    Report,
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
