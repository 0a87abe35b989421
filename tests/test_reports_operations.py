"""The operations of the monthly report (``operations.reports``) on their own: each one
checks its actor when it runs, validates its period, asks before writing to many people and
writes nothing when it fails. Both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.app import App
from db.models import AuditEntry, Member, OutboxMessage, ReportPeriod, ReportPrompt
from operations import reports as ops
from tests.conftest import Chat
from tests.test_reports import _seed, _text, local

NOW = local(20, month=11)  # 20 November 2026, 09:00 in Hà Nội


async def _member(session: Any, user_id: str) -> Member:
    stmt = select(Member).where(Member.user_id == user_id)
    return (await session.execute(stmt)).scalar_one()


async def _count(app: App, model: Any) -> int:
    async with app.conversation.sessions() as s:
        return await s.scalar(select(func.count()).select_from(model)) or 0


async def _staff(app: App, user_id: str = "clerk") -> None:
    async with app.conversation.sessions() as s:
        s.add(Member(channel="console", user_id=user_id, display_name="Clerk", locale="vi",
                     role="staff", opted_out=False, unreachable=False, created_at=NOW))  # fmt: skip
        await s.commit()


async def test_every_operation_refuses_a_member_and_removed_staff(app: App, tmp_path: Path) -> None:
    await _seed(app)
    await _staff(app)
    conv = app.conversation
    t = conv.translations.get("vi")
    async with conv.sessions() as s:
        lan = await _member(s, "lan")
        clerk = await _member(s, "clerk")
        clerk.role = "member"  # /quyen bo: removed before acting
        for actor in (lan, clerk):
            calls = [
                ops.open_period(s, actor, "2026-10", NOW, app.settings, conv.translations, True),
                ops.remind(s, actor, "2026-10", NOW, app.settings, conv.translations, True),
                ops.close_period(s, actor, "2026-10", NOW),
                ops.progress(s, actor, "2026-10", app.settings),
                ops.export(s, actor, "2026-10", "csv", tmp_path / "x.csv", t, NOW),
                ops.chart(s, actor, "2026-10", tmp_path, t),
            ]
            for call in calls:
                with pytest.raises(ops.Refused):
                    await call
        await s.commit()
    assert await _count(app, ReportPeriod) == 0 and await _count(app, OutboxMessage) == 0
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize(
    ("text", "reason"),
    [("2000-01", "too_old"), ("2025-10", "too_old"), ("2026-12", "future"), ("abc", "not_a_month")],
)
async def test_open_validates_the_month(app: App, text: str, reason: str) -> None:
    await _seed(app)
    conv = app.conversation
    async with conv.sessions() as s:
        with pytest.raises(ops.PeriodProblem) as caught:
            await ops.open_period(s, ops.CLI, text, NOW, app.settings, conv.translations, True)
        await s.commit()
    assert caught.value.reason == reason
    assert await _count(app, ReportPeriod) == 0 and await _count(app, ReportPrompt) == 0


async def test_open_asks_first_then_opens_and_prompts(app: App) -> None:
    await _seed(app)
    conv = app.conversation
    async with conv.sessions() as s:
        staff = ops.CLI
        asked = await ops.open_period(s, staff, "2025-11", NOW, app.settings, conv.translations)
        assert not asked.confirmed and asked.prompts == 3 and not asked.was_open
        await s.commit()
    assert await _count(app, ReportPeriod) == 0 and await _count(app, OutboxMessage) == 0
    async with conv.sessions() as s:
        done = await ops.open_period(
            s, staff, "2025-11", NOW, app.settings, conv.translations, True
        )
        await s.commit()
    assert done.confirmed and done.changed and done.prompts == 3
    assert await _count(app, ReportPrompt) == 3 and await _count(app, OutboxMessage) == 3
    async with conv.sessions() as s:
        (entry,) = (await s.execute(select(AuditEntry))).scalars()
    assert (entry.actor, entry.action, entry.target) == ("cli", "open_report_period", "2025-11")


async def test_remind_close_progress_and_export(app: App, tmp_path: Path) -> None:
    await _seed(app)
    await _staff(app)
    conv = app.conversation
    tr = conv.translations
    async with conv.sessions() as s:
        clerk = await _member(s, "clerk")
        with pytest.raises(ops.PeriodProblem) as caught:
            await ops.remind(s, clerk, "2026-10", NOW, app.settings, tr, True)
        assert caught.value.reason == "not_open"
        await ops.open_period(s, clerk, "2026-10", NOW, app.settings, tr, True)
        await s.commit()
    async with conv.sessions() as s:
        clerk = await _member(s, "clerk")
        asked = await ops.remind(s, clerk, "2026-10", NOW, app.settings, tr)
        assert not asked.confirmed and asked.prompts == 3
        sent = await ops.remind(s, clerk, "2026-10", NOW, app.settings, tr, True)
        assert sent.prompts == 3
        again = await ops.remind(s, clerk, "2026-10", NOW, app.settings, tr, True)
        assert again.prompts == 0  # once a day
        view = await ops.progress(s, clerk, "", app.settings)
        assert (view.progress.period, view.progress.expected, view.status) == ("2026-10", 2, "open")
        out = await ops.export(s, clerk, "2026-10", "csv", tmp_path / "r.csv", tr.get("vi"), NOW)
        assert out.rows == 2 and out.path.is_file()
        with pytest.raises(ops.PeriodProblem):
            await ops.close_period(s, clerk, "2026-09", NOW)
        assert (await ops.close_period(s, clerk, "2026-10", NOW)).changed
        assert not (await ops.close_period(s, clerk, "2026-10", NOW)).changed
        await s.commit()
    assert await _count(app, OutboxMessage) == 6
    async with conv.sessions() as s:
        actions = [e.action for e in (await s.execute(select(AuditEntry))).scalars()]
    assert sorted(actions) == sorted(
        ["open_report_period", "remind_reports", "export_reports", "close_report_period"]
    )
    assert "đã đóng" in await Chat(app, "lan").say("/baocao 2026-10")


async def test_chat_staff_confirm_is_checked_when_pressed(app: App, clock: Any) -> None:
    """Staff removed between the question and the button press open nothing."""
    await _seed(app)
    await _staff(app)
    clock.now = NOW
    clerk = Chat(app, "clerk")
    assert "tới 3 người" in await clerk.say("/mobaocao 2026-10")
    async with app.conversation.sessions() as s:
        await s.execute(update(Member).where(Member.user_id == "clerk").values(role="member"))
        await s.commit()
    assert "chỉ dành cho cán bộ" in _text(await clerk.send("1"))
    assert await _count(app, ReportPeriod) == 0 and await _count(app, OutboxMessage) == 0
    boss = Chat(app, "boss")
    assert "hơn 12 tháng" in await boss.say("/mobaocao 2000-01")
    assert "Đã thôi" in _text(await boss.send(action="rps:no"))
    assert await _count(app, ReportPeriod) == 0


async def test_a_failed_open_command_changes_nothing(
    app: App, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The period row is written in a savepoint; when the command fails afterwards, the
    whole message is rolled back, on SQLite too (#18)."""
    await _seed(app)
    clock.now = NOW
    boss = Chat(app, "boss")
    await boss.say("/help")  # boss wrote just now: no write of the member before the savepoint

    async def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("the outbox is full")

    monkeypatch.setattr(ops, "_queue", broken)
    await boss.say("/mobaocao 2026-10")
    assert "sự cố" in _text(await boss.send("1"))
    assert await _count(app, ReportPeriod) == 0 and await _count(app, AuditEntry) == 0


async def test_cli_reports_commands_speak_vietnamese(
    app: App, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    from bot.cli import main

    await _seed(app)
    monkeypatch.setenv("DATABASE_URL", app.settings.database_url)
    assert await asyncio.to_thread(main, ["reports", "open", "2000-01", "--yes"]) == 2
    err = capsys.readouterr().err
    assert "chỉ mở hoặc nhắc được kỳ báo cáo của 12 tháng gần đây" in err
    future = datetime.now(UTC).replace(day=1).year + 1
    assert await asyncio.to_thread(main, ["reports", "open", f"{future}-01", "--yes"]) == 2
    assert "chưa bắt đầu" in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["reports", "progress"]) == 2
    assert "Chưa có kỳ báo cáo nào" in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["export", "reports", "--period", "2026-13"]) == 2
    assert "không phải một tháng" in capsys.readouterr().err
    assert await _count(app, ReportPeriod) == 0


ANSWERS = {"members_official": 12, "members_joined": 2, "members_left": 0, "workers_regular": 15,
           "revenue": 46_000_000, "main_products": "Chè", "certifications": ["vietgap"],
           "trade_fairs": 1, "support_received": False, "difficulties": None}  # fmt: skip


async def test_submit_checks_the_representative_and_the_period(app: App) -> None:
    ids = await _seed(app)
    conv = app.conversation
    tr = conv.translations
    async with conv.sessions() as s:
        await ops.open_period(s, ops.CLI, "2026-10", NOW, app.settings, tr, True)
        await s.commit()
    async with conv.sessions() as s:
        for user, coop in (("tu", "C1"), ("cho", "C2"), ("minh", "C1")):
            # an ordinary member, a pending accountant, another cooperative's manager
            member = await _member(s, user)
            with pytest.raises(ops.Refused):
                await ops.submit(s, member, "2026-10", ids[coop], ANSWERS, 0, NOW,
                                 app.settings, tr)  # fmt: skip
        lan = await _member(s, "lan")
        with pytest.raises(ops.PeriodProblem):
            await ops.submit(s, lan, "2026-09", ids["C1"], ANSWERS, 0, NOW, app.settings, tr)
        done = await ops.submit(s, lan, "2026-10", ids["C1"], ANSWERS, 0, NOW, app.settings, tr)
        assert done.first and done.report.version == 1
        await s.commit()
    async with conv.sessions() as s:
        # hoa, the other representative, was told; a correction from an old draft conflicts
        told = (await s.execute(select(ReportPrompt).where(ReportPrompt.kind == "done"))).all()
        assert len(told) == 1
        hoa = await _member(s, "hoa")
        with pytest.raises(ops.db.SubmitConflict):
            await ops.submit(s, hoa, "2026-10", ids["C1"], ANSWERS, 0, NOW, app.settings, tr)
        fixed = await ops.submit(s, hoa, "2026-10", ids["C1"], ANSWERS, 1, NOW, app.settings, tr)
        assert not fixed.first and fixed.report.version == 2
        await s.commit()
