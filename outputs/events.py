"""Trade events from files: read a .csv or .xlsx of events and hand its rows to
:mod:`db.events`. Excel date cells become ``dd/mm/yyyy`` text, read like a typed date."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from db.events import (
    COLUMNS,
    REQUIRED,
    EventImportReport,
    import_event_rows,
)
from outputs.spreadsheets import (
    Columns,
    Progress,
    SpreadsheetError,
    TableRow,
    clean_text,
    read_table,
)

__all__ = ["EventFileError", "import_events", "read_event_rows"]

EVENT_COLUMNS = Columns(COLUMNS, REQUIRED, multiline=frozenset({"description"}))


class EventFileError(SpreadsheetError):
    """The events file cannot be read at all."""


def event_cell(value: Any) -> str:
    """A cell as text; Excel dates become ``dd/mm/yyyy`` (with the time when there is one)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        fmt = "%d/%m/%Y" if value.time() == time(0, 0) else "%d/%m/%Y %H:%M"
        return value.strftime(fmt)
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e18:
        return str(int(value))
    return clean_text(str(value)).strip()


def read_event_rows(path: Path | str) -> list[TableRow]:
    """The data rows of a .csv or .xlsx file as (line number, {field: text})."""
    try:
        return read_table(path, EVENT_COLUMNS, cell_text=event_cell)
    except EventFileError:
        raise
    except SpreadsheetError as exc:
        raise EventFileError(exc.message, **exc.values) from None


async def import_events(
    session: AsyncSession,
    path: Path | str,
    now: datetime,
    tz: ZoneInfo,
    actor: str = "cli",
    progress: Progress | None = None,
) -> EventImportReport:
    """Add or update events from ``path`` (same title and start: updated) and commit.
    Raise :class:`EventFileError` before writing anything when the file cannot be used."""
    path = Path(path)
    rows = read_event_rows(path)
    clean = [row for row in rows if not row.problems]
    refused = [(row.line, "; ".join(row.problems)) for row in rows if row.problems]
    report = await import_event_rows(session, path.name, clean, now, tz, actor, refused, progress)
    return report
