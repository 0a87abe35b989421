"""Periodic jobs: the monthly report cycle, reminders, ticket re-notification, scheduled
broadcasts and event reminders.

Every job is idempotent and keeps its state in the database, so it catches up after downtime
and several workers may run it. A job is ``async def job(app, now) -> None``; add it to
:data:`JOBS`. The runner calls :func:`run_scheduler`; tests call :func:`run_due_jobs`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger("coopbot.scheduler")

Job = Callable[["App", datetime], Awaitable[None]]


async def _renotify_tickets(app: App, now: datetime) -> None:
    from operations.tickets import renotify_stale

    conv = app.conversation
    await renotify_stale(conv.sessions, conv.translations, conv.settings, now)


JOBS: list[tuple[str, Job]] = [("tickets.renotify", _renotify_tickets)]


async def _report_cycle(app: App, now: datetime) -> None:
    from db.report_calendar import ReportSchedule
    from operations.reports import run_cycle

    conv = app.conversation
    async with conv.sessions() as session:
        schedule = ReportSchedule.from_settings(conv.settings)
        await run_cycle(session, conv.translations, now, schedule)


JOBS.append(("reports.cycle", _report_cycle))


async def _start_scheduled_broadcasts(app: App, now: datetime) -> None:
    from operations.broadcasts import start_due

    await start_due(app.conversation.sessions, app.conversation.translations, now)


async def _remind_events(app: App, now: datetime) -> None:
    from operations.events import send_reminders

    conv = app.conversation
    await send_reminders(conv.sessions, conv.translations, conv.settings, now)


async def _prune_seen_updates(app: App, now: datetime) -> None:
    from db.queries import prune_seen_updates

    async with app.conversation.sessions() as session:
        await prune_seen_updates(session, now)
        await session.commit()


JOBS.append(("broadcasts.start_due", _start_scheduled_broadcasts))
JOBS.append(("events.remind", _remind_events))
JOBS.append(("updates.prune", _prune_seen_updates))


async def run_due_jobs(app: App, now: datetime) -> None:
    """Run every job once; a failing job is logged and does not stop the others."""
    for name, job in JOBS:
        try:
            await job(app, now)
        except Exception:
            log.exception("scheduled job %s failed", name)


async def run_scheduler(app: App, stop: asyncio.Event, interval: float = 60.0) -> None:
    """Run the jobs every ``interval`` seconds until ``stop`` is set."""
    while not stop.is_set():
        await run_due_jobs(app, app.conversation.clock())
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
