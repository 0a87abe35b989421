"""Thông báo: compose (audience with a live count, a preview as members will see it on
Telegram and on Zalo), send now or at a time, live progress (htmx polling), cancel, the final
tally by reason. The same operations as /thongbao and /huythongbao (operations/broadcasts.py).

Sending is done by the channels' delivery engine (``coopbot run``); the page shows its
progress from the database."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.channels.console import render as numbered
from bot.pages.base import PREFIX, Console, Page, Pager, staff_page
from db import broadcasts as audience_data
from db.events import parse_when
from db.models import COOP_KINDS, SECTORS
from ground.i18n import N_
from operations import broadcast_texts as texts
from operations import broadcasts as ops
from operations import overview
from operations.rights import NotPossible, OperationError

AUDIENCES = {
    "all": N_("Tất cả thành viên"),
    "sector": N_("Theo lĩnh vực"),
    "kind": N_("Theo loại hình"),
    "commune": N_("Theo xã, phường"),
    "noreport": N_("HTX chưa nộp báo cáo kỳ gần nhất"),
}
PER_PAGE = 20
CHOOSE_HINT = N_("Gõ số để chọn.")


def _draft(page: Page) -> ops.Draft:
    audience = page.arg("audience", "all")
    value = (
        page.arg(f"value_{audience}") or None if audience in ("sector", "kind", "commune") else None
    )
    return ops.Draft(page.arg("text"), audience, value)


async def _compose(page: Page, **extra: object) -> Response:
    n = Pager.number(page.request)
    total, rows = await overview.recent_broadcasts(page.session, page.actor, (n - 1) * PER_PAGE,
                                                   PER_PAGE)  # fmt: skip
    t = page.t
    return page.render(
        "broadcasts.html", rows=rows, pager=Pager(n, PER_PAGE, total), audiences=AUDIENCES,
        sectors=[(s, t.t(texts.SECTOR_NAMES.get(s, s))) for s in SECTORS],
        kinds=[(k, t.t(texts.KIND_NAMES.get(k, k))) for k in COOP_KINDS],
        communes=await audience_data.commune_names(page.session, limit=500),
        progress=lambda b, c: texts.progress_text(t, b, c), **extra,
    )  # fmt: skip


async def compose(page: Page) -> Response:
    return await _compose(page)


async def count(page: Page) -> Response:
    draft = _draft(page)
    try:
        size = await ops.count_audience(page.session, page.actor, draft.audience, draft.value)
    except OperationError as exc:
        return page.render("broadcast_count.html", problem=page.t.t(exc.message, **exc.values))
    return page.render("broadcast_count.html", size=size)


async def preview(page: Page) -> Response:
    draft = _draft(page)
    reply = texts.recipient_reply(page.t, draft.text or "…", None)
    zalo = numbered(reply, page.t.t(CHOOSE_HINT))
    return page.render("broadcast_preview.html", reply=reply, zalo=zalo)


async def send(page: Page) -> Response:
    c = page.console
    draft = _draft(page)
    when = page.arg("at").replace("T", " ")
    at = parse_when(when, c.settings.tz) if when else None
    if when and at is None:
        raise NotPossible(N_("Thời điểm không hợp lệ. Ví dụ: 05/12/2026 08:00."))
    broadcast = await ops.start_broadcast(page.session, page.actor, draft, c.translations,
                                          page.now, at)  # fmt: skip
    return page.redirect(f"/broadcasts/{broadcast.id}")


def _id(page: Page) -> int:
    raw = page.request.path_params["id"]
    if not raw.isdigit():
        raise NotPossible(N_("Không tìm thấy thông báo này."))
    return int(raw)


async def _status(page: Page, template: str, **extra: object) -> Response:
    broadcast, counts = await overview.broadcast_status(page.session, page.actor, _id(page))
    return page.render(
        template, b=broadcast, counts=counts, active=audience_data.is_active(broadcast),
        who=await texts.audience_label(page.session, page.t, broadcast.audience,
                                       broadcast.audience_value),
        progress=texts.progress_text(page.t, broadcast, counts),
        final=texts.final_report(page.t, broadcast, counts), **extra,
    )  # fmt: skip


async def detail(page: Page) -> Response:
    return await _status(page, "broadcast.html")


async def progress(page: Page) -> Response:
    return await _status(page, "broadcast_progress.html")


async def cancel(page: Page) -> Response:
    done = await ops.cancel_broadcast(page.session, page.actor, _id(page), page.now)
    notice = page.t.t("Đã dừng thông báo #{id}: {n} người chưa gửi sẽ không nhận.",
                      id=done.broadcast.id, n=done.skipped)  # fmt: skip
    return await _status(page, "broadcast.html", notice=notice)


def routes(console: Console) -> list[BaseRoute]:
    base = PREFIX + "/broadcasts"
    return [
        Route(base, staff_page(console, compose), methods=["GET"]),
        Route(base, staff_page(console, send), methods=["POST"]),
        Route(base + "/count", staff_page(console, count), methods=["GET"]),
        Route(base + "/preview", staff_page(console, preview), methods=["POST"]),
        Route(base + "/{id}", staff_page(console, detail), methods=["GET"]),
        Route(base + "/{id}/progress", staff_page(console, progress), methods=["GET"]),
        Route(base + "/{id}/cancel", staff_page(console, cancel), methods=["POST"]),
    ]
