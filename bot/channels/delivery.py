"""What every messenger channel does with messages that are not replies: deliver the pending
notification rows of the outbox, and run the broadcast delivery engine with its sender.

The engine
    claims a batch of a channel's broadcast rows (:mod:`db.broadcast_rows`), keeps to the
    channel's limits (:mod:`bot.channels.pacing`), commits a wave as ``sending`` right before
    its API calls and as ``sent`` right after; up to ``max_in_flight`` rows (a second's worth)
    are under way at once, so latency does not set the rate. RetryAfter pauses the channel and
    puts the row back; network errors put it back with exponential backoff (``MAX_ATTEMPTS``);
    Forbidden marks the member unreachable and fails the row; a time-out fails it as "may not
    have arrived"; any other error fails it with the reason.

Crash and restart
    ``claimed`` rows were never sent: they go back to the queue. ``sending`` rows are the only
    uncertain ones (the API call may or may not have reached the user; Telegram has no
    idempotency key). Policy: at most once. They are failed with the reason ``interrupted``
    and counted in the final report ("may not have arrived"), because a duplicate notice
    cannot be taken back while a missing one can be re-sent by staff; ``resend_uncertain=True``
    chooses at least once. At most ``max_in_flight`` rows are uncertain per worker. One worker
    (SQLite) recovers everything at start; with several, rows are recovered once their lease is
    older than ``LEASE`` (renewed while a worker lives), and every worker looks for such rows
    every ``RECOVER_EVERY``: ``kill -9`` leaves nothing behind for longer than a lease and a minute.

Channels nobody delivers to
    ``skip_channels`` (the console, when running on Telegram and Zalo): their rows are
    skipped as ``no_channel``, so every broadcast ends and its author gets the report.

Progress
    One message edited as sending goes (``PROGRESS_EVERY``), then a final report.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.pacing import GUARD, Pacer, Sleep
from bot.channels.sending import (
    Blocked,
    RateLimited,
    Sender,
    Transient,
    Uncertain,
    deliver_pending,
    reply_of,
    report_to_author,
)
from db import broadcast_rows as rows_db
from db.broadcast_rows import ClaimedRow
from db.broadcasts import FAILED, LEASE, MAX_ATTEMPTS, QUEUED, REASON_NO_CHANNEL, tally
from db.models import Broadcast, Member
from ground.i18n import Translations
from ground.messages import Reply
from handlers.core import Conversation
from operations.broadcast_texts import progress_text

__all__ = [
    "GUARD",
    "RECOVER_EVERY",
    "Background",
    "Blocked",
    "DeliveryEngine",
    "Pacer",
    "RateLimited",
    "Sender",
    "Transient",
    "Uncertain",
    "deliver_pending",
    "reply_of",
]

log = logging.getLogger("coopbot.delivery")

RECOVER_EVERY = timedelta(minutes=1)


# --- the engine --------------------------------------------------------------------------


class DeliveryEngine:
    """Delivers queued broadcast rows of the channels it has a :class:`Sender` for.

    ``clock`` gives the time stored in the database (UTC), ``monotonic`` and ``sleep`` pace
    the sending: all three are injectable, so tests never wait.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        senders: Sequence[Sender],
        translations: Translations,
        *,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        batch: int | None = None,
        max_wave: int = 50,
        resend_uncertain: bool = False,
        single_worker: bool | None = None,
        skip_channels: Collection[str] = (),
        max_in_flight: int | None = None,
    ) -> None:
        self.sessions = sessions
        self.senders = {s.channel: s for s in senders}
        self.translations = translations
        self.clock = clock
        self.sleep = sleep
        self.batch = batch
        self.max_wave = max_wave
        self.resend_uncertain = resend_uncertain
        self.skip_channels = [c for c in skip_channels if c not in self.senders]
        self.pacers = {
            s.channel: Pacer(s.per_second, s.per_chat_interval, monotonic, sleep) for s in senders
        }
        dialect = sessions.kw["bind"].dialect.name if "bind" in sessions.kw else "sqlite"
        self.postgres = dialect == "postgresql"
        self.single_worker = (not self.postgres) if single_worker is None else single_worker
        self.token = secrets.token_hex(8)
        self._stop = asyncio.Event()
        self._recovered_at: datetime | None = None
        self.stats: Counter[str] = Counter()
        # Rows under way at once, per channel: enough that latency never sets the rate (at
        # 30/s a call answered in 300 ms has 9 others beside it); the pacer sets it.
        self.max_in_flight = {
            s.channel: max_in_flight or max(1, int(s.per_second)) for s in senders
        }
        self._in_flight: Counter[str] = Counter()
        self._landed = asyncio.Condition()
        self._flights: set[asyncio.Task[None]] = set()
        self._progress_checked: dict[int, datetime] = {}
        self._crashed: BaseException | None = None
        self._probed = False

    # lifecycle

    def stop(self) -> None:
        """Finish the waves in flight, put the rest of the batch back, and return."""
        self._stop.set()

    async def run(self, idle: float = 1.0) -> None:
        """Deliver until :meth:`stop`; sleeps ``idle`` seconds (really) when there is no work.
        The next batch is claimed while the last waves of one are still in flight."""
        try:
            while not self._stop.is_set():
                try:
                    handled = await self._cycle()
                    await self._finish()
                except Exception:
                    log.exception("broadcast delivery failed")
                    handled = 0
                if not handled:
                    try:
                        await asyncio.wait_for(self._stop.wait(), timeout=idle)
                    except TimeoutError:
                        pass
        except asyncio.CancelledError:
            self._crashed = self._crashed or asyncio.CancelledError()
            self._die_if_crashed()
        await self._land()

    async def drain(self) -> int:
        """Run until no row is due and nothing is in flight; returns rows handled."""
        total = 0
        while not self._stop.is_set():
            handled = await self._cycle()
            await self._finish()
            total += handled
            if not handled:
                if not self._flights:
                    break
                await self._land()
        await self._land()
        await self._finish()  # what the last landing recorded may close a broadcast
        return total

    async def run_once(self) -> int:
        """Recover expired leases (at start, then every ``RECOVER_EVERY``), claim one batch
        per channel, send it and wait for its calls; finish broadcasts."""
        handled = await self._cycle()
        await self._land()
        await self._finish()
        return handled

    async def _cycle(self) -> int:
        now = self.clock()
        if self._recovered_at is None:
            await self.recover()
            self._recovered_at = now
        elif now - self._recovered_at >= RECOVER_EVERY:
            await self.recover(LEASE)
            self._recovered_at = now
        for channel in self.skip_channels:
            async with self.sessions() as session:
                self.stats["skipped"] += await rows_db.skip_channel(
                    session, channel, REASON_NO_CHANNEL
                )
        handled = 0
        for channel in self.senders:
            rows = await self._claim(channel)
            if rows:
                handled += await self._send_batch(channel, rows)
        return handled

    async def _land(self) -> None:
        """Wait until every wave in flight is sent and recorded."""
        while self._flights:
            await asyncio.gather(*list(self._flights), return_exceptions=True)
        self._die_if_crashed()

    def _die_if_crashed(self) -> None:
        """A send raised a BaseException (the process is dying) or the engine was cancelled:
        nothing more is sent, rows in flight stay ``sending`` (recovered as uncertain)."""
        if self._crashed is not None:
            for flight in list(self._flights):
                flight.cancel()
            raise self._crashed

    # recovery

    async def recover(self, lease: timedelta | None = None) -> tuple[int, int]:
        """Take back rows of dead workers: claimed → queued; sending → failed "interrupted"
        (or queued with ``resend_uncertain``). Returns (requeued, uncertain)."""
        lease = (timedelta(0) if self.single_worker else LEASE) if lease is None else lease
        async with self.sessions() as session:
            counts = await rows_db.recover(
                session,
                list(self.senders),
                self.clock() - lease,
                resend_uncertain=self.resend_uncertain,
            )
        if any(counts):
            log.warning("broadcast rows recovered: %s requeued, %s uncertain", *counts)
        self.stats["uncertain"] += counts[1]
        return counts

    # claiming and sending

    async def _claim(self, channel: str) -> list[ClaimedRow]:
        # by default 20 s of sending per claim (200 at least): each claim pauses the pacer
        size = self.batch or max(200, int(self.senders[channel].per_second * 20))
        async with self.sessions() as session:
            rows, skipped = await rows_db.claim(
                session, channel, self.token, self.clock(), size, postgres=self.postgres
            )
        self.stats["skipped"] += skipped
        return rows

    async def _send_batch(self, channel: str, rows: list[ClaimedRow]) -> int:
        """Pace ``rows`` and launch them in small waves, each marked ``sending`` (committed)
        right before its calls. Up to ``max_in_flight`` rows are under way at once, so the
        channel's limit, not its latency, sets the rate. Returns when the last wave is off."""
        sender, pacer = self.senders[channel], self.pacers[channel]
        calls: Callable[[Reply], int] | None = getattr(sender, "calls", None)
        cap = self.max_in_flight[channel]

        def cost(row: ClaimedRow) -> int:
            return max(1, calls(reply_of(row.text, row.buttons))) if calls else 1

        handled, i, renewed = 0, 0, self.clock()
        while i < len(rows):
            self._die_if_crashed()
            if self._stop.is_set():
                async with self.sessions() as session:
                    await rows_db.release(session, [r.id for r in rows[i:]], self.token)
                break
            async with self._landed:  # room first, so a paced slot is used at once
                await self._landed.wait_for(lambda: self._in_flight[channel] < cap)
            self._die_if_crashed()  # room made by a crashed flight: mark nothing more
            taken = [await pacer.take(rows[i].user_id, cost(rows[i]))]
            wave = [rows[i]]
            i += 1
            while (
                self._probed  # the first wave: one message, alone (see below)
                and i < len(rows)
                and len(wave) < self.max_wave
                and self._in_flight[channel] + len(wave) < cap
                and (more := pacer.try_take(rows[i].user_id, cost(rows[i])))
            ):
                taken.append(more)
                wave.append(rows[i])
                i += 1
            async with self.sessions() as session:
                marked = await rows_db.mark_sending(
                    session, [r.id for r in wave], self.token, self.clock()
                )
            pacer.departed(taken)  # the commit's time does not bunch the calls at the API
            wave = [r for r in wave if r.id in marked]
            if wave:
                self._in_flight[channel] += len(wave)
                flight = asyncio.create_task(self._fly(channel, sender, wave))
                self._flights.add(flight)
                flight.add_done_callback(self._flights.discard)
                handled += len(wave)
                if not self._probed:  # the first message lands alone: a dead token or a
                    await self._land()  # 429 shows on one message, not on a second's worth
                    self._probed = True
            if self.clock() - renewed > LEASE / 4 and i < len(rows):
                renewed = self.clock()
                async with self.sessions() as session:
                    await rows_db.renew(session, [r.id for r in rows[i:]], self.token, renewed)
        return handled

    async def _fly(self, channel: str, sender: Sender, wave: list[ClaimedRow]) -> None:
        """Send one wave, record it, show progress. A wave that cannot be recorded stays
        ``sending`` and is recovered as uncertain, never sent twice."""
        try:
            results = await asyncio.gather(*(self._send_one(sender, r) for r in wave))
            await self._record(channel, wave, results)
        except Exception:
            log.exception("broadcast wave not recorded")
        except BaseException as exc:  # the process is dying: so is the engine (raised there)
            self._crashed = self._crashed or exc
        finally:
            self._in_flight[channel] -= len(wave)
            async with self._landed:
                self._landed.notify_all()
        try:
            await self._progress({r.broadcast_id for r in wave})
        except Exception:
            log.exception("broadcast progress failed")

    async def _send_one(self, sender: Sender, row: ClaimedRow) -> BaseException | None:
        try:
            await sender.send(row.user_id, reply_of(row.text, row.buttons))
        except Exception as exc:
            return exc
        return None

    async def _record(
        self, channel: str, wave: list[ClaimedRow], results: list[BaseException | None]
    ) -> None:
        now = self.clock()
        sent = [r.id for r, exc in zip(wave, results, strict=True) if exc is None]
        async with self.sessions() as session:
            await rows_db.record_sent(session, sent, self.token, now)
            self.stats["sent"] += len(sent)
            for row, exc in zip(wave, results, strict=True):
                if exc is None:
                    continue
                values = self._after_failure(channel, row, exc, now)
                if isinstance(exc, Blocked):
                    await rows_db.mark_unreachable(session, channel, row.user_id)
                await rows_db.record_row(session, row.id, self.token, values)
            await session.commit()

    def _after_failure(
        self, channel: str, row: ClaimedRow, exc: BaseException, now: datetime
    ) -> dict[str, Any]:
        """The row's new values after ``exc``."""
        requeue = {"status": QUEUED, "claim_token": None}
        if isinstance(exc, RateLimited):
            self.pacers[channel].pause(exc.retry_after)
            self.stats["rate_limited"] += 1
            return requeue
        detail = f"{type(exc).__name__}: {exc}"
        attempts = row.attempts + 1
        if isinstance(exc, Blocked):
            self.stats["blocked"] += 1
            return {"status": FAILED, "error": f"blocked: {exc}"[:255], "attempts": attempts}
        if isinstance(exc, Uncertain):
            self.stats["failed"] += 1
            return {"status": FAILED, "error": f"timeout: {exc}"[:255], "attempts": attempts}
        if isinstance(exc, Transient):
            if attempts >= MAX_ATTEMPTS:
                self.stats["failed"] += 1
                return {"status": FAILED, "error": f"network: {exc}"[:255], "attempts": attempts}
            self.stats["retried"] += 1
            backoff = timedelta(seconds=min(300, 2 ** (attempts - 1) * 5))
            return {**requeue, "attempts": attempts, "next_attempt_at": now + backoff,
                    "error": detail[:255]}  # fmt: skip
        log.warning("broadcast row %s failed: %s", row.id, detail)
        self.stats["failed"] += 1
        return {"status": FAILED, "error": detail[:255], "attempts": attempts}

    # progress and the end

    async def _progress(self, broadcast_ids: set[int]) -> None:
        now = self.clock()
        for bid in broadcast_ids:
            # asked of the database at most every second per worker (it answers at most
            # every PROGRESS_EVERY), not after every wave
            checked = self._progress_checked.get(bid)
            if checked is not None and now - checked < timedelta(seconds=1):
                continue
            if len(self._progress_checked) > 1000:
                self._progress_checked.clear()
            self._progress_checked[bid] = now
            async with self.sessions() as session:
                if not await rows_db.take_progress_turn(session, bid, now):
                    await session.rollback()
                    continue
                await session.commit()  # no write lock held while the API answers
                broadcast = await session.get(Broadcast, bid)
                staff = (
                    await session.get(Member, broadcast.created_by)
                    if broadcast and broadcast.created_by
                    else None
                )
                sender = self.senders.get(staff.channel) if staff else None
                if broadcast is None or staff is None or sender is None:
                    await session.commit()
                    continue
                text = progress_text(
                    self.translations.get(staff.locale), broadcast, await tally(session, bid)
                )
                await session.commit()
                message_id = await self._show(sender, staff, text, broadcast.progress_message_id)
                if message_id and message_id != broadcast.progress_message_id:
                    broadcast.progress_message_id = message_id
                await session.commit()

    async def _show(
        self, sender: Sender, staff: Member, text: str, message_id: str | None
    ) -> str | None:
        await self.pacers[sender.channel].acquire(staff.user_id)  # counts towards the limit
        try:
            return await sender.progress(staff.user_id, text, message_id)
        except RateLimited as exc:
            self.pacers[sender.channel].pause(exc.retry_after)
            return message_id
        except Exception as exc:  # progress is a courtesy: never stop the sending for it
            log.info("broadcast progress not shown: %s", exc)
            return message_id

    async def _finish(self) -> None:
        """Close broadcasts with no open row left and report to their author (once)."""
        now = self.clock()
        async with self.sessions() as session:
            for broadcast in await rows_db.close_finished(session, now):
                await report_to_author(session, broadcast, self.translations, now, self.senders)
            await session.commit()


# --- the simple outbox and the background tasks -------------------------------------------


# Channels no messenger process can deliver to: console members are reached only while a
# console (``coopbot chat``) is attached, and ``coopbot run`` never has one.
NOT_REACHABLE_WHEN_RUNNING = ("console",)


class Background:
    """The outbox loop and the broadcast engine of one channel, started and stopped together."""

    def __init__(self, conversation: Conversation, name: str) -> None:
        self.conversation = conversation
        self.name = name
        self.engine: DeliveryEngine | None = None
        self._tasks: list[asyncio.Task[Any]] = []

    def engine_for(self, sender: Sender, **options: Any) -> DeliveryEngine:
        conv = self.conversation
        return DeliveryEngine(
            conv.sessions, [sender], conv.translations, clock=conv.clock, **options
        )

    def start(
        self, deliver: Callable[[], Awaitable[int]], sender: Sender, interval: float = 2.0
    ) -> None:
        self.engine = self.engine_for(sender, skip_channels=NOT_REACHABLE_WHEN_RUNNING)
        self._tasks = [
            asyncio.create_task(self._loop(deliver, interval)),
            asyncio.create_task(self.engine.run()),
        ]

    async def _loop(self, deliver: Callable[[], Awaitable[int]], interval: float) -> None:
        while True:
            try:
                await deliver()
            except Exception:
                log.exception("%s outbox delivery failed", self.name)
            await asyncio.sleep(interval)

    async def stop(self) -> None:
        """Let the broadcast wave in flight finish (no row left "sending"), then stop."""
        if not self._tasks:
            return
        loop_task, engine_task = self._tasks
        loop_task.cancel()
        if self.engine is not None:
            self.engine.stop()
            try:
                await asyncio.wait_for(asyncio.shield(engine_task), timeout=10)
            except (TimeoutError, asyncio.CancelledError):
                pass
        engine_task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        self._tasks = []
