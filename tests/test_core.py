"""The conversation core on SQLite and PostgreSQL, through the console-style chat helper."""

import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App
from bot.scheduler import run_due_jobs
from db.models import Member, Question
from db.queries import first_sight
from ground.messages import Incoming, Reply
from handlers.router import parse_command
from tests.conftest import Chat


async def _member(app: App, user_id: str, channel: str = "console") -> Member:
    async with app.conversation.sessions() as s:
        m = (
            await s.execute(
                select(Member).where(Member.user_id == user_id, Member.channel == channel)
            )
        ).scalar_one()
        return m


def test_parse_command() -> None:
    assert parse_command("/help") == ("help", "")
    assert parse_command("/Huỷ@coopbot_bot  now") == ("huy", "now")
    assert parse_command("/ngonngu en") == ("ngonngu", "en")
    assert parse_command("không phải lệnh") is None
    assert parse_command("/") is None


async def test_start_welcomes_in_vietnamese_and_creates_member(small_app: App) -> None:
    chat = Chat(small_app)
    out = await chat.send("/start")
    assert "Xin chào" in out.replies[0].text
    assert "Liên minh Hợp tác xã tỉnh Lào Cai" in out.replies[0].text
    labels = [b.label for b in out.replies[0].flat_buttons()]
    assert "Tiếng Việt" in labels and "English" in labels
    member = await _member(small_app, "u1")
    assert member.locale == "vi" and member.role == "member"
    assert member.last_seen_at is not None


async def test_help_lists_commands_with_aliases(small_app: App) -> None:
    text = await Chat(small_app).say("/help")
    for cmd in ("/start", "/help", "/menu", "/huy", "/cancel", "/lienhe", "/tatthongbao"):
        assert cmd in text
    assert "/chuahoi" not in text  # staff only


async def test_numbered_button_press_switches_language_and_persists(small_app: App) -> None:
    chat = Chat(small_app)
    await chat.send("/ngonngu")
    out = await chat.send("2")  # English
    assert out.replies[0].text.startswith("Switched to English")
    assert (await _member(small_app, "u1")).locale == "en"
    text = await chat.say("/help")
    assert "The assistant's commands:" in text
    await chat.send("/ngonngu vi")
    assert "Các lệnh của trợ lý" in await chat.say("/help")


async def test_number_out_of_range_is_text(small_app: App) -> None:
    chat = Chat(small_app)
    await chat.send("/ngonngu")
    out = await chat.send("7")
    assert out.handler == "text"


async def test_menu_topic_entry_navigation(small_app: App) -> None:
    chat = Chat(small_app)
    out = await chat.send("/menu")
    assert out.replies[0].flat_buttons()[0].label == "Thành lập HTX"
    out = await chat.send("1")
    assert [b.action for b in out.replies[0].flat_buttons()][:2] == [
        "kb:htx.min_members",
        "kb:htx.dossier",
    ]
    out = await chat.send("1")
    assert "05 thành viên" in out.replies[0].text
    assert "Nguồn: Luật Hợp tác xã số 17/2023/QH15, Điều 4" in out.replies[0].text
    assert "Cập nhật: 28/11/2026" in out.replies[0].text


async def test_cancel_ends_flow(small_app: App) -> None:
    chat = Chat(small_app)
    assert "Không có việc gì" in await chat.say("/huy")
    async with small_app.conversation.sessions() as s:
        m = (await s.execute(select(Member))).scalar_one()
        m.flow, m.flow_data = "report", {"step": 2}
        await s.commit()
    assert "Đã huỷ" in await chat.say("/cancel")
    assert (await _member(small_app, "u1")).flow is None


async def test_unknown_command_and_staff_command_refused(small_app: App) -> None:
    chat = Chat(small_app)
    assert "Tôi chưa hiểu lệnh /xyz" in await chat.say("/xyz")
    text = await chat.say("/chuahoi")
    assert "chỉ dành cho cán bộ" in text


async def test_admin_from_settings_may_use_staff_command(small_app: App) -> None:
    boss = Chat(small_app, "boss")
    text = await boss.say("/chuahoi")
    assert "chỉ dành cho cán bộ" not in text
    assert (await _member(small_app, "boss")).role == "admin"


async def test_opt_out_and_back_in(small_app: App) -> None:
    chat = Chat(small_app)
    await chat.send("/tatthongbao")
    assert (await _member(small_app, "u1")).opted_out is True
    await chat.send("/batthongbao")
    assert (await _member(small_app, "u1")).opted_out is False


async def test_writing_clears_unreachable(small_app: App) -> None:
    chat = Chat(small_app)
    await chat.send("/start")
    async with small_app.conversation.sessions() as s:
        m = (await s.execute(select(Member))).scalar_one()
        m.unreachable = True
        await s.commit()
    await chat.send("xin chào")
    assert (await _member(small_app, "u1")).unreachable is False


async def test_error_boundary_logs_id_and_answers_politely(
    small_app: App, caplog: pytest.LogCaptureFixture
) -> None:
    @small_app.conversation.router.command("boom", description="boom", in_menu=False)
    async def boom(ctx, arg) -> Reply:  # type: ignore[no-untyped-def]
        raise RuntimeError("database exploded")

    try:
        with caplog.at_level(logging.ERROR):
            out = await Chat(small_app).send("/boom")
    finally:
        small_app.conversation.router._by_name.pop("boom")
        small_app.conversation.router.commands.pop()
    assert out.error_id and len(out.error_id) == 8
    text = out.replies[0].text
    assert out.error_id in text and "Xin lỗi" in text
    assert "Traceback" not in text and "exploded" not in text
    failed = [r for r in caplog.records if r.getMessage() == "handler failed"]
    assert failed and failed[0].fields["error_id"] == out.error_id  # type: ignore[attr-defined]
    assert failed[0].exc_info is not None


async def test_question_is_answered_and_vote_stored(small_app: App) -> None:
    chat = Chat(small_app)
    out = await chat.send("thanh lap htx can it nhat bao nhieu thanh vien")
    reply = out.replies[0]
    assert "05 thành viên" in reply.text and "Có hữu ích không?" in reply.text
    actions = [b.action for b in reply.flat_buttons()]
    assert actions[0].startswith("fb:up:") and actions[1].startswith("fb:dn:")
    await chat.send("2")  # 👎
    async with small_app.conversation.sessions() as s:
        q = (await s.execute(select(Question))).scalar_one()
    assert q.entry_id == "htx.min_members" and q.matched and q.vote == -1


async def test_unknown_question_is_kept_and_listed_for_staff(small_app: App) -> None:
    chat = Chat(small_app)
    out = await chat.send("giá vàng hôm nay bao nhiêu")
    assert "chưa có câu trả lời chắc chắn" in out.replies[0].text
    assert out.replies[0].flat_buttons()[-1].action == "contact:"
    await Chat(small_app, "u2").send("gia vang hom nay")
    text = await Chat(small_app, "boss").say("/chuahoi")
    assert "giá vàng hôm nay bao nhiêu (2 lần)" in text


async def test_uncertain_answer_says_so(small_app: App) -> None:
    text = await Chat(small_app).say("nghi quyet 12/2018 con hieu luc ko")
    assert "chưa được xác nhận" in text


async def test_an_update_marked_once_is_handled_once(small_app: App, clock: Any) -> None:
    incoming = Incoming("zalo", "z1", text="hồ sơ đăng ký htx", update_id="m42", once=True)
    first = await small_app.conversation.handle(incoming)
    second = await small_app.conversation.handle(incoming)
    assert first.replies and first.handler != "duplicate"
    assert second.replies == [] and second.handler == "duplicate"
    async with small_app.conversation.sessions() as s:
        asked = (await s.execute(select(Question).where(Question.channel == "zalo"))).all()
    assert len(asked) == 1
    # Without ``once`` (Telegram has offsets) the same id is not checked.
    plain = replace(incoming, once=False)
    assert (await small_app.conversation.handle(plain)).replies


async def test_seen_updates_are_forgotten_after_three_days(small_app: App, clock: Any) -> None:
    sessions = small_app.conversation.sessions
    async with sessions() as s:
        assert await first_sight(s, "zalo", "old", clock.now - timedelta(days=4))
        assert await first_sight(s, "zalo", "new", clock.now - timedelta(days=1))
        assert not await first_sight(s, "zalo", "new", clock.now)
        assert await first_sight(s, "zalo", "x" * 200, clock.now)  # long ids are hashed
        await s.commit()
    await run_due_jobs(small_app, clock.now)
    async with sessions() as s:
        assert await first_sight(s, "zalo", "old", clock.now)  # forgotten: seen as new
        assert not await first_sight(s, "zalo", "new", clock.now)
        assert not await first_sight(s, "zalo", "x" * 200, clock.now)
        await s.rollback()
