"""Câu hỏi chưa trả lời (the /chuahoi queue, operations/questions.py) and Nhật ký (the audit
log, filterable, operations/audit_log.py)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.pages.base import PREFIX, Console, Page, Pager, staff_page
from operations import audit_log, questions

PER_PAGE = 50


async def unanswered(page: Page) -> Response:
    groups = await questions.unanswered(page.session, page.actor, page.now)
    kb = page.console.kb
    n = Pager.number(page.request)
    pager = Pager(n, PER_PAGE, len(groups))
    shown = groups[pager.offset : pager.offset + PER_PAGE]
    return page.render("questions.html", groups=shown, pager=pager,
                       entry=lambda eid: kb.get(eid) if kb and eid else None)  # fmt: skip


async def journal(page: Page) -> Response:
    who, action = page.query("ai"), page.query("viec")
    n = Pager.number(page.request)
    total, rows, actions = await audit_log.entries(page.session, page.actor, who, action,
                                                   (n - 1) * PER_PAGE, PER_PAGE)  # fmt: skip
    return page.render("audit.html", rows=rows, actions=actions, who=who, action=action,
                       pager=Pager(n, PER_PAGE, total))  # fmt: skip


def routes(console: Console) -> list[BaseRoute]:
    return [
        Route(PREFIX + "/questions", staff_page(console, unanswered), methods=["GET"]),
        Route(PREFIX + "/audit", staff_page(console, journal), methods=["GET"]),
    ]
