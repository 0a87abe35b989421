"""Reports as spreadsheets and charts for staff: one row per cooperative (XLSX or CSV) and the
12-month chart. The headers and cells are worded here, for the staff member's locale.

The data comes from ``db`` (which does no wording); the files are written by ``outputs``
(safe cells, no formulas) and the chart drawn by ``outputs.charts``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Cooperative, Member, Report
from ground.i18n import Translator
from knowledge.forms import MONEY, MULTI, NUMERIC, Field, Form
from operations.labels import SECTOR_NAMES
from operations.reports_text import format_answer
from outputs.spreadsheets import FORMATS, Layout, write_table


def answer_cell(t: Translator, f: Field, value: Any) -> Any:
    """An answer as an export cell: numbers stay numbers."""
    if value is None or value == []:
        return None
    if f.type in NUMERIC:
        return int(value)
    if f.type == MULTI:
        return "; ".join(f.option(k).text(t.locale) for k in value if f.option(k))  # type: ignore[union-attr]
    return format_answer(t, f, value)


def column_header(t: Translator, f: Field) -> str:
    unit = f.text("unit", t.locale)
    return f"{f.text('label', t.locale)} ({unit})" if unit else f.text("label", t.locale)


async def export_table(
    session: AsyncSession, form: Form, period: str, t: Translator
) -> tuple[list[str], list[list[Any]], set[int]]:
    """Headers and one row per cooperative (active ones, and any that submitted), and the
    indexes of money columns."""
    stmt = (
        select(Cooperative, Report, Member)
        .outerjoin(Report, (Report.cooperative_id == Cooperative.id) & (Report.period == period))
        .outerjoin(Member, Member.id == Report.submitted_by)
        .order_by(Cooperative.commune, Cooperative.name)
    )
    fixed = [
        t.t("Kỳ báo cáo"),
        t.t("Mã số"),
        t.t("Tên HTX"),
        t.t("Xã/phường"),
        t.t("Lĩnh vực"),
        t.t("Trạng thái"),
        t.t("Người gửi"),
        t.t("Thời điểm gửi"),
        t.t("Phiên bản"),
    ]
    headers = fixed + [column_header(t, f) for f in form.fields]
    money = {len(fixed) + i for i, f in enumerate(form.fields) if f.type == MONEY}
    rows: list[list[Any]] = []
    for coop, report, member in (await session.execute(stmt)).all():
        if report is None and coop.status != "active":
            continue
        answers = report.answers if report else {}
        row: list[Any] = [
            period,
            coop.code,
            coop.name,
            coop.commune,
            t.t(SECTOR_NAMES[coop.sector]) if coop.sector in SECTOR_NAMES else coop.sector,
            t.t("Đã gửi") if report else t.t("Chưa gửi"),
            (member.display_name or "–") if report and member else ("–" if report else None),
            report.submitted_at.astimezone(t.tz).strftime("%Y-%m-%d %H:%M") if report else None,
            report.version if report else None,
        ]
        row += [
            answer_cell(t, f, answers.get(f.key)) if form.applies(f, answers) else None
            for f in form.fields
        ]
        rows.append(row)
    return headers, rows, money


async def export_reports(
    session: AsyncSession, form: Form, period: str, path: Path | str, fmt: str, t: Translator
) -> int:
    """Write ``period``'s reports to ``path`` as "xlsx" or "csv"; returns the row count.
    Answers typed by members are written as text, never as formulas (outputs.spreadsheets)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    headers, rows, money = await export_table(session, form, period, t)
    layout = Layout(sheet=period, money=frozenset(money), freeze="D2", wrap_header=True)
    return write_table(path, headers, rows, fmt, layout)
