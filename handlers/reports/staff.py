"""Staff's side of the monthly reports in chat: /mobaocao (open a period), /nhacbaocao (remind
the cooperatives not yet in), /dongbaocao (close), /tiendo (progress), /xuat (Excel file) and
/bieudo (12-month chart). Each parses its argument, calls the operation in
:mod:`operations.reports` (which checks the actor's rights when it runs) and renders the
result. Opening and reminding write to many people: they ask first, and the "rps:…" button
that confirms calls the operation again, with the same checks.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

from db.report_calendar import previous_period
from ground.messages import Attachment, Button, Reply
from handlers.context import Context
from operations import reports as ops
from operations import reports_text as text

T = TypeVar("T")

EXPORTS = Path(tempfile.gettempdir()) / "coopbot-exports"
KEEP_EXPORTS = 2 * 24 * 3600  # seconds: longer than a Zalo download link lives (24 h)
NO = "rps:no"


def export_dir() -> Path:
    """A fresh folder for one export; folders older than two days are removed."""
    EXPORTS.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - KEEP_EXPORTS
    for old in EXPORTS.iterdir():
        if old.is_dir() and old.stat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(dir=EXPORTS))


def refused(ctx: Context) -> Reply:
    return Reply(ctx.t("Việc này chỉ dành cho cán bộ Liên minh HTX."))


def problem(ctx: Context, exc: ops.PeriodProblem) -> Reply:
    return Reply(
        text.period_problem(ctx.translator, exc.reason, exc.text, exc.period, ops.OLDEST_MONTHS)
    )


async def _attempt(ctx: Context, pending: Awaitable[T]) -> tuple[T | None, Reply | None]:
    """The operation's result, or the one line saying why it did not happen."""
    try:
        return await pending, None
    except ops.Refused:
        return None, refused(ctx)
    except ops.PeriodProblem as exc:
        return None, problem(ctx, exc)


def _ask(ctx: Context, question: str, yes_label: str, action: str) -> Reply:
    return Reply(question, ((Button(yes_label, action),), (Button(ctx.t("Thôi, không gửi"), NO),)))


async def open_period(ctx: Context, arg: str, confirm: bool = False) -> Reply:
    if not arg.strip() and not confirm:
        today = ctx.clock().astimezone(ctx.translator.tz).date()
        arg = previous_period(today)
    r, no = await _attempt(
        ctx,
        ops.open_period(
            ctx.session, ctx.member, arg, ctx.clock(), ctx.settings, ctx.translations, confirm
        ),
    )
    if r is None:
        return no  # type: ignore[return-value]
    t = ctx.translator
    if not r.confirmed:
        question = text.open_question(t, r.period, r.was_open, r.prompts, r.deadline)
        return _ask(ctx, question, ctx.t("Mở kỳ và gửi"), f"rps:open:{r.period}")
    return Reply(text.opened_text(t, r.period, r.changed, r.prompts, r.deadline))


async def open_command(ctx: Context, arg: str) -> Reply:
    """/mobaocao [2026-11]: the month just ended when no month is given."""
    return await open_period(ctx, arg)


async def remind(ctx: Context, arg: str, confirm: bool = False) -> Reply:
    r, no = await _attempt(
        ctx,
        ops.remind(
            ctx.session, ctx.member, arg, ctx.clock(), ctx.settings, ctx.translations, confirm
        ),
    )
    if r is None:
        return no  # type: ignore[return-value]
    if r.confirmed:
        return Reply(text.reminded_text(ctx.translator, r.period, r.prompts))
    question = text.remind_question(ctx.translator, r.period, r.prompts)
    if not r.prompts:
        return Reply(question)
    return _ask(ctx, question, ctx.t("Gửi lời nhắc"), f"rps:remind:{r.period}")


async def remind_command(ctx: Context, arg: str) -> Reply:
    """/nhacbaocao [2026-11]: the newest open period when no month is given."""
    return await remind(ctx, arg)


async def close_command(ctx: Context, arg: str) -> Reply:
    """/dongbaocao 2026-11: no more reports or corrections for that month."""
    if not arg.strip():
        return Reply(ctx.t("Cách dùng: /dongbaocao 2026-11 (tháng cần đóng kỳ báo cáo)."))
    r, no = await _attempt(ctx, ops.close_period(ctx.session, ctx.member, arg, ctx.clock()))
    if r is None:
        return no  # type: ignore[return-value]
    return Reply(text.closed_text(ctx.translator, r.period, r.changed))


async def confirm_button(ctx: Context, arg: str) -> Reply:
    """ "rps:open:2026-11", "rps:remind:2026-11", "rps:no": rights and the period are
    checked again by the operation, as if the command were typed now."""
    kind, _, period = arg.partition(":")
    if kind == "open" and period:
        return await open_period(ctx, period, confirm=True)
    if kind == "remind" and period:
        return await remind(ctx, period, confirm=True)
    return Reply(ctx.t("Đã thôi, không gửi gì."))


async def progress_command(ctx: Context, arg: str) -> Reply:
    v, no = await _attempt(ctx, ops.progress(ctx.session, ctx.member, arg, ctx.settings))
    if v is None:
        return no  # type: ignore[return-value]
    return Reply(text.progress_text(ctx.translator, v.progress, v.status, v.deadline))


async def export_command(ctx: Context, arg: str) -> Reply:
    r, no = await _attempt(
        ctx,
        ops.export(
            ctx.session, ctx.member, arg, "xlsx", None, ctx.translator, ctx.clock(), export_dir()
        ),
    )
    if r is None:
        return no  # type: ignore[return-value]
    return Reply(
        ctx.t(
            "Báo cáo tháng {month}: {n} HTX, {submitted} đã gửi.",
            month=text.month_label(ctx.translator, r.period),
            n=r.rows,
            submitted=r.submitted,
        ),
        attachment=Attachment(r.path, r.path.name),
    )


async def chart_command(ctx: Context, arg: str) -> Reply:
    r, no = await _attempt(
        ctx, ops.chart(ctx.session, ctx.member, arg, export_dir(), ctx.translator)
    )
    if r is None:
        return no  # type: ignore[return-value]
    return Reply(
        ctx.t(
            "Các chỉ số chính từ tháng {first} đến tháng {last}.",
            first=text.month_label(ctx.translator, r.first),
            last=text.month_label(ctx.translator, r.last),
        ),
        attachment=Attachment(r.path, r.path.name, is_image=True),
    )
