"""Hỗ trợ: open tickets oldest first; claim, answer (to the member's channel, through the
outbox as in chat), close. The same operations as the chat's buttons (operations/tickets.py),
with the same atomic claim."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.pages.base import PREFIX, Console, Page, Pager, staff_page
from operations import overview
from operations import tickets as ops
from operations.members import member_label
from operations.rights import NotPossible

PER_PAGE = 20


def _ticket_id(page: Page) -> int:
    raw = page.request.path_params["id"]
    if not raw.isdigit():
        raise NotPossible(ops.NOT_FOUND)
    return int(raw)


async def _list(page: Page, notice: str | None = None) -> Response:
    n = Pager.number(page.request)
    found = await ops.open_tickets(page.session, page.actor, (n - 1) * PER_PAGE, PER_PAGE)
    total = await overview.open_ticket_count(page.session, page.actor)
    return page.render("tickets.html", tickets=found, notice=notice, label=member_label,
                       pager=Pager(n, PER_PAGE, total))  # fmt: skip


async def tickets(page: Page) -> Response:
    return await _list(page)


async def claim(page: Page) -> Response:
    c = page.console
    ticket = await ops.claim_ticket(page.session, page.actor, _ticket_id(page),
                                    translations=c.translations, settings=c.settings,
                                    now=page.now)  # fmt: skip
    return await _list(page, page.t.t("Anh/chị đã nhận yêu cầu #{id}.", id=ticket.id))


async def answer(page: Page) -> Response:
    c = page.console
    tid = _ticket_id(page)
    ticket = await ops.claim_ticket(page.session, page.actor, tid, translations=c.translations,
                                    settings=c.settings, now=page.now)  # fmt: skip
    done = await ops.answer_ticket(page.session, page.actor, ticket.id, page.arg("text"),
                                   translations=c.translations, now=page.now)  # fmt: skip
    notice = (
        page.t.t("Đã gửi câu trả lời cho yêu cầu #{id}.", id=tid)
        if done.delivered
        else page.t.t(
            "Đã lưu câu trả lời, nhưng không gửi được: thành viên đã xoá dữ liệu hoặc chặn trợ lý."
        )
    )
    return await _list(page, notice)


async def close(page: Page) -> Response:
    c = page.console
    ticket = await ops.close_ticket(page.session, page.actor, _ticket_id(page),
                                    page.arg("suggest") == "1", translations=c.translations,
                                    now=page.now)  # fmt: skip
    return await _list(page, page.t.t("Đã đóng yêu cầu #{id}.", id=ticket.id))


def routes(console: Console) -> list[BaseRoute]:
    base = PREFIX + "/tickets"
    return [
        Route(base, staff_page(console, tickets), methods=["GET"]),
        Route(base + "/{id}/claim", staff_page(console, claim), methods=["POST"]),
        Route(base + "/{id}/answer", staff_page(console, answer), methods=["POST"]),
        Route(base + "/{id}/close", staff_page(console, close), methods=["POST"]),
    ]
