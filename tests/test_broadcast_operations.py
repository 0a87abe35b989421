"""Broadcast and event operations as every door calls them, rights checked when each runs
(a refused actor writes nothing), every button prefix of broadcasts and events pressed by
the wrong people, staff removed in the middle of a flow, leases of a dead worker recovered
while the engine runs, console members reached (or skipped with a reason), and the events
import (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from bot.app import App
from bot.channels.console import run_console
from bot.channels.delivery import DeliveryEngine
from db.broadcasts import LEASE
from db.models import AuditEntry, Broadcast, Event, EventReminder, Member, OutboxMessage
from operations import broadcasts as bc_ops
from operations import events as ev_ops
from operations.rights import CLI, Actor, OperationError, Refused
from tests.conftest import Chat
from tests.test_broadcasts import Crash, FakeSender, FakeTime, _coop, _members, _rows, _send_to_all


async def _count(app: App, model: type, *where: object) -> int:
    async with app.conversation.sessions() as s:
        stmt = select(func.count()).select_from(model)
        for clause in where:
            stmt = stmt.where(clause)  # type: ignore[arg-type]
        return (await s.execute(stmt)).scalar_one()


async def _set_role(app: App, user_id: str, role: str) -> None:
    async with app.conversation.sessions() as s:
        await s.execute(update(Member).where(Member.user_id == user_id).values(role=role))
        await s.commit()


async def _actor(app: App, user_id: str) -> Actor:
    async with app.conversation.sessions() as s:
        member = (await s.execute(select(Member).where(Member.user_id == user_id))).scalar_one()
        return Actor.of(member)


async def _staff(app: App, user_id: str = "s1") -> Chat:
    chat = Chat(app, user_id)
    await chat.send("/start")
    await _set_role(app, user_id, "staff")
    return chat


# --- the operations themselves ------------------------------------------------------------


async def test_broadcast_operations_check_the_actor_when_they_run(small_app: App) -> None:
    app, conv = small_app, small_app.conversation
    await _members(app, "m1", "m2")
    await _staff(app)
    staff, member = await _actor(app, "s1"), await _actor(app, "m1")
    draft = bc_ops.Draft("Họp toàn thể", "all")
    async with conv.sessions() as s:
        size = await bc_ops.count_audience(s, staff, "all", None)
        assert size.recipients == 2  # m1, m2; not the author
        with pytest.raises(Refused):
            await bc_ops.count_audience(s, member, "all", None)
        with pytest.raises(Refused):
            await bc_ops.start_broadcast(s, member, draft, conv.translations, conv.clock())
        with pytest.raises(OperationError):  # a forged audience
            await bc_ops.start_broadcast(s, staff, bc_ops.Draft("x", "commune", "abc"),
                                         conv.translations, conv.clock())  # fmt: skip
        with pytest.raises(OperationError):  # an event that does not exist
            await bc_ops.start_broadcast(s, staff, bc_ops.Draft("x", "all", None, 999),
                                         conv.translations, conv.clock())  # fmt: skip
        with pytest.raises(OperationError):  # a time that has passed
            await bc_ops.start_broadcast(s, staff, draft, conv.translations, conv.clock(),
                                         at=conv.clock() - timedelta(hours=1))  # fmt: skip
        await s.rollback()
    assert await _count(app, Broadcast) == 0 and await _rows(app) == []

    async with conv.sessions() as s:
        started = await bc_ops.start_broadcast(s, staff, draft, conv.translations, conv.clock())
        await s.commit()
    assert started.total == 2
    async with conv.sessions() as s:
        with pytest.raises(Refused):
            await bc_ops.cancel_broadcast(s, member, started.id, conv.clock())
        with pytest.raises(Refused):
            await bc_ops.find_active(s, member, None)
        done = await bc_ops.cancel_broadcast(s, CLI, started.id, conv.clock())  # the operator
        await s.commit()
    assert done.skipped == 2 and not done.was_scheduled
    assert await _count(app, AuditEntry, AuditEntry.action == "broadcast_cancelled") == 1


async def test_a_scheduled_broadcast_of_removed_staff_does_not_start(small_app: App) -> None:
    app, conv = small_app, small_app.conversation
    await _members(app, "m1")
    await _staff(app)
    at = conv.clock() + timedelta(days=1)
    async with conv.sessions() as s:
        await bc_ops.start_broadcast(s, await _actor(app, "s1"), bc_ops.Draft("Họp", "all"),
                                     conv.translations, conv.clock(), at=at)  # fmt: skip
        await s.commit()
    await _set_role(app, "s1", "member")
    assert await bc_ops.start_due(conv.sessions, conv.translations, at) == 0
    assert await _rows(app) == []
    async with conv.sessions() as s:
        (broadcast,) = (await s.execute(select(Broadcast))).scalars()
    assert broadcast.status == "cancelled" and broadcast.finished_at is not None


async def test_event_operations_check_the_actor(small_app: App, tmp_path: Path) -> None:
    app, conv = small_app, small_app.conversation
    await _members(app, "m1")
    member = await _actor(app, "m1")
    values = {"title": "Hội chợ", "starts_at": "2026-12-20T01:00:00+00:00"}
    csv_file = tmp_path / "su_kien.csv"
    csv_file.write_text("Tên sự kiện,Bắt đầu\nHội chợ,20/12/2026\n", encoding="utf-8")
    async with conv.sessions() as s:
        with pytest.raises(Refused):
            await ev_ops.add_event(s, member, values, conv.clock())
        with pytest.raises(Refused):
            await ev_ops.import_events(s, member, csv_file, conv.clock(), conv.settings.tz)
        await s.rollback()
    assert await _count(app, Event) == 0
    async with conv.sessions() as s:
        event = await ev_ops.add_event(s, CLI, values, conv.clock())
        with pytest.raises(OperationError):
            await ev_ops.add_event(s, CLI, {"title": " "}, conv.clock())
        await s.commit()
    assert event.id and event.created_by == "cli"


# --- staff removed in the middle of a flow ------------------------------------------------


async def test_staff_removed_during_thongbao_schedules_nothing(small_app: App) -> None:
    app = small_app
    await _members(app, "m1", "m2")
    s1 = await _staff(app)
    await s1.say("/thongbao Họp toàn thể")
    await s1.send(action="bc:to:all")
    assert "Gửi lúc nào" in (await s1.send(action="bc:sched")).replies[0].text
    assert "Đã bỏ quyền" in await Chat(app, "boss").say("/quyen bo console:s1")
    out = await s1.say("01/12/2026 08:00")
    assert "không còn quyền cán bộ" in out
    assert await _count(app, Broadcast) == 0
    assert "Tôi chưa hiểu" not in await s1.say("01/12/2026 09:00")  # the flow ended: a question
    assert await _count(app, Broadcast) == 0

    s2 = await _staff(app, "s2")  # removed while typing the text
    await s2.say("/thongbao")
    await _set_role(app, "s2", "member")
    assert "không còn quyền cán bộ" in await s2.say("Nội dung")

    s3 = await _staff(app, "s3")  # removed while the buttons wait
    await s3.say("/thongbao Nội dung")
    await _set_role(app, "s3", "member")
    assert "không còn quyền cán bộ" in await s3.say("gửi đi")
    assert "chỉ dành cho cán bộ" in (await s3.send(action="bc:to:all")).replies[0].text
    assert await _count(app, Broadcast) == 0


async def test_staff_removed_during_the_event_form_saves_nothing(small_app: App) -> None:
    app = small_app
    s1 = await _staff(app)
    await s1.say("/themsukien")
    await s1.say("Hội chợ")
    await _set_role(app, "s1", "member")
    assert "không còn quyền cán bộ" in await s1.say("20/12/2026")
    assert await _count(app, Event) == 0


# --- every button prefix, pressed by the wrong people -------------------------------------


async def test_broadcast_and_event_buttons_refuse_who_may_not_press_them(small_app: App) -> None:
    app = small_app
    ours, theirs = await _coop(app, "A"), await _coop(app, "B")
    await _members(app, "member", coop=ours)
    await _members(app, "pending", coop=ours, link_status="pending")
    await _members(app, "other", coop=theirs)
    removed = await _staff(app, "removed")
    await removed.say("/thongbao Họp")  # a draft in progress when the rights go
    await removed.send(action="bc:to:all")
    await removed.say("/huy")
    await removed.say("/themsukien")
    await _set_role(app, "removed", "member")
    boss = Chat(app, "boss")
    await boss.say("/thongbao Đang gửi")
    await boss.send(action="bc:to:all")
    await boss.send(action="bc:send")
    (bid,) = [b for (b,) in (await _ids(app))]
    async with app.conversation.sessions() as s:
        s.add(Event(title="Hội chợ", starts_at=datetime(2026, 12, 20, 1, tzinfo=UTC),
                    created_by="cli", created_at=datetime.now(UTC),
                    updated_at=datetime.now(UTC)))  # fmt: skip
        await s.commit()
        eid = (await s.execute(select(Event.id))).scalar_one()
    staff_actions = [
        "bc:to:all", "bc:send", "bc:sched", "bc:drop", "bc:ev:0", "bc:aud:sector",
        f"bc:stop:{bid}", "bc:keep", "evf:save", "evf:drop",
    ]  # fmt: skip
    before = (await _count(app, Broadcast), await _count(app, Event), len(await _rows(app)))
    for user in ("member", "pending", "other", "removed"):
        chat = Chat(app, user)
        for action in staff_actions:
            out = await chat.send(action=action)
            assert "chỉ dành cho cán bộ" in out.replies[0].text, (user, action)
        # events are public (as /sukien): anyone may ask for a reminder of their own
        out = await chat.send(action=f"ev:rem:{eid}")
        assert "Đã hẹn" in out.replies[0].text
        for forged in ("ev:rem:abc", "ev:rem:99999999999999", "ev:what:1", f"ev:unrem:{eid}"):
            assert (await chat.send(action=forged)).error_id is None
    assert (await _count(app, Broadcast), await _count(app, Event)) == before[:2]
    rows = await _rows(app)
    assert len(rows) == before[2] and {r.status for r in rows} == {"queued"}  # not cancelled
    assert await _count(app, EventReminder) == 0  # each took theirs back


async def _ids(app: App) -> list[tuple[int]]:
    async with app.conversation.sessions() as s:
        return [tuple(r) for r in (await s.execute(select(Broadcast.id))).all()]


async def test_forged_draft_buttons_and_bad_stop_arguments(small_app: App) -> None:
    app = small_app
    await _members(app, "m1")
    boss = Chat(app, "boss")
    await boss.say("/thongbao Họp")
    for forged in ("bc:to:commune:abc", "bc:to:sector:nope", "bc:to:everyone", "bc:ev:999",
                   "bc:ev:99999999999999999999", "bc:stop:abc", "bc:stop:99"):  # fmt: skip
        out = await boss.send(action=forged)
        assert out.error_id is None and out.replies, forged
    assert await _count(app, Broadcast) == 0
    bid = await _send_to_all(app)
    out = await boss.say("/huythongbao abc")
    assert "không phải số thông báo" in out
    assert "Không có thông báo #99" in await boss.say("/huythongbao 99")
    assert {r.status for r in await _rows(app)} == {"queued"}  # nothing stopped
    out = await boss.send(f"/huythongbao #{bid}")
    assert f"bc:stop:{bid}" in [b.action for b in out.replies[0].flat_buttons()]
    assert "Không dừng" in (await boss.send(action="bc:keep")).replies[0].text
    assert {r.status for r in await _rows(app)} == {"queued"}


# --- leases, console, channels nobody delivers to -----------------------------------------


async def test_a_running_engine_recovers_the_rows_of_a_killed_worker(small_app: App) -> None:
    app = small_app
    conv = app.conversation
    await _members(app, *(f"m{i:02}" for i in range(12)))
    await _send_to_all(app)
    survivor_sender, time = FakeSender(), FakeTime()

    def engine(sender: FakeSender, **options: object) -> DeliveryEngine:
        return DeliveryEngine(conv.sessions, [sender], conv.translations, clock=conv.clock,
                              monotonic=time.monotonic, sleep=time.sleep, single_worker=False,
                              **options)  # fmt: skip

    survivor = engine(survivor_sender, batch=1)
    await survivor.run_once()  # running (and past its start-up recovery) before the kill
    dead = engine(FakeSender(crash_at=3), max_wave=2, batch=8)
    with pytest.raises(Crash):
        await dead.drain()
    stuck = [r for r in await _rows(app) if r.status in ("claimed", "sending")]
    assert stuck and any(r.status == "claimed" for r in stuck)
    conv.clock.now += LEASE + timedelta(seconds=1)  # type: ignore[attr-defined]
    await survivor.drain()  # no restart: the survivor takes the dead worker's rows back
    rows = await _rows(app)
    assert {r.status for r in rows} <= {"sent", "failed"}
    assert all(r.error == "interrupted" for r in rows if r.status == "failed")
    async with conv.sessions() as s:
        assert (await s.execute(select(Broadcast.status))).scalar_one() == "done"


async def test_console_members_get_notices_while_a_console_is_attached(small_app: App) -> None:
    app = small_app
    conv = app.conversation
    await _members(app, "m1")
    out = io.StringIO()
    lines = "/thongbao Họp toàn thể ngày 5/12\n1\n1\n"  # all members, then "Gửi ngay"
    await run_console(conv, "boss", stdin=io.StringIO(lines), stdout=out)
    printed = out.getvalue()
    assert "Bắt đầu gửi thông báo" in printed and "cho 1 người" in printed
    assert "đã gửi xong" in printed and "Đã gửi: 1/1" in printed  # the final report, at once
    (row,) = await _rows(app)
    assert row.status == "sent"
    out = io.StringIO()
    await run_console(conv, "m1", stdin=io.StringIO("xin chào\n"), stdout=out)
    assert "Họp toàn thể ngày 5/12" in out.getvalue()  # m1's inbox, shown when they chat


async def test_console_members_are_skipped_with_a_reason_when_no_console_runs(
    small_app: App,
) -> None:
    app = small_app
    conv = app.conversation
    await _members(app, "c1", "c2")
    await _members(app, "t1", channel="telegram")
    await _send_to_all(app)
    sender = FakeSender(channel="telegram")
    engine = DeliveryEngine(conv.sessions, [sender], conv.translations, clock=conv.clock,
                            monotonic=FakeTime().monotonic, sleep=FakeTime().sleep,
                            skip_channels=("console",))  # fmt: skip
    await engine.drain()
    assert sender.delivered == ["t1"]
    rows = await _rows(app)
    assert sorted((r.status, r.error) for r in rows) == [
        ("sent", None), ("skipped", "no_channel"), ("skipped", "no_channel")
    ]  # fmt: skip
    async with conv.sessions() as s:
        assert (await s.execute(select(Broadcast.status))).scalar_one() == "done"
        report = (await s.execute(select(OutboxMessage.text).where(
            OutboxMessage.broadcast_id.is_(None)))).scalar_one()  # fmt: skip
    assert "Đã gửi: 1/3" in report and "console không mở khi gửi: 2" in report


# --- the events import ----------------------------------------------------------------------


async def test_events_import_warns_of_past_events_and_merges_repeats(
    small_app: App, tmp_path: Path
) -> None:
    conv = small_app.conversation
    csv_file = tmp_path / "su_kien.csv"
    csv_file.write_text(
        "Tên sự kiện,Bắt đầu,Địa điểm\n"
        "Hội chợ xuân,20/02/2025,Lào Cai\n"  # the year mistyped: already over
        "Hội chợ OCOP,20/12/2026,Lào Cai\n"
        "HỘI CHỢ OCOP,20/12/2026,Sa Pa\n",  # the same event again, in the same file
        encoding="utf-8",
    )
    async with conv.sessions() as s:
        report = await ev_ops.import_events(s, CLI, csv_file, conv.clock(), conv.settings.tz)
    assert (report.created, report.updated, report.past) == (2, 1, [(2, "Hội chợ xuân")])
    text = report.render()
    assert "Lưu ý: 1 sự kiện đã qua" in text and "Dòng 2: Hội chợ xuân" in text
    async with conv.sessions() as s:
        again = await ev_ops.import_events(s, CLI, csv_file, conv.clock(), conv.settings.tz)
        places = list((await s.execute(select(Event.place).order_by(Event.id))).scalars())
    # the repeated row changes the first one back and forth; nothing is added twice
    assert (again.created, again.updated, again.unchanged) == (0, 2, 1) and len(places) == 2


async def test_events_import_looks_up_existing_events_once_per_file(
    small_app: App, tmp_path: Path
) -> None:
    """The duplicate check was one query per row (and a flush of every row added before it):
    100,000 events took 473 s. Now the events of the file's span are read once."""
    from sqlalchemy import event as sa_event

    conv = small_app.conversation
    csv_file = tmp_path / "nhieu.csv"
    rows = [f"Hội chợ {i},{1 + i % 28:02}/12/2026 08:00,Lào Cai" for i in range(300)]
    csv_file.write_text("Tên sự kiện,Bắt đầu,Địa điểm\n" + "\n".join(rows) + "\n", "utf-8")
    selects: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and "events" in statement:
            selects.append(statement)

    engine = small_app.engine.sync_engine
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(2):  # new, then all unchanged
            async with conv.sessions() as s:
                await ev_ops.import_events(s, CLI, csv_file, conv.clock(), conv.settings.tz)
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    assert len(selects) <= 4, selects[:5]
    assert await _count(small_app, Event) == 300
