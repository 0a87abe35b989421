"""What staff do with the monthly reports, whichever door they come through (chat, command
line, later the web): open a period, remind the cooperatives not yet in, show progress,
export, draw the chart, close a period. One function each; each checks, when it runs, that
the actor may do it, and refuses with :class:`Refused` otherwise.

The *actor* is the :class:`~db.models.Member` giving the command (loaded in this session, so
a staff member removed a minute ago is refused), or :data:`CLI`: the operator at the
machine's command line, who may do everything.

Anything that writes to many people (opening a period prompts every representative; a
reminder by hand) first returns what it *would* do, with ``confirmed=False`` and nothing
written; the door asks, then calls again with ``confirm=True``.

Nothing here commits: the chat core commits the whole message, the command line after the
call. Wording for members is in :mod:`operations.reports_text`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from db import audit, outbox
from db import reports as db
from db.models import (
    PERIOD_OPEN,
    Cooperative,
    Member,
    Report,
    ReportPeriod,
)
from db.report_calendar import Calendar, ReportSchedule
from ground.i18n import Translations, Translator
from ground.settings import Settings
from knowledge.forms import monthly_report
from operations import reports_export, reports_text
from operations.rights import CLI as CLI_ACTOR
from operations.rights import Actor as RightsActor
from operations.rights import Refused
from outputs.charts import draw_chart
from outputs.progress import default_export_path

CLI = "cli"
# An operation here takes a rights.Actor, or (as the chat handlers and CLI pass it) the Member
# giving the command or "cli"; either way the check is operations.rights'.
Actor = RightsActor | Member | str
OLDEST_MONTHS = 12  # staff may open or remind a period at most this many months back


class PeriodProblem(Exception):
    """The period given cannot be used. ``reason``: "not_a_month", "future" (the month has
    not started), "too_old" (more than :data:`OLDEST_MONTHS` back), "not_open" (no open
    period to remind), "unknown" (never opened), "none_yet" (no period at all)."""

    def __init__(self, reason: str, text: str = "", period: str | None = None) -> None:
        super().__init__(f"{reason}: {text or period}")
        self.reason, self.text, self.period = reason, text.strip()[:20], period


def as_actor(actor: Actor) -> RightsActor:
    if isinstance(actor, RightsActor):
        return actor
    if isinstance(actor, Member):
        return RightsActor.of(actor)
    if actor == CLI:
        return CLI_ACTOR
    raise Refused()


def check_staff(actor: Actor) -> None:
    as_actor(actor).require_staff()


def actor_name(actor: Actor) -> str:
    return as_actor(actor).name


def n_questions() -> int:
    return len(monthly_report().planned({}))


def schedule_of(settings: Settings) -> ReportSchedule:
    return ReportSchedule.from_settings(settings)


def recent_period(text: str, today: date) -> str:
    """``text`` as a period staff may open or remind: a month that has started, at most
    :data:`OLDEST_MONTHS` back."""
    period = db.parse_period(text)
    if period is None:
        raise PeriodProblem("not_a_month", text)
    current = db.period_of(today)
    if period > current:
        raise PeriodProblem("future", text, period)
    if period < db.shift_period(current, -OLDEST_MONTHS):
        raise PeriodProblem("too_old", text, period)
    return period


async def chosen_period(session: AsyncSession, text: str) -> str:
    """``text`` as a period; empty: the newest open period, else the newest period."""
    if text.strip():
        period = db.parse_period(text)
        if period is None:
            raise PeriodProblem("not_a_month", text)
        return period
    row = await db.latest_period(session)
    if row is None:
        raise PeriodProblem("none_yet")
    return row.period


async def _queue(
    session: AsyncSession,
    translations: Translations,
    period: str,
    cal: Calendar,
    plan: list[db.DuePrompt],
    now: datetime,
    kind: str | None = None,
) -> int:
    """Record and queue each prompt of ``plan`` (once per member and kind)."""
    n, count = n_questions(), 0
    for due in plan:
        t = translations.get(due.member.locale)
        reply = reports_text.prompt_reply(t, kind or due.kind, period, due.coop, cal, n)
        enqueue = partial(outbox.enqueue, session, due.member, reply, now)
        count += await db.record_prompt(
            session, period, due.coop.id, due.member, kind or due.kind, now, enqueue
        )
    return count


# --- open --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    period: str
    confirmed: bool  # False: nothing written yet, ``prompts`` is how many would be sent
    changed: bool  # the period was opened (or reopened) now
    was_open: bool
    prompts: int
    deadline: date


async def open_period(
    session: AsyncSession,
    actor: Actor,
    period_text: str,
    now: datetime,
    settings: Settings,
    translations: Translations,
    confirm: bool = False,
) -> Opened:
    """Open a period by hand (or reopen a closed one) and prompt the representatives still
    due. Without ``confirm``, when anyone would be prompted, only say how many."""
    check_staff(actor)
    tz = settings.tz
    period = recent_period(period_text, now.astimezone(tz).date())
    schedule = schedule_of(settings)
    row = await db.get_period(session, period)
    was_open = row is not None and row.status == PERIOD_OPEN
    if row is not None and was_open:
        cal = db.calendar_of(row, schedule, tz)
    else:  # as it would be once opened now (an object only: nothing is added)
        cal = db.calendar_of(ReportPeriod(period=period, opened_at=now), schedule, tz)
    plan = await db.due_prompts(session, period, cal, now)
    if plan and not confirm:
        return Opened(period, False, False, was_open, len(plan), cal.deadline)
    row, changed = await db.open_period(session, period, now, actor_name(actor))
    cal = db.calendar_of(row, schedule, tz)
    plan = await db.due_prompts(session, period, cal, now)
    sent = await _queue(session, translations, period, cal, plan, now)
    if changed:
        audit.record(
            session, actor_name(actor), "open_report_period", now, period, {"prompts": sent}
        )
    return Opened(period, True, changed, was_open, sent, cal.deadline)


# --- remind ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reminded:
    period: str
    confirmed: bool
    prompts: int
    deadline: date


async def remind(
    session: AsyncSession,
    actor: Actor,
    period_text: str,
    now: datetime,
    settings: Settings,
    translations: Translations,
    confirm: bool = False,
) -> Reminded:
    """Remind, by hand, the representatives of the cooperatives that have not submitted an
    open period (at most once a day each). Without ``confirm``, only say how many."""
    check_staff(actor)
    tz = settings.tz
    today = now.astimezone(tz).date()
    period = (
        recent_period(period_text, today)
        if period_text.strip()
        else await chosen_period(session, "")
    )
    row = await db.get_period(session, period)
    cal = db.calendar_of(row, schedule_of(settings), tz) if row is not None else None
    if row is None or cal is None or row.status != PERIOD_OPEN or now >= cal.close_at:
        raise PeriodProblem("not_open", period_text, period)
    kind = f"staff-{today.isoformat()}"
    plan = await db.not_submitted(session, period, kind)
    if not confirm:
        return Reminded(period, False, len(plan), cal.deadline)
    sent = await _queue(session, translations, period, cal, plan, now, kind)
    if sent:
        audit.record(session, actor_name(actor), "remind_reports", now, period, {"prompts": sent})
    return Reminded(period, True, sent, cal.deadline)


# --- close -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Closed:
    period: str
    changed: bool


async def close_period(
    session: AsyncSession, actor: Actor, period_text: str, now: datetime
) -> Closed:
    """Close a period before its deadline: no more reports or corrections."""
    check_staff(actor)
    period = db.parse_period(period_text)
    if period is None:
        raise PeriodProblem("not_a_month", period_text)
    row = await db.get_period(session, period)
    if row is None:
        raise PeriodProblem("unknown", period_text, period)
    if row.status != PERIOD_OPEN:
        return Closed(period, False)
    db.close(row, now)
    audit.record(session, actor_name(actor), "close_report_period", now, period)
    return Closed(period, True)


# --- progress, export, chart --------------------------------------------------------------


@dataclass(frozen=True)
class ProgressView:
    progress: db.Progress
    status: str | None  # "open", "closed", or None: never opened
    deadline: date | None


async def progress(
    session: AsyncSession, actor: Actor, period_text: str, settings: Settings
) -> ProgressView:
    check_staff(actor)
    period = await chosen_period(session, period_text)
    p = await db.progress(session, period)
    row = await db.get_period(session, period)
    if row is None:
        return ProgressView(p, None, None)
    cal = db.calendar_of(row, schedule_of(settings), settings.tz)
    return ProgressView(p, row.status, cal.deadline)


@dataclass(frozen=True)
class Exported:
    period: str
    rows: int
    submitted: int
    path: Path


async def export(
    session: AsyncSession,
    actor: Actor,
    period_text: str,
    fmt: str,
    path: Path | None,
    t: Translator,
    now: datetime,
    folder: Path | None = None,
) -> Exported:
    """Write the period's reports (one row per cooperative) to ``path`` (default:
    ``bao-cao-PERIOD.FMT`` in ``folder``, else in the exports folder); audited."""
    check_staff(actor)
    period = await chosen_period(session, period_text)
    if path is None:
        path = default_export_path(f"bao-cao-{period}", fmt, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = await reports_export.export_reports(session, monthly_report(), period, path, fmt, t)
    p = await db.progress(session, period)
    detail = {"rows": count, "format": fmt, "file": path.name}
    audit.record(session, actor_name(actor), "export_reports", now, period, detail)
    return Exported(period, count, p.submitted, path)


@dataclass(frozen=True)
class Charted:
    first: str
    last: str
    path: Path


async def chart(
    session: AsyncSession, actor: Actor, period_text: str, folder: Path, t: Translator
) -> Charted:
    """A PNG of the 12 months up to the period."""
    check_staff(actor)
    last = await chosen_period(session, period_text)
    periods = [db.shift_period(last, -i) for i in range(11, -1, -1)]
    series = await db.monthly_series(session, periods)
    path = folder / f"bieu-do-{last}.png"
    draw_chart(series, t, path)
    return Charted(periods[0], last, path)


# --- the schedule and the members' side ---------------------------------------------------


async def run_cycle(
    session: AsyncSession,
    translations: Translations,
    now: datetime,
    schedule: ReportSchedule,
) -> db.CycleResult:
    """One pass of the schedule (idempotent): open the period of the month just ended when
    its day has come, send the prompts that are due, close periods whose deadline passed.
    Commits."""
    tz = translations.tz
    result = db.CycleResult()
    current, nominal = db.period_due(now, schedule, tz)
    if nominal.open_at <= now < nominal.close_at and await db.get_period(session, current) is None:
        if db.in_sending_hours(now, schedule, tz):
            _, created = await db.open_period(session, current, now, db.SCHEDULE)
            if created:
                result.opened.append(current)
    for row in await db.open_periods(session):
        cal = db.calendar_of(row, schedule, tz)
        if now >= cal.close_at:
            db.close(row, now)
            result.closed.append(row.period)
        elif db.in_sending_hours(now, schedule, tz):
            plan = await db.due_prompts(session, row.period, cal, now)
            result.prompts += await _queue(session, translations, row.period, cal, plan, now)
    await session.commit()
    return result


@dataclass(frozen=True)
class Submitted:
    report: Report
    first: bool  # the cooperative's first report for the period (not a correction)
    deadline: date  # corrections are accepted until the end of this day


async def submit(
    session: AsyncSession,
    member: Member,
    period: str,
    coop_id: int,
    answers: dict[str, object],
    base_version: int,
    now: datetime,
    settings: Settings,
    translations: Translations,
) -> Submitted:
    """A representative sends the cooperative's report (or a correction of it, from
    ``base_version``). The report, its version row and the notices to colleagues are written
    in the caller's one transaction: all of them or none. Raises :class:`Refused` (not an
    approved representative of that cooperative), :class:`PeriodProblem` ("not_open": the
    period no longer takes reports) or ``db.SubmitConflict`` (someone sent a newer version
    meanwhile)."""
    if not db.is_representative(member) or member.cooperative_id != coop_id:
        raise Refused()
    coop = await session.get(Cooperative, coop_id)
    row = await db.get_period(session, period)
    if coop is None or row is None or row.status != PERIOD_OPEN:
        raise PeriodProblem("not_open", period=period)
    cal = db.calendar_of(row, schedule_of(settings), settings.tz)
    if now >= cal.close_at:
        raise PeriodProblem("not_open", period=period)
    report, first = await db.submit_report(
        session, period, coop_id, member, answers, now, base_version
    )
    if first:
        await tell_colleagues(session, translations, period, coop, member, cal, now)
    return Submitted(report, first, cal.deadline)


async def tell_colleagues(
    session: AsyncSession,
    translations: Translations,
    period: str,
    coop: Cooperative,
    member: Member,
    cal: Calendar,
    now: datetime,
) -> int:
    """Tell the cooperative's other representatives (once) that the report is in."""
    count = 0
    for other in await db.representatives(session, [coop.id]):
        if other.id == member.id:
            continue
        t = translations.get(other.locale)
        reply = reports_text.colleague_notice(t, period, coop, member, cal)
        enqueue = partial(outbox.enqueue, session, other, reply, now)
        count += await db.record_prompt(session, period, coop.id, other, db.DONE, now, enqueue)
    return count
