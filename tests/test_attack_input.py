"""Hostile input at the edge (#16), on both databases: ids longer than the columns that hold
them, NUL and invalid text in every field of an :class:`Incoming`. Nothing fails the update;
an id no channel gives (longer than the members table holds) is ignored, never truncated into
someone else's id."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.app import App
from db.models import Member
from ground.messages import Incoming


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
