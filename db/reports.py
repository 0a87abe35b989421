"""Monthly status reports as data: periods, who is due a prompt, submission, progress and
the 12-month series.

A *period* is the month being reported ("2026-11"). On the open day of the next month (the
1st, 08:00 local time) the period opens and every representative (manager or accountant
with an approved link) of every active cooperative gets a prompt; reminders follow on the
remind days, only for cooperatives that have not submitted; the period closes at the end of
the close day (the 15th), and until then a submitted report can be corrected (each version
is kept). Staff may open a period by hand; a period opened after its normal close date gets
the same calendar counted from the day it was opened.

The schedule keeps its memory in the database: every prompt sent is a :class:`ReportPrompt`
row (unique per period, member and kind), so the cycle (``operations.reports.run_cycle``)
can run every minute, on several workers, after any downtime, and never sends the same
prompt twice. After downtime it catches up with the *latest* step that is due: a member who
gets the opening prompt late does not also get the reminder whose day had already passed.

The days come from the settings (``COOPBOT_REPORT_OPEN_DAY``, ``COOPBOT_REPORT_REMIND_DAYS``,
``COOPBOT_REPORT_CLOSE_DAY``, checked at start-up by ``ground.settings``).

Data in, data out: the wording of prompts, answers and exports lives in ``operations``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    LINK_APPROVED,
    PERIOD_CLOSED,
    PERIOD_OPEN,
    Cooperative,
    Member,
    Report,
    ReportPeriod,
    ReportPrompt,
    ReportVersion,
)
from db.report_calendar import (  # noqa: F401  (the calendar, for callers of db.reports)
    Calendar,
    ReportSchedule,
    ScheduleError,
    calendar_of,
    in_sending_hours,
    nominal_calendar,
    parse_period,
    period_due,
    period_of,
    period_start,
    previous_period,
    shift_period,
)

REPRESENTATIVE_ROLES = ("manager", "accountant")
OPEN, DONE = "open", "done"
SCHEDULE = "schedule"


# --- queries -------------------------------------------------------------------------------


async def get_period(session: AsyncSession, period: str) -> ReportPeriod | None:
    stmt = select(ReportPeriod).where(ReportPeriod.period == period)
    return (await session.execute(stmt)).scalar_one_or_none()


async def open_periods(session: AsyncSession) -> list[ReportPeriod]:
    stmt = select(ReportPeriod).where(ReportPeriod.status == PERIOD_OPEN)
    return list((await session.execute(stmt.order_by(ReportPeriod.period))).scalars())


async def latest_period(session: AsyncSession) -> ReportPeriod | None:
    """The newest open period, else the newest period."""
    periods = await open_periods(session)
    if periods:
        return periods[-1]
    stmt = select(ReportPeriod).order_by(ReportPeriod.period.desc()).limit(1)
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_report(session: AsyncSession, period: str, coop_id: int) -> Report | None:
    stmt = select(Report).where(Report.period == period, Report.cooperative_id == coop_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def report_versions(session: AsyncSession, report_id: int) -> list[ReportVersion]:
    stmt = select(ReportVersion).where(ReportVersion.report_id == report_id)
    return list((await session.execute(stmt.order_by(ReportVersion.version))).scalars())


async def representatives(session: AsyncSession, coop_ids: list[int]) -> list[Member]:
    """Members who may report for these cooperatives and can be reached."""
    if not coop_ids:
        return []
    stmt = (
        select(Member)
        .where(
            Member.cooperative_id.in_(coop_ids),
            Member.coop_role.in_(REPRESENTATIVE_ROLES),
            Member.link_status == LINK_APPROVED,
            Member.unreachable.is_(False),
        )
        .order_by(Member.id)
    )
    return list((await session.execute(stmt)).scalars())


def is_representative(member: Member) -> bool:
    return (
        member.cooperative_id is not None
        and member.coop_role in REPRESENTATIVE_ROLES
        and member.link_status == LINK_APPROVED
    )


async def _submitted_coop_ids(session: AsyncSession, period: str) -> set[int]:
    stmt = select(Report.cooperative_id).where(Report.period == period)
    return set((await session.execute(stmt)).scalars())


async def _active_coops(session: AsyncSession) -> list[Cooperative]:
    stmt = select(Cooperative).where(Cooperative.status == "active").order_by(Cooperative.id)
    return list((await session.execute(stmt)).scalars())


# --- opening, prompting, closing -----------------------------------------------------------


async def open_period(
    session: AsyncSession, period: str, now: datetime, opened_by: str
) -> tuple[ReportPeriod, bool]:
    """Open ``period`` (or reopen it if closed); returns (row, changed)."""
    row = await get_period(session, period)
    if row is not None:
        if row.status == PERIOD_OPEN:
            return row, False
        row.status, row.opened_at, row.opened_by, row.closed_at = PERIOD_OPEN, now, opened_by, None
        return row, True
    row = ReportPeriod(period=period, status=PERIOD_OPEN, opened_at=now, opened_by=opened_by)
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:  # opened meanwhile by another worker
        found = await get_period(session, period)
        assert found is not None
        return found, False
    return row, True


async def record_prompt(
    session: AsyncSession,
    period: str,
    coop_id: int,
    member: Member,
    kind: str,
    now: datetime,
    enqueue: Callable[[], object],
) -> bool:
    """Record the prompt and, in the same savepoint, ``enqueue()`` its message; ``False``
    (and nothing queued) if this prompt was already recorded."""
    try:
        async with session.begin_nested():
            session.add(
                ReportPrompt(
                    period=period,
                    cooperative_id=coop_id,
                    member_id=member.id,
                    kind=kind,
                    sent_at=now,
                )
            )
            enqueue()
    except IntegrityError:
        return False
    return True


@dataclass(frozen=True)
class DuePrompt:
    member: Member
    coop: Cooperative
    kind: str  # OPEN or remindN


async def due_prompts(
    session: AsyncSession, period: str, cal: Calendar, now: datetime
) -> list[DuePrompt]:
    """The prompts now due for ``period`` (nothing is written): the opening prompt to every
    representative who has none, else the latest reminder that is due, unless they were
    prompted after its time. Cooperatives that submitted get nothing."""
    due = [(kind, at) for kind, at in cal.reminders if at <= now]
    latest = due[-1] if due else None
    done = await _submitted_coop_ids(session, period)
    coops = {c.id: c for c in await _active_coops(session) if c.id not in done}
    members = await representatives(session, list(coops))
    stmt = select(ReportPrompt).where(ReportPrompt.period == period)
    sent: dict[int, list[ReportPrompt]] = {}
    for prompt in (await session.execute(stmt)).scalars():
        sent.setdefault(prompt.member_id, []).append(prompt)
    plan: list[DuePrompt] = []
    for member in members:
        mine = sent.get(member.id, [])
        kind = None
        if not any(p.kind == OPEN for p in mine):
            kind = OPEN
        elif latest and all(p.kind != latest[0] for p in mine):
            if max(p.sent_at for p in mine) < latest[1]:
                kind = latest[0]
        if kind is not None:
            plan.append(DuePrompt(member, coops[member.cooperative_id or 0], kind))
    return plan


async def not_submitted(session: AsyncSession, period: str, kind: str) -> list[DuePrompt]:
    """The representatives of the active cooperatives that have not submitted ``period``
    and have no prompt of ``kind`` yet (a reminder sent by hand)."""
    done = await _submitted_coop_ids(session, period)
    coops = {c.id: c for c in await _active_coops(session) if c.id not in done}
    stmt = select(ReportPrompt.member_id).where(
        ReportPrompt.period == period, ReportPrompt.kind == kind
    )
    had = set((await session.execute(stmt)).scalars())
    return [
        DuePrompt(m, coops[m.cooperative_id or 0], kind)
        for m in await representatives(session, list(coops))
        if m.id not in had
    ]


@dataclass
class CycleResult:
    opened: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    prompts: int = 0


def close(row: ReportPeriod, now: datetime) -> None:
    row.status, row.closed_at = PERIOD_CLOSED, now


# --- submitting ----------------------------------------------------------------------------


class SubmitConflict(Exception):
    """Someone else submitted (or corrected) the report since this draft was started."""

    def __init__(self, report: Report) -> None:
        super().__init__(f"report {report.id} is at version {report.version}")
        self.report = report


async def submit_report(
    session: AsyncSession,
    period: str,
    coop_id: int,
    member: Member,
    answers: dict[str, Any],
    now: datetime,
    base_version: int,
) -> tuple[Report, bool]:
    """Save ``answers`` as the next version of the cooperative's report; returns (report,
    first). ``base_version`` is the version the draft started from (0: none): if the report
    moved on meanwhile, nothing is written and :class:`SubmitConflict` is raised."""
    report = await get_report(session, period, coop_id)
    if report is None:
        report = Report(
            period=period,
            cooperative_id=coop_id,
            answers=answers,
            version=1,
            submitted_by=member.id,
            submitted_at=now,
        )
        try:
            async with session.begin_nested():
                session.add(report)
        except IntegrityError:  # a colleague submitted at the same moment
            found = await get_report(session, period, coop_id)
            assert found is not None
            raise SubmitConflict(found) from None
        first = True
    else:
        if report.version != base_version:
            raise SubmitConflict(report)
        won = await session.execute(
            update(Report)
            .where(Report.id == report.id, Report.version == base_version)
            .values(
                version=base_version + 1, answers=answers, submitted_by=member.id, submitted_at=now
            )
            .execution_options(synchronize_session=False)
        )
        await session.refresh(report)
        if won.rowcount != 1:  # type: ignore[attr-defined]
            raise SubmitConflict(report)
        first = False
    session.add(
        ReportVersion(
            report_id=report.id,
            version=report.version,
            answers=answers,
            submitted_by=member.id,
            submitted_at=now,
        )
    )
    return report, first


# --- progress ------------------------------------------------------------------------------


@dataclass
class Progress:
    period: str
    expected: int
    submitted: int
    by_commune: list[tuple[str, int, int]]  # (commune, submitted, expected)
    by_sector: list[tuple[str, int, int]]
    without_representative: int


async def progress(session: AsyncSession, period: str) -> Progress:
    """Submitted / expected for ``period``: every active cooperative, plus any other that
    submitted."""
    done = await _submitted_coop_ids(session, period)
    coops = list((await session.execute(select(Cooperative))).scalars())
    expected = [c for c in coops if c.status == "active" or c.id in done]
    linked = {m.cooperative_id for m in await representatives(session, [c.id for c in expected])}

    def group(key: str) -> list[tuple[str, int, int]]:
        counts: dict[str, list[int]] = {}
        for c in expected:
            entry = counts.setdefault(getattr(c, key), [0, 0])
            entry[0] += c.id in done
            entry[1] += 1
        return sorted(
            ((k, s, e) for k, (s, e) in counts.items()), key=lambda x: (x[1] / x[2], x[0])
        )

    return Progress(
        period=period,
        expected=len(expected),
        submitted=sum(c.id in done for c in expected),
        by_commune=group("commune"),
        by_sector=group("sector"),
        without_representative=sum(1 for c in expected if c.id not in done and c.id not in linked),
    )


# --- the 12-month series --------------------------------------------------------------


async def monthly_series(session: AsyncSession, periods: list[str]) -> dict[str, dict[str, int]]:
    """Per period: reports received and the totals of members, workers and revenue."""
    series = {p: {"reports": 0, "members": 0, "workers": 0, "revenue": 0} for p in periods}
    stmt = select(Report).where(Report.period.in_(periods))
    for report in (await session.execute(stmt)).scalars():
        s, a = series[report.period], report.answers
        s["reports"] += 1
        s["members"] += int(a.get("members_official") or 0)
        s["workers"] += int(a.get("workers_regular") or 0)
        s["revenue"] += int(a.get("revenue") or 0)
    return series
