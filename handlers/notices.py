"""Opting out of and back into notices (broadcasts and reminders): the member's own setting."""

from __future__ import annotations

from ground.i18n import N_
from ground.messages import Reply
from handlers.context import Context
from handlers.router import Router


async def stop(ctx: Context, _: str) -> Reply:
    ctx.member.opted_out = True
    return Reply(
        ctx.t(
            "Đã tắt thông báo: anh/chị sẽ không nhận tin về sự kiện và thông báo chung nữa. "
            "Anh/chị vẫn hỏi đáp bình thường. Gõ /batthongbao để nhận lại."
        )
    )


async def subscribe(ctx: Context, _: str) -> Reply:
    ctx.member.opted_out = False
    return Reply(ctx.t("Đã bật thông báo: anh/chị sẽ nhận tin về sự kiện và thông báo chung."))


def register(router: Router) -> None:
    router.command("tatthongbao", "stop", description=N_("Ngừng nhận thông báo"))(stop)
    router.command("batthongbao", "subscribe", description=N_("Nhận lại thông báo"))(subscribe)
