"""Commands whose features are not built yet. They say so honestly and offer a way forward."""

from __future__ import annotations

from bot.i18n import N_
from handlers.context import Context
from handlers.router import Router
from handlers.types import Reply


def register(router: Router) -> None:
    @router.command("baocao", "report", description=N_("Gửi báo cáo tháng của HTX"))
    async def report(ctx: Context, _: str) -> Reply:
        return Reply(
            ctx.t(
                "Chức năng báo cáo tháng qua trợ lý đang được hoàn thiện; cán bộ Liên minh "
                "sẽ thông báo khi bắt đầu nhận báo cáo."
            )
        )

    @router.command("sukien", "events", description=N_("Hội chợ, sự kiện sắp tới"))
    async def events(ctx: Context, _: str) -> Reply:
        return Reply(
            ctx.t(
                "Danh sách sự kiện trên trợ lý đang được hoàn thiện. Anh/chị có thể hỏi "
                "“hội chợ Việt – Trung” hoặc gõ /lienhe để hỏi cán bộ."
            )
        )
