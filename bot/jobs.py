"""The background jobs a worker runs while it holds their locks (bot/leader.py).

Each is ``async def job(release)``: start the work, wait for ``release``, stop the work.
Messages they send are *bulk* (:func:`bot.channels.budget.bulk_sending`): on PostgreSQL they
leave part of the shared budget to replies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from bot.channels.budget import bulk_sending
from bot.leader import Job
from bot.scheduler import run_scheduler
from ground.logs import log_event

if TYPE_CHECKING:
    from bot.app import App
    from bot.channels.delivery import Background, DeliveryEngine
    from bot.channels.telegram import TelegramChannel
    from bot.channels.zalo import ZaloChannel

log = logging.getLogger("coopbot.jobs")


class _Delivers(Protocol):
    background: Background

    def broadcast_engine(self) -> DeliveryEngine: ...

    def start_outbox(self, interval: float = 2.0) -> None: ...


def scheduler_job(app: App) -> Job:
    """The report cycle, reminders, scheduled broadcasts (bot/scheduler.py)."""

    async def job(release: asyncio.Event) -> None:
        with bulk_sending():
            await run_scheduler(app, release)

    return job


def delivery_job(channel: _Delivers) -> Job:
    """A channel's outbox and broadcast delivery engine.

    Whoever held this job before is gone (its lock was released with its connection), so the
    rows it left are taken back at once instead of after their lease: ``claimed`` rows go back
    to the queue, ``sending`` rows (uncertain) fail as "interrupted", as after a restart.
    """

    async def job(release: asyncio.Event) -> None:
        with bulk_sending():
            requeued, uncertain = await channel.broadcast_engine().recover(timedelta(0))
            if requeued or uncertain:
                log_event(log, "took over broadcast rows", requeued=requeued, uncertain=uncertain)
            channel.start_outbox()
        try:
            await release.wait()
        finally:
            await channel.background.stop()

    return job


def telegram_polling_job(channel: TelegramChannel) -> Job:
    """Telegram long polling: one poller at a time (Telegram refuses two)."""

    async def job(release: asyncio.Event) -> None:
        await channel.start_polling(outbox=False)
        log_event(log, "telegram polling started", bot=channel.bot.username)
        try:
            await release.wait()
        finally:
            updater = channel.application.updater
            if updater is not None and updater.running:
                await updater.stop()
            if channel.application.running:
                with contextlib.suppress(Exception):
                    await channel.application.stop()

    return job


def zalo_polling_job(zalo: ZaloChannel) -> Job:
    """Zalo long polling: one poller at a time."""

    async def job(release: asyncio.Event) -> None:
        await zalo.start_polling(outbox=False)
        log_event(log, "zalo polling started", bot=zalo.bot_name)
        try:
            await release.wait()
        finally:
            await zalo.stop_polling()

    return job
