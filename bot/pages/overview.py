"""Tổng quan: the overview page (operations/overview.py)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.pages.base import PREFIX, Console, Page, staff_page
from operations import overview as ops


async def overview(page: Page) -> Response:
    found = await ops.overview(page.session, page.actor, page.console.settings, page.now)
    return page.render("overview.html", o=found)


def routes(console: Console) -> list[BaseRoute]:
    return [Route(PREFIX + "/", staff_page(console, overview), methods=["GET"])]
