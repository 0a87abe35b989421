"""Hợp tác xã: find cooperatives (name or code, commune, sector, status), links waiting for
approval (approve, refuse), import a CSV/XLSX with the row-by-row report, export. The same
operations as chat and the command line (operations/cooperatives.py, operations/members.py)."""

from __future__ import annotations

from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from bot.pages.base import PREFIX, Console, Page, Pager, staff_page
from bot.pages.uploads import remove, save_upload
from db.models import COOP_STATUSES, SECTORS
from ground.i18n import N_
from operations import cooperatives as ops
from operations import members
from operations.reports_text import sector_name
from operations.rights import NotPossible

STATUS_NAMES = {
    "active": N_("Đang hoạt động"),
    "inactive": N_("Tạm ngừng"),
    "dissolved": N_("Đã giải thể"),
}
PER_PAGE = 50


async def _page(page: Page, **extra: object) -> Response:
    f = {k: page.query(k) for k in ("q", "xa", "nganh", "tt")}
    n = Pager.number(page.request)
    found = await ops.find(page.session, page.actor, f["q"], f["xa"], f["nganh"], f["tt"],
                           (n - 1) * PER_PAGE, PER_PAGE)  # fmt: skip
    pager = Pager(n, PER_PAGE, found.total)
    links = await members.links_waiting(page.session, page.actor)
    return page.render(
        "coops.html", found=found, pager=pager, filters=f, links=links, sectors=SECTORS,
        statuses=COOP_STATUSES, sector_name=lambda k: sector_name(page.t, k),
        status_name=lambda k: page.t.t(STATUS_NAMES[k]) if k in STATUS_NAMES else k,
        role_label=lambda r: members.role_label(page.t, r), label=members.member_label,
        **extra,
    )  # fmt: skip


async def coops(page: Page) -> Response:
    return await _page(page)


async def decide(page: Page) -> Response:
    raw = page.request.path_params["member"]
    if not raw.isdigit() or page.arg("decision") not in ("ok", "no"):
        raise NotPossible(N_("Không tìm thấy yêu cầu này."))
    approve = page.arg("decision") == "ok"
    done = await members.decide_link(page.session, page.actor, int(raw), approve,
                                     translations=page.console.translations, now=page.now)  # fmt: skip
    notice = (
        page.t.t("Đã duyệt liên kết với {coop}.", coop=done.coop.name)
        if approve
        else page.t.t("Đã từ chối liên kết với {coop}.", coop=done.coop.name)
    )
    return await _page(page, notice=notice)


async def upload(page: Page) -> Response:
    assert page.form is not None
    path = await save_upload(page.form.get("file"), page.console.folder / "uploads")
    try:
        report = await ops.import_file(page.session, page.actor, path, page.now)
    finally:
        await remove(path)
    return await _page(page, report=report)


async def export(page: Page) -> Response:
    fmt = page.query("fmt", "xlsx")
    if fmt not in ("xlsx", "csv"):
        fmt = "xlsx"
    folder = page.console.folder / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"hop-tac-xa-{page.now:%Y%m%d-%H%M%S}.{fmt}"
    await ops.export_file(page.session, page.actor, path, fmt, page.now)
    return FileResponse(path, filename=path.name)


def routes(console: Console) -> list[BaseRoute]:
    base = PREFIX + "/coops"
    return [
        Route(base, staff_page(console, coops), methods=["GET"]),
        Route(base + "/links/{member}", staff_page(console, decide), methods=["POST"]),
        Route(base + "/import", staff_page(console, upload), methods=["POST"]),
        Route(base + "/export", staff_page(console, export), methods=["GET"]),
    ]
