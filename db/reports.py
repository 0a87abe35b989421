"""Monthly status reports: the schedule, the prompts, submission, progress and exports.

A *period* is the month being reported ("2026-11"). On the open day of the next month (the
1st, 08:00 local time) the period opens and every representative (manager or accountant
with an approved link) of every active cooperative gets a prompt; reminders follow on the
remind days, only for cooperatives that have not submitted; the period closes at the end of
the close day (the 15th), and until then a submitted report can be corrected (each version
is kept). Staff may open a period by hand; a period opened after its normal close date gets
the same calendar counted from the day it was opened.

The schedule keeps its memory in the database: every prompt sent is a :class:`ReportPrompt`
row (unique per period, member and kind), so :func:`run_cycle` can run every minute, on
several workers, after any downtime, and never sends the same prompt twice. After downtime
it catches up with the *latest* step that is due: a member who gets the opening prompt late
does not also get the reminder whose day had already passed.

Settings are read from the environment: ``COOPBOT_REPORT_OPEN_DAY`` (default 1),
``COOPBOT_REPORT_REMIND_DAYS`` ("5,10"), ``COOPBOT_REPORT_CLOSE_DAY`` (15).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db import outbox
from db.cooperatives import SECTOR_LABELS
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
from ground.i18n import Translations, Translator
from ground.messages import Button, Reply
from knowledge.forms import CHOICE, MONEY, MULTI, NUMERIC, YESNO, Field, Form

REPRESENTATIVE_ROLES = ("manager", "accountant")
OPEN, DONE = "open", "done"
SCHEDULE = "schedule"
_PERIOD = re.compile(r"(\d{4})[-/.](\d{1,2})|(\d{1,2})[-/.](\d{4})")


# --- settings ------------------------------------------------------------------------------


class ScheduleError(ValueError):
    """A COOPBOT_REPORT_* variable is malformed."""


@dataclass(frozen=True)
class ReportSchedule:
    """Days of the month after the period (1–28) and the hour of prompts, local time."""

    open_day: int = 1
    remind_days: tuple[int, ...] = (5, 10)
    close_day: int = 15
    hour: int = 8
    quiet_from: int = 20  # no prompts from 20:00 until ``hour`` the next morning

    def __post_init__(self) -> None:
        days = (self.open_day, *self.remind_days, self.close_day)
        if not all(1 <= d <= 28 for d in days):
            raise ScheduleError("report days must be between 1 and 28")
        if list(days) != sorted(set(days)):
            raise ScheduleError(
                "report days must come in order: open day < reminder days < close day"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> ReportSchedule:
        def day(name: str, default: int) -> int:
            raw = environ.get(name, "").strip()
            if not raw:
                return default
            if not raw.isdigit():
                raise ScheduleError(f"{name}: expected a day of the month (1-28), got {raw!r}")
            return int(raw)

        raw = environ.get("COOPBOT_REPORT_REMIND_DAYS")
        reminders = cls.remind_days
        if raw is not None:
            parts = [p.strip() for p in raw.split(",") if p.strip()]
            if not all(p.isdigit() for p in parts):
                raise ScheduleError(f"COOPBOT_REPORT_REMIND_DAYS: expected days like 5,10; {raw!r}")
            reminders = tuple(int(p) for p in parts)
        try:
            return cls(
                open_day=day("COOPBOT_REPORT_OPEN_DAY", cls.open_day),
                remind_days=reminders,
                close_day=day("COOPBOT_REPORT_CLOSE_DAY", cls.close_day),
            )
        except ScheduleError as exc:
            raise ScheduleError(f"COOPBOT_REPORT_*: {exc}") from None


# --- periods and calendars -----------------------------------------------------------------


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def previous_period(day: date) -> str:
    """The month before ``day``'s month: on 1 December 2026, "2026-11"."""
    return period_of(day.replace(day=1) - timedelta(days=1))


def parse_period(text: str) -> str | None:
    """ "2026-11", "11/2026", "2026/11" → "2026-11"; ``None`` when it is not a month."""
    m = _PERIOD.fullmatch(text.strip())
    if not m:
        return None
    year, month = (int(m[1]), int(m[2])) if m[1] else (int(m[4]), int(m[3]))
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        return None
    return f"{year:04d}-{month:02d}"


def period_start(period: str) -> date:
    return date(int(period[:4]), int(period[5:7]), 1)


def shift_period(period: str, months: int) -> str:
    start = period_start(period)
    index = start.year * 12 + start.month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_label(t: Translator, period: str) -> str:
    """11/2026 in Vietnamese, November 2026 in English."""
    return t.date(period_start(period), "MM/yyyy" if t.locale == "vi" else "MMMM yyyy")


@dataclass(frozen=True)
class Calendar:
    """When a period opens, reminds and closes (aware datetimes); ``deadline`` is the last
    local day on which reports are accepted."""

    open_at: datetime
    reminders: tuple[tuple[str, datetime], ...]
    deadline: date
    close_at: datetime


def _calendar(first_day: date, schedule: ReportSchedule, tz: ZoneInfo) -> Calendar:
    """The calendar whose open day falls on ``first_day``."""

    def at(day: int, hour: int) -> datetime:
        local = datetime.combine(first_day + timedelta(days=day - schedule.open_day), time(hour))
        return local.replace(tzinfo=tz)

    deadline = first_day + timedelta(days=schedule.close_day - schedule.open_day)
    return Calendar(
        open_at=at(schedule.open_day, schedule.hour),
        reminders=tuple(
            (f"remind{i}", at(d, schedule.hour)) for i, d in enumerate(schedule.remind_days, 1)
        ),
        deadline=deadline,
        close_at=datetime.combine(deadline + timedelta(days=1), time(0)).replace(tzinfo=tz),
    )


def nominal_calendar(period: str, schedule: ReportSchedule, tz: ZoneInfo) -> Calendar:
    after = period_start(shift_period(period, 1))
    return _calendar(after.replace(day=schedule.open_day), schedule, tz)


def calendar_of(row: ReportPeriod, schedule: ReportSchedule, tz: ZoneInfo) -> Calendar:
    """The period's calendar; a period opened by hand after its normal close counts its
    days from the day it was opened."""
    nominal = nominal_calendar(row.period, schedule, tz)
    if row.opened_at < nominal.close_at:
        return nominal
    return _calendar(row.opened_at.astimezone(tz).date(), schedule, tz)


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


def prompt_reply(
    t: Translator, kind: str, period: str, coop: Cooperative, cal: Calendar, n: int
) -> Reply:
    values = {"month": month_label(t, period), "coop": coop.name, "deadline": t.day(cal.deadline)}
    if kind == OPEN:
        text = t.t(
            "Đã đến kỳ báo cáo tháng {month} của {coop}. Anh/chị bấm “Bắt đầu báo cáo” để "
            "trả lời {n} câu hỏi ngắn; mỗi câu trả lời được lưu ngay. Hạn gửi: hết ngày "
            "{deadline}.",
            n=n,
            **values,
        )
    else:
        text = t.t(
            "Nhắc: {coop} chưa gửi báo cáo tháng {month}. Hạn gửi: hết ngày {deadline}. "
            "Anh/chị bấm “Bắt đầu báo cáo” (hoặc gõ /baocao), chỉ mất vài phút.",
            **values,
        )
    return Reply(text, ((Button(t.t("Bắt đầu báo cáo"), f"rp:start:{period}"),),))


async def _record_prompt(
    session: AsyncSession,
    period: str,
    coop_id: int,
    member: Member,
    kind: str,
    reply: Reply,
    now: datetime,
) -> bool:
    """Record the prompt and queue its message, atomically; ``False`` if it already exists."""
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
            outbox.enqueue(session, member, reply, now)
    except IntegrityError:
        return False
    return True


def in_sending_hours(now: datetime, schedule: ReportSchedule, tz: ZoneInfo) -> bool:
    return schedule.hour <= now.astimezone(tz).hour < schedule.quiet_from


async def send_due_prompts(
    session: AsyncSession,
    translations: Translations,
    row: ReportPeriod,
    cal: Calendar,
    now: datetime,
    n_questions: int,
) -> int:
    """Queue the prompts now due for ``row``: the opening prompt to every representative who
    has none, else the latest reminder that is due, unless they were prompted after its time.
    Cooperatives that submitted get nothing. Returns how many were queued."""
    due = [(kind, at) for kind, at in cal.reminders if at <= now]
    latest = due[-1] if due else None
    done = await _submitted_coop_ids(session, row.period)
    coops = {c.id: c for c in await _active_coops(session) if c.id not in done}
    members = await representatives(session, list(coops))
    stmt = select(ReportPrompt).where(ReportPrompt.period == row.period)
    sent: dict[int, list[ReportPrompt]] = {}
    for prompt in (await session.execute(stmt)).scalars():
        sent.setdefault(prompt.member_id, []).append(prompt)
    count = 0
    for member in members:
        mine = sent.get(member.id, [])
        kind = None
        if not any(p.kind == OPEN for p in mine):
            kind = OPEN
        elif latest and all(p.kind != latest[0] for p in mine):
            if max(p.sent_at for p in mine) < latest[1]:
                kind = latest[0]
        if kind is None:
            continue
        coop = coops[member.cooperative_id or 0]
        reply = prompt_reply(
            translations.get(member.locale), kind, row.period, coop, cal, n_questions
        )
        count += await _record_prompt(session, row.period, coop.id, member, kind, reply, now)
    return count


@dataclass
class CycleResult:
    opened: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    prompts: int = 0


async def run_cycle(
    session: AsyncSession,
    translations: Translations,
    now: datetime,
    n_questions: int,
    schedule: ReportSchedule | None = None,
) -> CycleResult:
    """One pass of the schedule (idempotent): open the period of the month just ended when
    its day has come, send the prompts that are due, close periods whose deadline passed.
    Commits."""
    schedule = schedule or ReportSchedule.from_env()
    tz = translations.tz
    result = CycleResult()
    current = previous_period(now.astimezone(tz).date())
    nominal = nominal_calendar(current, schedule, tz)
    if nominal.open_at <= now < nominal.close_at and await get_period(session, current) is None:
        if in_sending_hours(now, schedule, tz):
            _, created = await open_period(session, current, now, SCHEDULE)
            if created:
                result.opened.append(current)
    for row in await open_periods(session):
        cal = calendar_of(row, schedule, tz)
        if now >= cal.close_at:
            row.status, row.closed_at = PERIOD_CLOSED, now
            result.closed.append(row.period)
        elif in_sending_hours(now, schedule, tz):
            result.prompts += await send_due_prompts(
                session, translations, row, cal, now, n_questions
            )
    await session.commit()
    return result


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


async def tell_colleagues(
    session: AsyncSession,
    translations: Translations,
    period: str,
    coop: Cooperative,
    member: Member,
    deadline: date,
    now: datetime,
) -> int:
    """Tell the cooperative's other representatives (once) that the report is in."""
    count = 0
    for other in await representatives(session, [coop.id]):
        if other.id == member.id:
            continue
        t = translations.get(other.locale)
        reply = Reply(
            t.t(
                "{name} đã gửi báo cáo tháng {month} của {coop}. Anh/chị không cần gửi nữa; "
                "gõ /baocao để xem hoặc sửa đến hết ngày {deadline}.",
                name=member.display_name or t.t("Người đại diện HTX"),
                month=month_label(t, period),
                coop=coop.name,
                deadline=t.day(deadline),
            )
        )
        count += await _record_prompt(session, period, coop.id, other, DONE, reply, now)
    return count


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


# --- answers as text and as cells ----------------------------------------------------------


def format_answer(t: Translator, f: Field, value: Any) -> str:
    """An answer as a member reads it; "—" when skipped."""
    if value is None or value == []:
        return "—"
    if f.type == MONEY:
        return t.money(int(value))
    if f.type in NUMERIC:
        return t.number(int(value))
    if f.type == YESNO:
        return t.t("Có") if value else t.t("Không")
    if f.type == CHOICE:
        opt = f.option(str(value))
        return opt.text(t.locale) if opt else str(value)
    if f.type == MULTI:
        labels = [f.option(k).text(t.locale) for k in value if f.option(k)]  # type: ignore[union-attr]
        return ", ".join(labels) or "—"
    return str(value)


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


# --- export --------------------------------------------------------------------------------


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


# --- chart ---------------------------------------------------------------------------------


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
