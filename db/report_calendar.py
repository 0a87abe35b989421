"""The monthly report's calendar: periods ("2026-11"), the schedule's days and when a period
opens, reminds and closes. Pure date arithmetic, no database.

The days come from the settings (``COOPBOT_REPORT_OPEN_DAY`` 1, ``COOPBOT_REPORT_REMIND_DAYS``
"5,10", ``COOPBOT_REPORT_CLOSE_DAY`` 15), checked at start-up by ``ground.settings``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from db.models import ReportPeriod
    from ground.settings import Settings

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
        """The days set in ``environ``, read and checked by ``ground.settings`` like every
        other setting."""
        from ground.settings import SettingsError, load_settings

        try:
            return cls.from_settings(load_settings(environ, env_file=None))
        except SettingsError as exc:
            raise ScheduleError(str(exc)) from None

    @classmethod
    def from_settings(cls, settings: Settings) -> ReportSchedule:
        """The days checked at start-up by ``ground.settings``."""
        return cls(
            open_day=settings.report_open_day,
            remind_days=settings.report_remind_days,
            close_day=settings.report_close_day,
        )


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


def in_sending_hours(now: datetime, schedule: ReportSchedule, tz: ZoneInfo) -> bool:
    return schedule.hour <= now.astimezone(tz).hour < schedule.quiet_from


def period_due(now: datetime, schedule: ReportSchedule, tz: ZoneInfo) -> tuple[str, Calendar]:
    """The period of the month just ended and its nominal calendar."""
    current = previous_period(now.astimezone(tz).date())
    return current, nominal_calendar(current, schedule, tz)
