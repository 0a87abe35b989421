"""Broadcasts: who receives a notice, and the engine that delivers it.

Audience
    Everyone, or the members linked (approved) to active cooperatives of one sector, commune
    or kind, or to active cooperatives with no report for the latest report period. Members
    who turned notices off (/tatthongbao) or blocked the assistant are left out.

Rows
    One outbox row per recipient, with the broadcast's id. A row's life::

        queued → claimed (a worker's claim token) → sending → sent | failed (reason)
        queued | claimed → skipped (reason: cancelled, opted_out, unreachable)

    Broadcast rows start as ``queued``, never ``pending``, so the simple outbox
    (:mod:`db.outbox`, staff notifications) never picks them up.

Claiming
    A worker claims a batch: on PostgreSQL with ``SELECT … FOR UPDATE SKIP LOCKED`` (several
    workers share one broadcast), on SQLite (one writer) with one ``UPDATE … WHERE id IN
    (SELECT … LIMIT n)`` that stamps a claim token. Every later write of the worker checks its
    token, so a row taken back from a worker presumed dead is never written by it again.

Sending
    The pacer keeps to the channel's limits (Telegram: 30 messages in any second, 1 per chat
    per second). A row is committed as ``sending`` right before its API call and as ``sent``
    right after, in small waves. RetryAfter pauses the channel for the time asked and puts the
    row back; network errors put it back with exponential backoff (``MAX_ATTEMPTS``);
    Forbidden marks the member unreachable and fails the row; any other error fails it with
    the reason.

Crash and restart
    ``claimed`` rows were never sent: they go back to the queue. ``sending`` rows are the only
    uncertain ones (the API call may or may not have reached the user; Telegram has no
    idempotency key). Policy: at most once. They are failed with the reason ``interrupted``
    and counted in the final report ("may not have arrived"), because a duplicate notice
    cannot be taken back while a missing one can be re-sent by staff; ``resend_uncertain=True``
    chooses at least once instead. At most one wave (``max_wave`` rows) is uncertain per
    worker. A single worker (SQLite) recovers everything at start; with several workers rows
    are recovered once their claim is older than ``LEASE`` (claims are renewed while a worker
    lives).

Progress
    Staff see one message edited as sending goes (at most every ``PROGRESS_EVERY``), then a
    final report through the simple outbox: sent, failed by reason, skipped by reason.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Select, and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import outbox
from db.models import (
    BROADCAST_CANCELLED,
    BROADCAST_DONE,
    BROADCAST_SENDING,
    LINK_APPROVED,
    Broadcast,
    Cooperative,
    Member,
    OutboxMessage,
    Report,
    ReportPeriod,
)
from ground.messages import Reply

if TYPE_CHECKING:
    from ground.i18n import Translations, Translator

log = logging.getLogger("coopbot.broadcasts")

QUEUED, CLAIMED, SENDING, SENT, FAILED, SKIPPED = (
    "queued",
    "claimed",
    "sending",
    "sent",
    "failed",
    "skipped",
)
OPEN_STATES = (QUEUED, CLAIMED, SENDING)
AUDIENCES = ("all", "sector", "commune", "kind", "noreport")
MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=5)
PROGRESS_EVERY = timedelta(seconds=3)
REASON_INTERRUPTED = "interrupted"
GUARD = 0.03  # seconds added to the pacing window (see Pacer)

Sleep = Callable[[float], Awaitable[None]]


# --- audience ----------------------------------------------------------------------------


async def latest_period(session: AsyncSession) -> ReportPeriod | None:
    stmt = select(ReportPeriod).order_by(ReportPeriod.period.desc()).limit(1)
    return (await session.execute(stmt)).scalar_one_or_none()


def _audience(audience: str, value: str | None, period: str | None) -> Select[Any]:
    """Members of an audience, opt-outs and unreachable members included (callers filter)."""
    stmt = select(Member)
    if audience == "all":
        return stmt
    stmt = stmt.join(Cooperative, Cooperative.id == Member.cooperative_id).where(
        Member.link_status == LINK_APPROVED, Cooperative.status == "active"
    )
    if audience == "sector":
        return stmt.where(Cooperative.sector == (value or ""))
    if audience == "commune":
        return stmt.where(Cooperative.commune_code == int(value or 0))
    if audience == "kind":
        return stmt.where(Cooperative.kind == (value or ""))
    if audience == "noreport":
        if period is None:
            return stmt.where(False)
        submitted = exists().where(
            and_(Report.cooperative_id == Cooperative.id, Report.period == period)
        )
        return stmt.where(~submitted)
    raise ValueError(f"unknown audience {audience!r}")


@dataclass(frozen=True)
class AudienceSize:
    recipients: int
    opted_out: int
    unreachable: int


async def audience_size(session: AsyncSession, audience: str, value: str | None) -> AudienceSize:
    period = await latest_period(session)
    sub = _audience(audience, value, period.period if period else None).subquery()
    stmt = select(
        func.count(),
        func.count().filter(sub.c.opted_out.is_(True)),
        func.count().filter(sub.c.opted_out.is_(False), sub.c.unreachable.is_(True)),
    ).select_from(sub)
    total, opted, unreachable = (await session.execute(stmt)).one()
    return AudienceSize(total - opted - unreachable, opted, unreachable)


async def audience_members(session: AsyncSession, audience: str, value: str | None) -> list[Member]:
    """The members a broadcast goes to now: not opted out, not known to have blocked us."""
    period = await latest_period(session)
    stmt = _audience(audience, value, period.period if period else None).where(
        Member.opted_out.is_(False), Member.unreachable.is_(False)
    )
    return list((await session.execute(stmt.order_by(Member.id))).scalars())


async def enqueue_rows(
    session: AsyncSession,
    broadcast: Broadcast,
    members: Sequence[Member],
    render: Callable[[Member], Reply],
    now: datetime,
) -> int:
    """One queued row per member (bulk insert); returns how many."""
    rows = []
    for member in members:
        reply = render(member)
        rows.append(
            {
                "member_id": member.id,
                "channel": member.channel,
                "text": reply.text,
                "buttons": [[[b.label, b.action] for b in r] for r in reply.buttons] or None,
                "status": QUEUED,
                "attempts": 0,
                "created_at": now,
                "broadcast_id": broadcast.id,
            }
        )
    for start in range(0, len(rows), 1000):
        await session.execute(OutboxMessage.__table__.insert(), rows[start : start + 1000])
    broadcast.total = len(rows)
    return len(rows)


# --- counts, cancel, reports -------------------------------------------------------------


@dataclass
class Tally:
    total: int = 0
    sent: int = 0
    open: int = 0
    failed: Counter[str] | None = None
    skipped: Counter[str] | None = None

    @property
    def failed_count(self) -> int:
        return sum((self.failed or Counter()).values())

    @property
    def skipped_count(self) -> int:
        return sum((self.skipped or Counter()).values())


def _reason(error: str | None) -> str:
    return (error or "error").split(":", 1)[0]


async def tally(session: AsyncSession, broadcast_id: int) -> Tally:
    stmt = (
        select(OutboxMessage.status, OutboxMessage.error, func.count())
        .where(OutboxMessage.broadcast_id == broadcast_id)
        .group_by(OutboxMessage.status, OutboxMessage.error)
    )
    result = Tally(failed=Counter(), skipped=Counter())
    for status, error, n in (await session.execute(stmt)).all():
        result.total += n
        if status == SENT:
            result.sent += n
        elif status == FAILED:
            result.failed[_reason(error)] += n  # type: ignore[index]
        elif status == SKIPPED:
            result.skipped[_reason(error)] += n  # type: ignore[index]
        else:
            result.open += n
    return result


async def cancel(session: AsyncSession, broadcast: Broadcast, now: datetime) -> int:
    """Stop a broadcast: rows not yet being sent are skipped; returns how many."""
    broadcast.status = BROADCAST_CANCELLED
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.broadcast_id == broadcast.id, OutboxMessage.status.in_((QUEUED, CLAIMED))
        )
        .values(status=SKIPPED, error="cancelled", claim_token=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined, no-any-return]


def reason_label(t: Translator, reason: str) -> str:
    from ground.i18n import N_

    labels = {
        "blocked": N_("đã chặn trợ lý"),
        REASON_INTERRUPTED: N_("gián đoạn khi đang gửi, có thể chưa nhận được"),
        "timeout": N_("quá thời gian chờ, có thể chưa nhận được"),
        "network": N_("lỗi mạng nhiều lần"),
        "cancelled": N_("đã huỷ"),
        "opted_out": N_("đã tắt thông báo"),
        "unreachable": N_("không liên lạc được"),
    }
    return t.t(labels[reason]) if reason in labels else reason


def progress_text(t: Translator, broadcast: Broadcast, counts: Tally) -> str:
    text = t.t(
        "Thông báo #{id}: đã gửi {sent}/{total}",
        id=broadcast.id,
        sent=t.number(counts.sent),
        total=t.number(counts.total),
    )
    if counts.failed_count:
        text += t.t(", lỗi {n}", n=t.number(counts.failed_count))
    return text


def final_report(t: Translator, broadcast: Broadcast, counts: Tally) -> str:
    if broadcast.status == BROADCAST_CANCELLED:
        head = t.t("Thông báo #{id} đã dừng theo yêu cầu.", id=broadcast.id)
    else:
        head = t.t("Thông báo #{id} đã gửi xong.", id=broadcast.id)
    lines = [
        head,
        t.t(
            "Đã gửi: {sent}/{total}",
            sent=t.number(counts.sent),
            total=t.number(counts.total),
        ),
    ]
    for title, found in ((t.t("Lỗi"), counts.failed), (t.t("Bỏ qua"), counts.skipped)):
        if found:
            lines.append(f"{title}: {t.number(sum(found.values()))}")
            for reason, n in found.most_common():
                lines.append(f"  • {reason_label(t, reason)}: {t.number(n)}")
    return "\n".join(lines)


# --- the channel side --------------------------------------------------------------------


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


class Pacer:
    """At most ``per_second`` messages in any one-second window, ``per_chat_interval``
    between two messages to one chat, and a pause when the channel asks for one."""

    def __init__(
        self,
        per_second: float,
        per_chat_interval: float,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limit = max(1, int(per_second))
        # A send leaves the window a little later than one second after it was paced, so that
        # jitter between here and the API (a commit, the network) never makes the API count
        # one message too many in a second (which costs a 429 and a pause).
        self.window = 1.0 + GUARD
        # ... and sends are spread evenly (a token bucket holding at most 1/20 s of sends):
        # a burst of a whole second's worth would reach the API bunched by jitter.
        self.interval = self.window / self.limit
        self.burst = max(1.0, self.limit / 20)
        self._tokens = self.burst
        self._filled_at = monotonic()
        self.per_chat_interval = per_chat_interval
        self._window: deque[float] = deque()
        self._chats: dict[str, float] = {}
        self._paused_until = 0.0
        self._monotonic = monotonic
        self._sleep = sleep

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._monotonic() + seconds)

    def _wait(self, chat: str) -> float:
        now = self._monotonic()
        while self._window and self._window[0] <= now - self.window:
            self._window.popleft()
        self._tokens = min(self.burst, self._tokens + (now - self._filled_at) / self.interval)
        self._filled_at = now
        wait = max(0.0, self._paused_until - now, self._chats.get(chat, 0.0) - now)
        if self._tokens < 1.0:
            wait = max(wait, (1.0 - self._tokens) * self.interval)
        if len(self._window) >= self.limit:
            wait = max(wait, self._window[0] + self.window - now)
        return wait

    def try_acquire(self, chat: str) -> bool:
        if self._wait(chat) > 0:
            return False
        now = self._monotonic()
        self._tokens -= 1.0
        self._window.append(now)
        if self.per_chat_interval:
            if len(self._chats) > 20000:
                self._chats = {k: v for k, v in self._chats.items() if v > now}
            self._chats[chat] = now + self.per_chat_interval
        return True

    async def acquire(self, chat: str) -> None:
        while not self.try_acquire(chat):
            await self._sleep(max(self._wait(chat), 0.001))


# --- the engine --------------------------------------------------------------------------


@dataclass
class _Row:
    id: int
    broadcast_id: int
    user_id: str
    reply: Reply
    attempts: int


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
    ) -> None:
        self.sessions = sessions
        self.senders = {s.channel: s for s in senders}
        self.translations = translations
        self.clock = clock
        self.sleep = sleep
        self.batch = batch
        self.max_wave = max_wave
        self.resend_uncertain = resend_uncertain
        self.pacers = {
            s.channel: Pacer(s.per_second, s.per_chat_interval, monotonic, sleep) for s in senders
        }
        dialect = sessions.kw["bind"].dialect.name if "bind" in sessions.kw else "sqlite"
        self.postgres = dialect == "postgresql"
        self.single_worker = (not self.postgres) if single_worker is None else single_worker
        self.token = secrets.token_hex(8)
        self._stop = asyncio.Event()
        self._recovered = False
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
        """Recover (once), claim one batch per channel and send it; finish broadcasts."""
        if not self._recovered:
            await self.recover()
            self._recovered = True
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
        cutoff = self.clock() - lease
        channels = list(self.senders)
        async with self.sessions() as session:
            stale = and_(
                OutboxMessage.broadcast_id.is_not(None),
                OutboxMessage.channel.in_(channels),
                OutboxMessage.claimed_at <= cutoff,
            )
            requeued = await session.execute(
                update(OutboxMessage)
                .where(stale, OutboxMessage.status == CLAIMED)
                .values(status=QUEUED, claim_token=None)
                .execution_options(synchronize_session=False)
            )
            values: dict[str, Any] = (
                {"status": QUEUED, "claim_token": None}
                if self.resend_uncertain
                else {"status": FAILED, "error": REASON_INTERRUPTED}
            )
            uncertain = await session.execute(
                update(OutboxMessage)
                .where(stale, OutboxMessage.status == SENDING)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        counts = (requeued.rowcount, uncertain.rowcount)  # type: ignore[attr-defined]
        if any(counts):
            log.warning("broadcast rows recovered: %s requeued, %s uncertain", *counts)
        self.stats["uncertain"] += counts[1]
        return counts

    # claiming

    async def _claim(self, channel: str) -> list[_Row]:
        now = self.clock()
        due = select(OutboxMessage.id).where(
            OutboxMessage.status == QUEUED,
            OutboxMessage.broadcast_id.is_not(None),
            OutboxMessage.channel == channel,
            (OutboxMessage.next_attempt_at.is_(None)) | (OutboxMessage.next_attempt_at <= now),
        )
        due = due.order_by(OutboxMessage.id).limit(self.batch)
        claim = update(OutboxMessage).values(status=CLAIMED, claim_token=self.token, claimed_at=now)
        async with self.sessions() as session:
            if self.postgres:
                ids = list((await session.execute(due.with_for_update(skip_locked=True))).scalars())
                if not ids:
                    await session.rollback()
                    return []
                claim = claim.where(OutboxMessage.id.in_(ids))
            else:
                claim = claim.where(OutboxMessage.id.in_(due.scalar_subquery()))
            await session.execute(claim.execution_options(synchronize_session=False))
            stmt = (
                select(OutboxMessage, Member)
                .join(Member, Member.id == OutboxMessage.member_id)
                .where(OutboxMessage.claim_token == self.token, OutboxMessage.status == CLAIMED)
                .order_by(OutboxMessage.id)
            )
            rows: list[_Row] = []
            skipped: dict[str, list[int]] = {"opted_out": [], "unreachable": []}
            for row, member in (await session.execute(stmt)).all():
                if member.opted_out or member.unreachable:
                    skipped["opted_out" if member.opted_out else "unreachable"].append(row.id)
                    continue
                rows.append(
                    _Row(
                        row.id, row.broadcast_id, member.user_id, outbox.as_reply(row), row.attempts
                    )
                )
            for reason, ids in skipped.items():
                if ids:
                    await session.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.id.in_(ids))
                        .values(status=SKIPPED, error=reason, claim_token=None)
                        .execution_options(synchronize_session=False)
                    )
            await session.commit()
        self.stats["skipped"] += sum(len(v) for v in skipped.values())
        return rows

    async def _release(self, rows: Sequence[_Row]) -> None:
        async with self.sessions() as session:
            await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_([r.id for r in rows]),
                    OutboxMessage.claim_token == self.token,
                    OutboxMessage.status == CLAIMED,
                )
                .values(status=QUEUED, claim_token=None)
                .execution_options(synchronize_session=False)
            )
            await session.commit()

    # sending

    async def _send_batch(self, channel: str, rows: list[_Row]) -> int:
        sender, pacer = self.senders[channel], self.pacers[channel]
        handled, i, renewed = 0, 0, self.clock()
        while i < len(rows):
            if self._stop.is_set():
                await self._release(rows[i:])
                break
            await pacer.acquire(rows[i].user_id)
            wave = [rows[i]]
            i += 1
            while (
                i < len(rows) and len(wave) < self.max_wave and pacer.try_acquire(rows[i].user_id)
            ):
                wave.append(rows[i])
                i += 1
            wave = await self._mark_sending(wave)
            if wave:
                results = await asyncio.gather(*(self._send_one(sender, r) for r in wave))
                await self._record(channel, wave, results)
                handled += len(wave)
                await self._progress({r.broadcast_id for r in wave})
            if self.clock() - renewed > LEASE / 4 and i < len(rows):
                renewed = self.clock()
                await self._renew(rows[i:])
        return handled

    async def _mark_sending(self, wave: list[_Row]) -> list[_Row]:
        async with self.sessions() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_([r.id for r in wave]),
                    OutboxMessage.claim_token == self.token,
                    OutboxMessage.status == CLAIMED,
                )
                .values(status=SENDING, claimed_at=self.clock())
                .returning(OutboxMessage.id)
                .execution_options(synchronize_session=False)
            )
            marked = set(result.scalars())
            await session.commit()
        return [r for r in wave if r.id in marked]

    async def _renew(self, rows: Sequence[_Row]) -> None:
        async with self.sessions() as session:
            await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_([r.id for r in rows]),
                    OutboxMessage.claim_token == self.token,
                    OutboxMessage.status == CLAIMED,
                )
                .values(claimed_at=self.clock())
                .execution_options(synchronize_session=False)
            )
            await session.commit()

    async def _send_one(self, sender: Sender, row: _Row) -> BaseException | None:
        try:
            await sender.send(row.user_id, row.reply)
        except Exception as exc:
            return exc
        return None

    async def _record(
        self, channel: str, wave: list[_Row], results: list[BaseException | None]
    ) -> None:
        now = self.clock()
        mine = OutboxMessage.claim_token == self.token
        sent = [r.id for r, exc in zip(wave, results, strict=True) if exc is None]
        async with self.sessions() as session:
            if sent:
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(sent), mine)
                    .values(
                        status=SENT, sent_at=now, attempts=OutboxMessage.attempts + 1, error=None
                    )
                    .execution_options(synchronize_session=False)
                )
                self.stats["sent"] += len(sent)
            for row, exc in zip(wave, results, strict=True):
                if exc is None:
                    continue
                values = self._after_failure(channel, row, exc, now)
                if isinstance(exc, Blocked):
                    await session.execute(
                        update(Member)
                        .where(Member.channel == channel, Member.user_id == row.user_id)
                        .values(unreachable=True)
                    )
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row.id, mine)
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
            await session.commit()

    def _after_failure(
        self, channel: str, row: _Row, exc: BaseException, now: datetime
    ) -> dict[str, Any]:
        """The row's new values after ``exc``."""
        requeue = {"status": QUEUED, "claim_token": None}
        if isinstance(exc, RateLimited):
            self.pacers[channel].pause(exc.retry_after)
            self.stats["rate_limited"] += 1
            return requeue
        detail = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, Blocked):
            self.stats["blocked"] += 1
            return {
                "status": FAILED,
                "error": f"blocked: {exc}"[:255],
                "attempts": row.attempts + 1,
            }
        if isinstance(exc, Uncertain):
            self.stats["failed"] += 1
            return {
                "status": FAILED,
                "error": f"timeout: {exc}"[:255],
                "attempts": row.attempts + 1,
            }
        if isinstance(exc, Transient):
            attempts = row.attempts + 1
            if attempts >= MAX_ATTEMPTS:
                self.stats["failed"] += 1
                return {"status": FAILED, "error": f"network: {exc}"[:255], "attempts": attempts}
            self.stats["retried"] += 1
            backoff = timedelta(seconds=min(300, 2 ** (attempts - 1) * 5))
            return {**requeue, "attempts": attempts, "next_attempt_at": now + backoff,
                    "error": detail[:255]}  # fmt: skip
        log.warning("broadcast row %s failed: %s", row.id, detail)
        self.stats["failed"] += 1
        return {"status": FAILED, "error": detail[:255], "attempts": row.attempts + 1}

    # progress and the end

    async def _progress(self, broadcast_ids: set[int]) -> None:
        now = self.clock()
        for bid in broadcast_ids:
            async with self.sessions() as session:
                won = await session.execute(
                    update(Broadcast)
                    .where(
                        Broadcast.id == bid,
                        Broadcast.finished_at.is_(None),
                        Broadcast.progress_at.is_(None)
                        | (Broadcast.progress_at <= now - PROGRESS_EVERY),
                    )
                    .values(progress_at=now)
                    .execution_options(synchronize_session=False)
                )
                if won.rowcount != 1:  # type: ignore[attr-defined]
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
        open_rows = exists().where(
            OutboxMessage.broadcast_id == Broadcast.id, OutboxMessage.status.in_(OPEN_STATES)
        )
        async with self.sessions() as session:
            stmt = select(Broadcast.id).where(
                Broadcast.status.in_((BROADCAST_SENDING, BROADCAST_CANCELLED)),
                Broadcast.finished_at.is_(None),
                Broadcast.started_at.is_not(None),
                ~open_rows,
            )
            ids = list((await session.execute(stmt)).scalars())
            for bid in ids:
                won = await session.execute(
                    update(Broadcast)
                    .where(Broadcast.id == bid, Broadcast.finished_at.is_(None))
                    .values(finished_at=now)
                    .execution_options(synchronize_session=False)
                )
                if won.rowcount != 1:  # type: ignore[attr-defined]
                    continue
                broadcast = await session.get(Broadcast, bid)
                assert broadcast is not None
                await session.refresh(broadcast)
                if broadcast.status == BROADCAST_SENDING:
                    broadcast.status = BROADCAST_DONE
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
