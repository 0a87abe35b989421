"""What every messenger channel does with messages that are not replies: deliver the pending
notification rows of the outbox, and run the broadcast delivery engine with its sender.

The engine
    claims a batch of a channel's broadcast rows (:mod:`db.broadcast_rows`), keeps to the
    channel's limits (:mod:`bot.channels.pacing`), commits a wave as ``sending`` right before
    its API calls and as ``sent`` right after. RetryAfter pauses the channel for the time asked
    and puts the row back; network errors put it back with exponential backoff
    (``MAX_ATTEMPTS``); Forbidden marks the member unreachable and fails the row; a time-out
    fails it as "may not have arrived"; any other error fails it with the reason.

Crash and restart
    ``claimed`` rows were never sent: they go back to the queue. ``sending`` rows are the only
    uncertain ones (the API call may or may not have reached the user; Telegram has no
    idempotency key). Policy: at most once. They are failed with the reason ``interrupted``
    and counted in the final report ("may not have arrived"), because a duplicate notice
    cannot be taken back while a missing one can be re-sent by staff; ``resend_uncertain=True``
    chooses at least once instead. At most one wave (``max_wave`` rows) is uncertain per
    worker. A single worker (SQLite) recovers everything at start; with several workers rows
    are recovered once their lease is older than ``LEASE`` (leases are renewed while a worker
    lives), and every running worker looks for such rows every ``RECOVER_EVERY``: a worker
    killed with ``kill -9`` leaves nothing behind for longer than a lease and a minute.

Channels nobody delivers to
    ``skip_channels`` are channels no process can deliver to while this one runs (the
    console, when the assistant runs on Telegram and Zalo): their rows are skipped with the
    reason ``no_channel``, so every broadcast ends and its author gets the final report.

Progress
    Staff see one message edited as sending goes (at most every ``PROGRESS_EVERY``), then a
    final report through the simple outbox: sent, failed by reason, skipped by reason.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.pacing import GUARD, Pacer, Sleep
from db import broadcast_rows as rows_db
from db import outbox
from db.broadcast_rows import ClaimedRow
from db.broadcasts import FAILED, LEASE, MAX_ATTEMPTS, QUEUED, REASON_NO_CHANNEL, tally
from db.models import Broadcast, Member
from ground.i18n import Translations
from ground.messages import Button, Reply
from handlers.core import Conversation
from operations.broadcast_texts import final_report, progress_text

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

Send = Callable[[Member, Reply], Awaitable[None]]
RECOVER_EVERY = timedelta(minutes=1)


# --- what a channel's sender raises ------------------------------------------------------


class Blocked(Exception):
    """The member blocked the assistant (Telegram: Forbidden)."""


class RateLimited(Exception):
    """The channel asks to wait ``retry_after`` seconds (Telegram: 429 RetryAfter)."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


class Transient(Exception):
    """A network error: the message did not arrive; try again later."""


class Uncertain(Exception):
    """The call timed out: the message may have arrived. Not retried (at most once)."""


class Sender(Protocol):
    """What a channel gives the engine."""

    channel: str
    per_second: float  # messages per second overall
    per_chat_interval: float  # seconds between two messages to one chat

    async def send(self, user_id: str, reply: Reply) -> None:
        """Send one message; raise Blocked, RateLimited, Transient or Uncertain (any other
        exception fails the row with its text)."""

    async def progress(self, user_id: str, text: str, message_id: str | None) -> str | None:
        """Show or edit (``message_id``) a staff progress message; its id, when editable."""


def reply_of(text: str, buttons: Sequence[Sequence[Sequence[str]]] | None) -> Reply:
    """A stored message (text, rows of [label, action]) as a :class:`Reply` to send."""
    rows = tuple(tuple(Button(label, action) for label, action in r) for r in buttons or [])
    return Reply(text, rows)


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
        batch: int = 200,
        max_wave: int = 50,
        resend_uncertain: bool = False,
        single_worker: bool | None = None,
        skip_channels: Collection[str] = (),
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

    # lifecycle

    def stop(self) -> None:
        """Finish the wave in flight, put the rest of the batch back, and return."""
        self._stop.set()

    async def run(self, idle: float = 1.0) -> None:
        """Deliver until :meth:`stop`; sleeps ``idle`` seconds (really) when there is no work."""
        while not self._stop.is_set():
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("broadcast delivery failed")
                handled = 0
            if not handled:
                try:
                    await asyncio.wait_for(self._stop.wait(), timeout=idle)
                except TimeoutError:
                    pass

    async def drain(self) -> int:
        """Run until no row is due (tests, the benchmark, the CLI); returns rows handled."""
        total = 0
        while not self._stop.is_set() and (handled := await self.run_once()):
            total += handled
        return total

    async def run_once(self) -> int:
        """Recover expired leases (at start, then every ``RECOVER_EVERY``), claim one batch
        per channel and send it; finish broadcasts."""
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
        await self._finish()
        return handled

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
        async with self.sessions() as session:
            rows, skipped = await rows_db.claim(
                session, channel, self.token, self.clock(), self.batch, postgres=self.postgres
            )
        self.stats["skipped"] += skipped
        return rows

    async def _send_batch(self, channel: str, rows: list[ClaimedRow]) -> int:
        sender, pacer = self.senders[channel], self.pacers[channel]
        handled, i, renewed = 0, 0, self.clock()
        while i < len(rows):
            if self._stop.is_set():
                async with self.sessions() as session:
                    await rows_db.release(session, [r.id for r in rows[i:]], self.token)
                break
            await pacer.acquire(rows[i].user_id)
            wave = [rows[i]]
            i += 1
            while (
                i < len(rows) and len(wave) < self.max_wave and pacer.try_acquire(rows[i].user_id)
            ):
                wave.append(rows[i])
                i += 1
            async with self.sessions() as session:
                marked = await rows_db.mark_sending(
                    session, [r.id for r in wave], self.token, self.clock()
                )
            wave = [r for r in wave if r.id in marked]
            if wave:
                results = await asyncio.gather(*(self._send_one(sender, r) for r in wave))
                await self._record(channel, wave, results)
                handled += len(wave)
                await self._progress({r.broadcast_id for r in wave})
            if self.clock() - renewed > LEASE / 4 and i < len(rows):
                renewed = self.clock()
                async with self.sessions() as session:
                    await rows_db.renew(session, [r.id for r in rows[i:]], self.token, renewed)
        return handled

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
            async with self.sessions() as session:
                if not await rows_db.take_progress_turn(session, bid, now):
                    await session.rollback()
                    continue
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


async def report_to_author(
    session: AsyncSession,
    broadcast: Broadcast,
    translations: Translations,
    now: datetime,
    senders: dict[str, Sender] | None = None,
) -> None:
    """The final report, through the simple outbox; the progress message shows the total."""
    staff = await session.get(Member, broadcast.created_by) if broadcast.created_by else None
    if staff is None:
        return
    t = translations.get(staff.locale)
    counts = await tally(session, broadcast.id)
    sender = (senders or {}).get(staff.channel)
    if sender is not None and broadcast.progress_message_id:
        try:
            await sender.progress(
                staff.user_id, progress_text(t, broadcast, counts), broadcast.progress_message_id
            )
        except Exception as exc:
            log.info("broadcast progress not shown: %s", exc)
    outbox.enqueue(session, staff, Reply(final_report(t, broadcast, counts)), now)


# --- the simple outbox and the background tasks -------------------------------------------


async def deliver_pending(
    conversation: Conversation,
    channel: str,
    send: Send,
    *,
    blocked: type[Exception],
    errors: type[Exception],
    limit: int = 30,
) -> int:
    """Send ``channel``'s pending outbox rows once; returns how many were sent.

    ``blocked`` (the member blocked the bot) fails the row for good and marks the member
    unreachable; ``errors`` count a failed attempt. Each row is committed on its own, so a
    crash never re-sends what was sent."""
    sent = 0
    async with conversation.sessions() as session:
        for row, member in await outbox.pending(session, channel, limit=limit):
            try:
                await send(member, reply_of(row.text, row.buttons))
            except blocked as exc:
                outbox.mark_failed(row, f"{type(exc).__name__}: {exc}", final=True)
                member.unreachable = True
            except errors as exc:
                outbox.mark_failed(row, f"{type(exc).__name__}: {exc}", final=False)
            else:
                outbox.mark_sent(row, conversation.clock())
                sent += 1
            await session.commit()
    return sent


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
