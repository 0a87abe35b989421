"""The cooperative registry, whichever door asks: find cooperatives, import a staff file,
export the registry. Staff only, checked when each runs; imports and exports are audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from db import coop_search as data
from db.cooperatives import ImportReport
from db.models import COOP_STATUSES, SECTORS, Cooperative
from ground.i18n import N_
from operations.rights import Actor, NotPossible, require_staff
from outputs import cooperatives as files


@dataclass(frozen=True)
class Found:
    total: int
    rows: list[Cooperative]
    communes: list[tuple[int, str]]


async def find(
    session: AsyncSession,
    actor: Actor,
    text: str = "",
    commune: str = "",
    sector: str = "",
    status: str = "",
    offset: int = 0,
    limit: int = 50,
) -> Found:
    """Cooperatives matching the filters (unknown filter values are ignored), one page."""
    await require_staff(session, actor)
    code = int(commune) if commune.isdigit() and len(commune) <= 9 else None
    sector = sector if sector in SECTORS else ""
    status = status if status in COOP_STATUSES else ""
    total, rows = await data.search(session, text.strip()[:100], code, sector, status, offset,
                                    limit)  # fmt: skip
    return Found(total, rows, await data.communes(session))


async def import_file(
    session: AsyncSession, actor: Actor, path: Path, now: datetime
) -> ImportReport:
    """Import a .csv or .xlsx of cooperatives (the same as ``coopbot import cooperatives``):
    bad rows are reported line by line, the good ones written and committed; audited."""
    await require_staff(session, actor)
    try:
        return await files.import_cooperatives(session, path, now, actor.name)
    except files.CooperativeFileError as exc:
        raise NotPossible(exc.message, **exc.values) from None


async def export_file(
    session: AsyncSession, actor: Actor, path: Path, fmt: str, now: datetime
) -> int:
    """Write the registry to ``path`` (xlsx or csv); audited and committed."""
    await require_staff(session, actor)
    if fmt not in files.FORMATS:
        raise NotPossible(N_("Định dạng tệp không hỗ trợ."))
    return await files.export_cooperatives(session, path, fmt, actor.name, now)
