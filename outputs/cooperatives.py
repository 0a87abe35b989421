"""The cooperative registry as files: import a .csv or .xlsx staff keep, export the registry.

Reading goes through :mod:`outputs.spreadsheets` (limits, safe XML, header row found in the
first rows); the rows are then checked and written by :mod:`db.cooperatives`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from db import audit
from db.cooperatives import COLUMNS, OPTIONAL_COLUMNS, ImportReport, export_headers, export_rows
from db.cooperatives import import_rows as _import_rows
from outputs.spreadsheets import (
    FORMATS,
    Columns,
    Layout,
    Progress,
    SpreadsheetError,
    TableRow,
    read_table,
    write_table,
)

__all__ = [
    "FORMATS",
    "CooperativeFileError",
    "export_cooperatives",
    "import_cooperatives",
    "read_rows",
]

COOPERATIVE_COLUMNS = Columns(
    spellings={name: (label, *aliases) for name, (label, aliases) in COLUMNS.items()},
    required=[n for n in COLUMNS if n not in OPTIONAL_COLUMNS],
)
WIDTHS = (45, 16, 20, 24, 22, 40, 14, 16)


class CooperativeFileError(SpreadsheetError):
    """The cooperatives file cannot be read at all (missing, wrong format, missing column)."""


def read_rows(path: Path | str) -> list[TableRow]:
    """The data rows of a .csv or .xlsx file as (line number, {field: text}). Raise
    :class:`CooperativeFileError` when the file cannot be used."""
    try:
        return read_table(path, COOPERATIVE_COLUMNS)
    except CooperativeFileError:
        raise
    except SpreadsheetError as exc:
        raise CooperativeFileError(exc.message, **exc.values) from None


async def import_cooperatives(
    session: AsyncSession,
    path: Path | str,
    now: datetime,
    actor: str = "cli",
    progress: Progress | None = None,
) -> ImportReport:
    """Import ``path`` into the registry (insert or update by code) and commit, with one
    audit entry. Raise :class:`CooperativeFileError` before writing anything when the file
    cannot be used."""
    path = Path(path)
    rows = read_rows(path)
    clean = [row for row in rows if not row.problems]
    refused = [(row.line, "; ".join(row.problems)) for row in rows if row.problems]
    return await _import_rows(session, path.name, clean, now, actor, refused, progress)


async def export_cooperatives(
    session: AsyncSession,
    path: Path | str,
    fmt: str,
    actor: str | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> int:
    """Write every cooperative to ``path`` as ``fmt`` ("xlsx" or "csv"); return the count.
    With ``actor`` and ``now`` the export is written to the audit log (and committed)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    rows = await export_rows(session)
    count = write_table(path, export_headers(), rows, fmt, Layout("Hợp tác xã", WIDTHS), progress)
    if actor is not None and now is not None:
        detail = {"rows": count, "format": fmt}
        audit.record(session, actor, "export_cooperatives", now, Path(path).name, detail)
        await session.commit()
    return count
