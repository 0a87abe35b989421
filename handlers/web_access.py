"""/dangnhap: staff get a one-time link to the web console (operations/web_access.py)."""

from __future__ import annotations

from ground.i18n import N_
from ground.messages import Reply
from handlers.context import Context
from handlers.router import Router
from operations import Actor
from operations import web_access as ops

LOCAL_URL = "http://127.0.0.1:8080"  # without COOPBOT_PUBLIC_URL: `coopbot web`'s default


async def sign_in_link(ctx: Context, _: str) -> Reply:
    base = ctx.settings.public_url or LOCAL_URL
    link = await ops.create_link(ctx.session, Actor.of(ctx.member), ctx.member, base, ctx.clock())
    return Reply(
        ctx.t(
            "Liên kết đăng nhập trang quản lý (dùng một lần, hết hạn lúc {time}):\n{url}\n"
            "Đừng chuyển liên kết này cho ai.",
            time=ctx.translator.datetime(link.expires_at),
            url=link.url,
        )
    )


def register(router: Router) -> None:
    router.command(
        "dangnhap", "signin", description=N_("Đăng nhập trang quản lý trên máy tính"), role="staff"
    )(sign_in_link)
