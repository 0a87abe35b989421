"""Sự kiện: upcoming events, add one (as /themsukien), import a spreadsheet (as
``coopbot import events``), through operations/events.py. Members' reminders work as in chat."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.pages.base import PREFIX, Console, Page, staff_page
from bot.pages.uploads import remove, save_upload
from db.events import parse_when, split_tags
from ground.i18n import N_
from operations import events as ops
from operations import overview
from operations.event_texts import when_text
from operations.rights import NotPossible
from outputs.spreadsheets import SpreadsheetError

TEXT_FIELDS = ("title", "place", "description", "contact", "link")
BAD_DATE = N_("Ngày giờ “{text}” không hợp lệ. Ví dụ: 05/12/2026 hoặc 05/12/2026 08:00.")


async def _page(page: Page, **extra: object) -> Response:
    found = await overview.upcoming_events(page.session, page.actor, page.now,
                                           page.console.settings)  # fmt: skip
    return page.render("events.html", events=found, when_text=lambda v: when_text(page.t, v),
                       **extra)  # fmt: skip


async def events(page: Page) -> Response:
    return await _page(page)


def _values(page: Page) -> dict[str, Any]:
    tz = page.console.settings.tz
    values: dict[str, Any] = {k: page.arg(k) or None for k in TEXT_FIELDS}
    for key in ops.DATE_FIELDS:
        raw = page.arg(key).replace("T", " ")
        if not raw:
            values[key] = None
            continue
        when = parse_when(raw, tz)
        if when is None:
            raise NotPossible(BAD_DATE, text=raw[:40])
        values[key] = when.isoformat()
    values["tags"] = split_tags(page.arg("tags")) if page.arg("tags") else None
    return values


async def add(page: Page) -> Response:
    event = await ops.add_event(page.session, page.actor, _values(page), page.now)
    return await _page(page, notice=page.t.t("Đã thêm sự kiện “{title}”.", title=event.title))


async def upload(page: Page) -> Response:
    assert page.form is not None
    path = await save_upload(page.form.get("file"), page.console.folder / "uploads")
    try:
        report = await ops.import_events(page.session, page.actor, path, page.now,
                                         page.console.settings.tz)  # fmt: skip
    except SpreadsheetError as exc:
        raise NotPossible(exc.message, **exc.values) from None
    finally:
        await remove(path)
    return await _page(page, report=report)


def _event_id(page: Page) -> int:
    raw = page.request.path_params["id"]
    if not raw.isdigit():
        raise NotPossible(N_("Sự kiện này không còn trong danh sách. Gõ /sukien để xem."))
    return int(raw)


async def edit(page: Page) -> Response:
    tz = page.console.settings.tz
    found = [e for e in await overview.upcoming_events(page.session, page.actor, page.now,
                                                        page.console.settings, limit=500)
             if e.id == _event_id(page)]  # fmt: skip
    if not found:
        raise NotPossible(N_("Sự kiện này không còn trong danh sách. Gõ /sukien để xem."))
    event = found[0]

    def local(value: Any, fmt: str = "%Y-%m-%dT%H:%M") -> str:
        return value.astimezone(tz).strftime(fmt) if value is not None else ""

    return page.render("event_edit.html", e=event, local=local)


async def save(page: Page) -> Response:
    event = await ops.update_event(page.session, page.actor, _event_id(page), _values(page),
                                   page.now)  # fmt: skip
    return await _page(page, notice=page.t.t("Đã lưu sự kiện “{title}”.", title=event.title))


def routes(console: Console) -> list[BaseRoute]:
    base = PREFIX + "/events"
    return [
        Route(base, staff_page(console, events), methods=["GET"]),
        Route(base, staff_page(console, add), methods=["POST"]),
        Route(base + "/import", staff_page(console, upload), methods=["POST"]),
        Route(base + "/{id}", staff_page(console, edit), methods=["GET"]),
        Route(base + "/{id}", staff_page(console, save), methods=["POST"]),
    ]
