"""Reading the monthly reports page by page (the staff console): the periods, and per
cooperative of a period whether it submitted, when, and its answers. Staff only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from db import report_table as data
from db import reports as report_data
from db.models import Cooperative, Report, ReportPeriod
from ground.settings import Settings
from operations.reports import chosen_period, schedule_of
from operations.rights import Actor, require_staff


@dataclass(frozen=True)
class Summary:
    """A period at a glance: how many cooperatives submitted of how many expected (the
    numbers of :func:`operations.reports.progress`, counted by the database)."""

    period: str
    status: str | None  # "open", "closed", or None: never opened
    deadline: date | None
    submitted: int
    expected: int


async def summary(
    session: AsyncSession, actor: Actor, period_text: str, settings: Settings
) -> Summary:
    """The period given, else the newest open one, else the newest; raises
    :class:`operations.reports.PeriodProblem` when there is none."""
    await require_staff(session, actor)
    period = await chosen_period(session, period_text)
    submitted, expected = await data.counts(session, period)
    row = await report_data.get_period(session, period)
    if row is None:
        return Summary(period, None, None, submitted, expected)
    cal = report_data.calendar_of(row, schedule_of(settings), settings.tz)
    return Summary(period, row.status, cal.deadline, submitted, expected)


async def periods(session: AsyncSession, actor: Actor) -> list[ReportPeriod]:
    await require_staff(session, actor)
    return await data.all_periods(session)


async def period_rows(
    session: AsyncSession, actor: Actor, period: str, state: str, offset: int, limit: int
) -> tuple[int, list[tuple[Cooperative, Report | None]]]:
    await require_staff(session, actor)
    state = state if state in ("done", "missing") else ""
    return await data.period_rows(session, period, state, offset, limit)
