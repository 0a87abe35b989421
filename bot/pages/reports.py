"""Báo cáo: the periods; per cooperative submitted or not yet (late after the deadline) with
its answers; open a period and remind, both after a confirmation; download XLSX/CSV; the
12-month chart. The same operations as /mobaocao, /nhacbaocao, /xuat, /bieudo."""

from __future__ import annotations

from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from bot.pages.base import PREFIX, Console, Page, Pager, staff_page
from knowledge.forms import monthly_report
from operations import report_table, reports_text
from operations import reports as ops
from operations.reports import OLDEST_MONTHS, PeriodProblem
from operations.reports_text import format_answer

PER_PAGE = 50


def _problem(page: Page, exc: PeriodProblem) -> Response:
    text = reports_text.period_problem(page.t, exc.reason, exc.text, exc.period, OLDEST_MONTHS)
    return page.render("message.html", 400, message=text)


async def _page(page: Page, period_text: str = "", **extra: object) -> Response:
    c = page.console
    periods = await report_table.periods(page.session, page.actor)
    try:
        view = await report_table.summary(page.session, page.actor,
                                          period_text or page.query("ky"), c.settings)  # fmt: skip
    except PeriodProblem as exc:
        if exc.reason != "none_yet":
            return _problem(page, exc)
        view = None
    rows, pager, state = [], None, page.query("loc")
    if view is not None:
        n = Pager.number(page.request)
        total, rows = await report_table.period_rows(page.session, page.actor,
                                                     view.period, state,
                                                     (n - 1) * PER_PAGE, PER_PAGE)  # fmt: skip
        pager = Pager(n, PER_PAGE, total)
    return page.render(
        "reports.html", periods=periods, view=view, rows=rows, pager=pager, state=state,
        fields=monthly_report().fields, answer=lambda f, v: format_answer(page.t, f, v),
        late=view is not None and view.deadline is not None
        and page.now.astimezone(c.settings.tz).date() > view.deadline,
        month=lambda p: reports_text.month_label(page.t, p),
        this_month=page.now.astimezone(c.settings.tz).strftime("%Y-%m"), **extra,
    )  # fmt: skip


async def reports(page: Page) -> Response:
    return await _page(page)


async def open_period(page: Page) -> Response:
    c = page.console
    try:
        done = await ops.open_period(page.session, page.actor, page.arg("period"), page.now,
                                     c.settings, c.translations,
                                     confirm=page.arg("confirm") == "1")  # fmt: skip
    except PeriodProblem as exc:
        return _problem(page, exc)
    if not done.confirmed:
        question = reports_text.open_question(page.t, done.period, done.was_open, done.prompts,
                                              done.deadline)  # fmt: skip
        return await _page(page, done.period, confirm=("open", done.period, question))
    text = reports_text.opened_text(page.t, done.period, done.changed, done.prompts, done.deadline)
    return await _page(page, done.period, notice=text)


async def remind(page: Page) -> Response:
    c = page.console
    try:
        done = await ops.remind(page.session, page.actor, page.arg("period"), page.now,
                                c.settings, c.translations,
                                confirm=page.arg("confirm") == "1")  # fmt: skip
    except PeriodProblem as exc:
        return _problem(page, exc)
    if not done.confirmed:
        question = reports_text.remind_question(page.t, done.period, done.prompts)
        confirm = ("remind", done.period, question) if done.prompts else None
        return await _page(page, done.period, confirm=confirm, notice=None if confirm else question)
    return await _page(page, done.period,
                       notice=reports_text.reminded_text(page.t, done.period, done.prompts))  # fmt: skip


async def export(page: Page) -> Response:
    fmt = page.query("fmt", "xlsx")
    fmt = fmt if fmt in ("xlsx", "csv") else "xlsx"
    try:
        done = await ops.export(page.session, page.actor, page.query("ky"), fmt, None, page.t,
                                page.now, page.console.folder / "exports")  # fmt: skip
    except PeriodProblem as exc:
        return _problem(page, exc)
    return FileResponse(done.path, filename=done.path.name)


async def chart(page: Page) -> Response:
    folder = page.console.folder / "charts"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        done = await ops.chart(page.session, page.actor, page.query("ky"), folder, page.t)
    except PeriodProblem as exc:
        return _problem(page, exc)
    return FileResponse(done.path, media_type="image/png")


def routes(console: Console) -> list[BaseRoute]:
    base = PREFIX + "/reports"
    return [
        Route(base, staff_page(console, reports), methods=["GET"]),
        Route(base + "/open", staff_page(console, open_period), methods=["POST"]),
        Route(base + "/remind", staff_page(console, remind), methods=["POST"]),
        Route(base + "/export", staff_page(console, export), methods=["GET"]),
        Route(base + "/chart.png", staff_page(console, chart), methods=["GET"]),
    ]
