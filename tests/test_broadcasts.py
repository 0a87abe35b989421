"""Broadcasts: audience, /thongbao, the delivery engine (blocked members, 429, retries, crash
and resume, cancel), scheduled sending, and the Telegram sender (SQLite and PostgreSQL).

The engine's pacing runs on a fake monotonic clock whose sleep only moves it forward."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.app import App
from bot.channels.delivery import Blocked, DeliveryEngine, RateLimited, Transient
from bot.channels.telegram import TelegramChannel, TelegramSender
from db import outbox
from db.broadcasts import LEASE, audience_size, tally
from db.models import (
    Broadcast,
    Cooperative,
    Event,
    Member,
    OutboxMessage,
    Report,
    ReportPeriod,
)
from ground.messages import Reply
from operations.broadcasts import start_due
from tests.conftest import Chat
from tests.telegram_fake import FORBIDDEN, TOKEN, TOO_MANY, FakeTelegram

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


class Crash(BaseException):
    """The process dies in the middle of an API call."""


@dataclass
class FakeTime:
    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds
        await asyncio.sleep(0)


@dataclass
class FakeSender:
    channel: str = "console"
    per_second: float = 30
    per_chat_interval: float = 1.0
    delivered: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    failures: dict[str, list[Exception]] = field(default_factory=dict)
    crash_at: int | None = None
    progress_shown: list[tuple[str, str | None]] = field(default_factory=list)

    async def send(self, user_id: str, reply: Reply) -> None:
        await asyncio.sleep(0)
        if self.failures.get(user_id):
            raise self.failures[user_id].pop(0)
        if self.crash_at is not None and len(self.delivered) + 1 == self.crash_at:
            raise Crash
        self.delivered.append(user_id)
        self.texts.append(reply.text)

    async def progress(self, user_id: str, text: str, message_id: str | None) -> str | None:
        self.progress_shown.append((text, message_id))
        return message_id or "p1"


def _engine(app: App, sender: FakeSender, time: FakeTime, **options: object) -> DeliveryEngine:
    conv = app.conversation
    return DeliveryEngine(conv.sessions, [sender], conv.translations, clock=conv.clock,
                          monotonic=time.monotonic, sleep=time.sleep, **options)  # fmt: skip


async def _coop(app: App, code: str, **values: object) -> int:
    now = app.conversation.clock()
    defaults: dict[str, object] = {"name": f"HTX {code}", "kind": "htx",
                                   "sector": "nong_lam_thuy_san", "commune": "Xã Khao Mang",
                                   "commune_code": 1, "status": "active"}  # fmt: skip
    async with app.conversation.sessions() as s:
        coop = Cooperative(code=code, created_at=now, updated_at=now, **{**defaults, **values})
        s.add(coop)
        await s.commit()
        return coop.id


async def _members(app: App, *user_ids: str, coop: int | None = None, **values: object) -> None:
    now = app.conversation.clock()
    async with app.conversation.sessions() as s:
        for uid in user_ids:
            s.add(Member(channel=values.get("channel", "console"),
                         user_id=uid, locale="vi", role="member",
                         opted_out=values.get("opted_out", False),
                         unreachable=values.get("unreachable", False), created_at=now,
                         cooperative_id=coop,
                         link_status=values.get("link_status", "approved" if coop else None)))  # fmt: skip
        await s.commit()


async def _rows(app: App) -> list[OutboxMessage]:
    async with app.conversation.sessions() as s:
        stmt = select(OutboxMessage).where(OutboxMessage.broadcast_id.is_not(None))
        return list((await s.execute(stmt.order_by(OutboxMessage.id))).scalars())


async def _staff_outbox(app: App, user_id: str = "boss") -> list[str]:
    async with app.conversation.sessions() as s:
        stmt = (
            select(OutboxMessage.text)
            .join(Member, Member.id == OutboxMessage.member_id)
            .where(Member.user_id == user_id, OutboxMessage.broadcast_id.is_(None))
        )
        return list((await s.execute(stmt.order_by(OutboxMessage.id))).scalars())


async def _send_to_all(app: App, text: str = "Họp toàn thể ngày 5/12") -> int:
    boss = Chat(app, "boss")
    await boss.say(f"/thongbao {text}")
    await boss.send(action="bc:to:all")
    out = await boss.send(action="bc:send")
    assert "Bắt đầu gửi" in out.replies[0].text
    async with app.conversation.sessions() as s:
        return (await s.execute(select(Broadcast.id).order_by(Broadcast.id.desc()))).scalar()  # type: ignore[return-value]


async def test_audience_selection_and_opt_out(small_app: App) -> None:
    app = small_app
    a = await _coop(app, "A")
    b = await _coop(app, "B", sector="thuong_mai_dich_vu", kind="tht", commune="Xã Bắc Hà",
                    commune_code=2)  # fmt: skip
    c = await _coop(app, "C", status="dissolved")
    await _members(app, "a1", coop=a)
    await _members(app, "a2", coop=a, link_status="pending")
    await _members(app, "b1", coop=b)
    await _members(app, "c1", coop=c)
    await _members(app, "free")
    await _members(app, "o1", coop=a, opted_out=True)
    await _members(app, "u1", coop=a, unreachable=True)

    async def size(audience: str, value: str | None = None) -> tuple[int, int, int]:
        async with app.conversation.sessions() as s:
            found = await audience_size(s, audience, value)
            return found.recipients, found.opted_out, found.unreachable

    assert await size("all") == (5, 1, 1)
    assert await size("sector", "nong_lam_thuy_san") == (1, 1, 1)  # a1; c1's coop is dissolved
    assert await size("commune", "2") == (1, 0, 0)
    assert await size("kind", "tht") == (1, 0, 0)
    assert await size("noreport") == (0, 0, 0)  # no report period yet
    now = app.conversation.clock()
    async with app.conversation.sessions() as s:
        s.add(ReportPeriod(period="2026-09", status="closed", opened_at=now, opened_by="x"))
        s.add(ReportPeriod(period="2026-10", status="open", opened_at=now, opened_by="x"))
        s.add(Report(period="2026-10", cooperative_id=b, answers={}, version=1, submitted_at=now))
        s.add(Report(period="2026-09", cooperative_id=a, answers={}, version=1, submitted_at=now))
        await s.commit()
    assert await size("noreport") == (1, 1, 1)  # a1 (A has no 2026-10 report), not b1

    o1 = Chat(app, "o1")
    await o1.say("/batthongbao")
    assert await size("sector", "nong_lam_thuy_san") == (2, 0, 1)
    await o1.say("/tatthongbao")
    assert await size("sector", "nong_lam_thuy_san") == (1, 1, 1)


async def test_thongbao_with_an_event_reaches_everyone_once(small_app: App) -> None:
    app = small_app
    await _members(app, *(f"m{i}" for i in range(12)))
    await _members(app, "quiet", opted_out=True)
    starts = datetime(2026, 12, 20, 1, 0, tzinfo=UTC)
    async with app.conversation.sessions() as s:
        s.add(Event(title="Hội chợ Việt – Trung", starts_at=starts, created_by="cli",
                    created_at=starts, updated_at=starts))  # fmt: skip
        await s.commit()
    boss = Chat(app, "boss")
    assert "chỉ dành cho cán bộ" in await Chat(app, "m1").say("/thongbao")
    assert "nội dung thông báo" in await boss.say("/thongbao")
    out = await boss.send("Mời các HTX đăng ký gian hàng.")
    event_button = out.replies[0].flat_buttons()[0]
    assert event_button.action.startswith("bc:ev:") and "Hội chợ" in event_button.label
    out = await boss.send(action=event_button.action)
    assert out.replies[0].flat_buttons()[0].action == "bc:to:all"
    out = await boss.send(action="bc:to:all")
    preview = out.replies[0].text
    assert "Người nhận (tất cả thành viên): 12." in preview  # 12 members, not boss (the author)
    assert "1 người đã tắt thông báo" in preview and "20/12/2026, 08:00" in preview
    out = await boss.send(action="bc:send")
    assert "cho 12 người" in out.replies[0].text
    async with app.conversation.sessions() as s:  # the simple outbox does not see them
        assert await outbox.pending(s, "console") == []

    sender, time = FakeSender(), FakeTime()
    await _engine(app, sender, time, max_wave=5).drain()
    assert (
        sorted(Counter(sender.delivered).values()) == [1] * 12 and "quiet" not in sender.delivered
    )
    assert "Hội chợ Việt – Trung" in sender.texts[0]
    rows = await _rows(app)
    assert {r.status for r in rows} == {"sent"}
    assert rows[0].buttons and rows[0].buttons[0][0][1].startswith("ev:rem:")
    assert sender.progress_shown[0][0].startswith("Thông báo #")
    (report,) = await _staff_outbox(app)
    assert "boss" not in sender.delivered
    assert "đã gửi xong" in report and "Đã gửi: 12/12" in report
    async with app.conversation.sessions() as s:
        (broadcast,) = (await s.execute(select(Broadcast))).scalars()
    assert broadcast.status == "done" and broadcast.progress_message_id == "p1"


async def test_blocked_rate_limited_and_transient_errors(small_app: App) -> None:
    app = small_app
    await _members(app, "m1", "m2", "m3", "m4", "m5")
    await _send_to_all(app)
    sender, time = FakeSender(), FakeTime()
    sender.failures = {
        "m2": [Blocked("Forbidden: bot was blocked by the user")],
        "m3": [RateLimited(5)],
        "m4": [Transient("connection refused"), Transient("connection refused")],
    }
    engine = _engine(app, sender, time)
    await engine.drain()
    assert 5.0 in time.sleeps  # RetryAfter honoured: the channel paused 5 s
    assert sorted(sender.delivered) == ["m1", "m3", "m5"]
    async with app.conversation.sessions() as s:
        m2 = (await s.execute(select(Member).where(Member.user_id == "m2"))).scalar_one()
        assert m2.unreachable
        counts = await tally(s, (await s.execute(select(Broadcast.id))).scalar_one())
    assert counts.open == 1  # m4 waits for its backoff
    clock = app.conversation.clock
    for _ in range(2):
        clock.now += timedelta(minutes=1)  # type: ignore[attr-defined]
        await engine.drain()
    assert sorted(sender.delivered) == ["m1", "m3", "m4", "m5"]
    by_user = {r.member_id: r for r in await _rows(app)}
    assert sorted(r.status for r in by_user.values()) == ["failed"] + ["sent"] * 4
    (report,) = await _staff_outbox(app)
    assert "Đã gửi: 4/5" in report and "đã chặn trợ lý: 1" in report


async def test_crash_in_the_middle_resumes_without_duplicates(small_app: App) -> None:
    app = small_app
    await _members(app, *(f"m{i:02}" for i in range(30)))
    await _send_to_all(app)
    sender, time = FakeSender(crash_at=13), FakeTime()
    with pytest.raises(Crash):
        await _engine(app, sender, time, max_wave=5, max_in_flight=5, batch=20).drain()
    statuses = Counter(r.status for r in await _rows(app))
    # At most the rows in flight (max_in_flight; waves overlap up to it) stay uncertain.
    assert statuses["sending"] <= 5 and statuses["claimed"] > 0

    # A restarted worker takes back the rows of the dead one (with several workers, once
    # their claims are older than the lease; a single SQLite worker at once).
    app.conversation.clock.now += LEASE  # type: ignore[attr-defined]
    restarted = _engine(app, sender, time, max_wave=5)
    sender.crash_at = None
    await restarted.drain()
    rows = await _rows(app)
    interrupted = [r for r in rows if r.error == "interrupted"]
    assert Counter(sender.delivered).most_common(1)[0][1] == 1  # nobody twice
    assert restarted.stats["uncertain"] == len(interrupted) == statuses["sending"]
    members = {r.member_id for r in rows}
    async with app.conversation.sessions() as s:
        names = dict((await s.execute(select(Member.id, Member.user_id))).all())
    reached = set(sender.delivered) | {names[r.member_id] for r in interrupted}
    assert reached == {names[m] for m in members}  # no gap: every row sent or reported
    assert {r.status for r in rows} <= {"sent", "failed"}
    (report,) = await _staff_outbox(app)
    assert "có thể chưa nhận được" in report


async def test_crash_with_resend_uncertain_leaves_no_gap(small_app: App) -> None:
    app = small_app
    await _members(app, *(f"m{i:02}" for i in range(10)))
    await _send_to_all(app)
    sender, time = FakeSender(crash_at=4), FakeTime()
    with pytest.raises(Crash):
        await _engine(app, sender, time, max_wave=3).drain()
    sender.crash_at = None
    app.conversation.clock.now += LEASE  # type: ignore[attr-defined]
    await _engine(app, sender, time, resend_uncertain=True).drain()
    assert {r.status for r in await _rows(app)} == {"sent"}
    assert len(set(sender.delivered)) == 10


async def test_cancel_stops_the_rest(small_app: App) -> None:
    app = small_app
    await _members(app, *(f"m{i:02}" for i in range(20)))
    await _send_to_all(app)
    sender, time = FakeSender(), FakeTime()
    engine = _engine(app, sender, time, batch=5)
    assert await engine.run_once() == 5
    boss = Chat(app, "boss")
    out = await boss.send("/huythongbao")  # which one, and a confirmation: nothing stops yet
    assert (
        "Dừng thông báo này?" in out.replies[0].text
        and "đang gửi cho 20 người" in out.replies[0].text
    )
    stop = out.replies[0].flat_buttons()[0].action
    assert stop.startswith("bc:stop:")
    out = await boss.send(action=stop)
    assert re.search(r"Đã dừng thông báo #\d+: 15 người", out.replies[0].text)
    await engine.drain()
    assert len(sender.delivered) == 5
    (report,) = await _staff_outbox(app)
    assert "đã dừng" in report and "Bỏ qua: 15" in report and "đã huỷ: 15" in report
    assert "Không có thông báo" in await Chat(app, "boss").say("/huythongbao")


async def test_scheduled_broadcast_starts_once_at_its_time(small_app: App) -> None:
    app = small_app
    conv = app.conversation
    await _members(app, "m1", "m2")
    boss = Chat(app, "boss")
    await boss.say("/thongbao Nhắc nộp báo cáo")
    await boss.send(action="bc:to:all")
    assert "Gửi lúc nào" in (await boss.send(action="bc:sched")).replies[0].text
    assert "đã qua" in await boss.say("01/01/2026 08:00")
    assert "lúc 01/12/2026, 08:00" in await boss.say("01/12/2026 08:00")
    assert await start_due(conv.sessions, conv.translations, conv.clock()) == 0
    assert await _rows(app) == []
    await Chat(app, "m2").say("/tatthongbao")  # the audience is taken when sending starts
    at = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert await start_due(conv.sessions, conv.translations, at) == 1
    assert await start_due(conv.sessions, conv.translations, at) == 0
    sender = FakeSender()
    await _engine(app, sender, FakeTime()).drain()
    assert sorted(sender.delivered) == ["m1"]

    await boss.say("/thongbao Lần hai")
    await boss.send(action="bc:to:all")
    await boss.send(action="bc:sched")
    await boss.say("02/12/2026 08:00")
    out = await boss.send("/huythongbao")
    assert "hẹn gửi lúc 02/12/2026, 08:00" in out.replies[0].text
    out = await boss.send(action=out.replies[0].flat_buttons()[0].action)
    assert "Đã huỷ thông báo hẹn giờ" in out.replies[0].text
    assert await start_due(conv.sessions, conv.translations, at + timedelta(days=2)) == 0


async def test_telegram_sender_maps_errors(small_app: App) -> None:
    app = small_app
    api = FakeTelegram()
    channel = TelegramChannel(app.conversation, TOKEN, request=api, limiter=None)
    await _members(app, "4001", "4002", "4003", channel="telegram")
    await _members(app, "5000", channel="telegram")
    async with app.conversation.sessions() as s:
        await s.execute(update(Member).where(Member.user_id == "5000").values(role="staff"))
        await s.commit()
    tg_staff = Chat(app, "5000", channel="telegram")
    await tg_staff.say("/thongbao Thông báo thử")
    await tg_staff.send(action="bc:to:all")
    await tg_staff.send(action="bc:send")
    sender = TelegramSender(channel)
    api.fail("sendMessage", TOO_MANY)
    with pytest.raises(RateLimited):
        await sender.send("4002", Reply("x"))
    api.calls.clear()
    # 4001 blocked the bot; the first progress message meets a 429 (the engine pauses 5 s)
    api.fail("sendMessage", FORBIDDEN, TOO_MANY)
    time = FakeTime()
    conv = app.conversation
    engine = DeliveryEngine(conv.sessions, [sender], conv.translations,
                            clock=conv.clock, monotonic=time.monotonic, sleep=time.sleep)  # fmt: skip
    async with channel.application:
        await engine.drain()
    assert 5.0 in time.sleeps
    chats = [int(p["chat_id"]) for p in api.sent("sendMessage")]
    assert Counter(chats)[4002] == Counter(chats)[4003] == 1
    async with app.conversation.sessions() as s:
        blocked = (await s.execute(select(Member).where(Member.user_id == "4001"))).scalar_one()
        assert blocked.unreachable
    report = (await _staff_outbox(app, "5000"))[-1]
    assert "Đã gửi: 2/3" in report and "đã chặn trợ lý: 1" in report
