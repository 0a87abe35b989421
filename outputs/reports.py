"""The monthly reports as a spreadsheet (/xuat and `coopbot export reports`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from db import audit
from db.reports import export_table
from ground.i18n import Translator
from knowledge.forms import Form
from outputs.spreadsheets import FORMATS, Layout, write_table

__all__ = ["FORMATS", "export_reports"]


async def export_reports(
    session: AsyncSession,
    form: Form,
    period: str,
    path: Path | str,
    fmt: str,
    t: Translator,
    actor: str | None = None,
    now: datetime | None = None,
) -> int:
    """Write ``period``'s reports to ``path`` as "xlsx" or "csv"; returns the row count.
    Answers typed by members are written as text, never as formulas. With ``actor`` and
    ``now`` the export is written to the audit log (and committed)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    headers, rows, money = await export_table(session, form, period, t)
    layout = Layout(sheet=period, money=frozenset(money), freeze="D2", wrap_header=True)
    count = write_table(path, headers, rows, fmt, layout)
    if actor is not None and now is not None:
        detail = {"rows": count, "format": fmt, "file": Path(path).name}
        audit.record(session, actor, "export_reports", now, period, detail)
        await session.commit()
    return count
