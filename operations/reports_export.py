"""Reports as spreadsheets and charts for staff: one row per cooperative (XLSX or CSV) and the
12-month chart. The headers and cells are worded here, for the staff member's locale.

Moved unchanged from ``db.reports`` (the data floor does no wording); the writing of XLSX/CSV
and charts is to join ``outputs`` with the other spreadsheets.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.cooperatives import SECTOR_LABELS
from db.models import Cooperative, Member, Report
from ground.i18n import Translator
from knowledge.forms import MONEY, MULTI, NUMERIC, Field, Form
from operations.reports_text import format_answer

FORMATS = ("csv", "xlsx")


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
            SECTOR_LABELS.get(coop.sector, coop.sector),
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


def _write_csv(path: Path, headers: list[str], rows: list[list[Any]]) -> None:
    # UTF-8 with a BOM: Excel then shows the Vietnamese letters correctly.
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        writer.writerows([["" if v is None else v for v in row] for row in rows])


async def export_reports(
    session: AsyncSession, form: Form, period: str, path: Path | str, fmt: str, t: Translator
) -> int:
    """Write ``period``'s reports to ``path`` as "xlsx" or "csv"; returns the row count."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    headers, rows, money = await export_table(session, form, period, t)
    path = Path(path)
    if fmt == "csv":
        _write_csv(path, headers, rows)
        return len(rows)
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = period
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        sheet.append(row)
    for index, header in enumerate(headers):
        letter = get_column_letter(index + 1)
        sheet.column_dimensions[letter].width = min(max(12, len(header) + 2), 40)
        if index in money:
            for cell in sheet[letter][1:]:
                cell.number_format = "#,##0"
    sheet.freeze_panes = "D2"
    workbook.save(path)
    return len(rows)


def draw_chart(series: dict[str, dict[str, int]], t: Translator, path: Path | str) -> None:
    """A PNG of the key indicators, one panel each, large enough to read on a phone."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    periods = list(series)
    labels = [p[5:7] + "/" + p[2:4] for p in periods]
    panels = [
        ("reports", t.t("Số HTX đã gửi báo cáo"), 1, "#2e7d32"),
        ("members", t.t("Tổng số thành viên"), 1, "#1565c0"),
        ("workers", t.t("Tổng số lao động thường xuyên"), 1, "#6a1b9a"),
        ("revenue", t.t("Tổng doanh thu (tỷ đồng)"), 1_000_000_000, "#e65100"),
    ]
    plt.rcParams.update({"font.size": 16})
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 16), sharex=True)
    for ax, (key, title, scale, color) in zip(axes, panels, strict=True):
        values = [series[p][key] / scale for p in periods]
        ax.bar(labels, values, color=color)
        ax.set_title(title, fontsize=20, loc="left")
        ax.grid(axis="y", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
        for x, v in zip(labels, values, strict=True):
            if v:
                ax.annotate(
                    f"{v:,.1f}" if scale > 1 else f"{v:,.0f}",
                    (x, v),
                    ha="center",
                    va="bottom",
                    fontsize=12,
                )
    axes[-1].tick_params(axis="x", labelrotation=45)
    fig.suptitle(
        t.t("Báo cáo tháng {first} – {last}", first=labels[0], last=labels[-1]), fontsize=22
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
