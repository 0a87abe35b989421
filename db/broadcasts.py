"""Broadcasts in the database: who receives a notice, its rows, their tally, cancelling.

Audience
    Everyone, or the members linked (approved) to active cooperatives of one sector, commune
    or kind, or to active cooperatives with no report for the latest report period. Members
    who turned notices off (/tatthongbao) or blocked the assistant are left out, and so is the
    staff member who wrote the notice.

Rows
    One outbox row per recipient, with the broadcast's id. A row's life::

        queued → claimed (a worker's claim token) → sending → sent | failed (reason)
        queued | claimed → skipped (reason: cancelled, opted_out, unreachable, no_channel)

    Broadcast rows start as ``queued``, never ``pending``, so the simple outbox
    (:mod:`db.outbox`, staff notifications) never picks them up. Claiming, leases and
    recovery are in :mod:`db.broadcast_rows`; the engine that sends them is
    :mod:`bot.channels.delivery`; the wording is :mod:`operations.broadcast_texts`.

This module holds data only: no wording, no message types.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    BROADCAST_CANCELLED,
    BROADCAST_SCHEDULED,
    BROADCAST_SENDING,
    LINK_APPROVED,
    Broadcast,
    Cooperative,
    Member,
    OutboxMessage,
    Report,
    ReportPeriod,
)
from db.outbox import Message

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
REASON_NO_CHANNEL = "no_channel"


# --- audience ----------------------------------------------------------------------------


async def latest_period(session: AsyncSession) -> ReportPeriod | None:
    stmt = select(ReportPeriod).order_by(ReportPeriod.period.desc()).limit(1)
    return (await session.execute(stmt)).scalar_one_or_none()


def _audience(
    audience: str, value: str | None, period: str | None, exclude: int | None
) -> Select[Any]:
    """Members of an audience, opt-outs and unreachable members included (callers filter)."""
    stmt = select(Member)
    if exclude is not None:
        stmt = stmt.where(Member.id != exclude)
    if audience == "all":
        return stmt
    stmt = stmt.join(Cooperative, Cooperative.id == Member.cooperative_id).where(
        Member.link_status == LINK_APPROVED, Cooperative.status == "active"
    )
    if audience == "sector":
        return stmt.where(Cooperative.sector == (value or ""))
    if audience == "commune":
        v = value or ""
        code = int(v) if v.isascii() and v.isdigit() and len(v) <= 9 else -1
        return stmt.where(Cooperative.commune_code == code)
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


async def audience_size(
    session: AsyncSession, audience: str, value: str | None, exclude: int | None = None
) -> AudienceSize:
    """How many members an audience reaches now (``exclude``: the author, never counted)."""
    period = await latest_period(session)
    sub = _audience(audience, value, period.period if period else None, exclude).subquery()
    stmt = select(
        func.count(),
        func.count().filter(sub.c.opted_out.is_(True)),
        func.count().filter(sub.c.opted_out.is_(False), sub.c.unreachable.is_(True)),
    ).select_from(sub)
    total, opted, unreachable = (await session.execute(stmt)).one()
    return AudienceSize(total - opted - unreachable, opted, unreachable)


async def audience_members(
    session: AsyncSession, audience: str, value: str | None, exclude: int | None = None
) -> list[Member]:
    """The members a broadcast goes to now: not opted out, not known to have blocked us, not
    ``exclude`` (the author)."""
    period = await latest_period(session)
    stmt = _audience(audience, value, period.period if period else None, exclude).where(
        Member.opted_out.is_(False), Member.unreachable.is_(False)
    )
    return list((await session.execute(stmt.order_by(Member.id))).scalars())


async def commune_names(session: AsyncSession, limit: int = 40) -> list[tuple[int, str]]:
    """(code, name) of the communes with an active cooperative, by name."""
    stmt = (
        select(Cooperative.commune_code, Cooperative.commune)
        .where(Cooperative.status == "active")
        .distinct()
        .order_by(Cooperative.commune)
        .limit(limit)
    )
    return [(code, name) for code, name in (await session.execute(stmt)).all()]


async def commune_name(session: AsyncSession, code: int) -> str | None:
    stmt = select(Cooperative.commune).where(Cooperative.commune_code == code).limit(1)
    return (await session.execute(stmt)).scalar_one_or_none()


# --- rows --------------------------------------------------------------------------------


async def enqueue_rows(
    session: AsyncSession,
    broadcast: Broadcast,
    members: Sequence[Member],
    render: Callable[[Member], Message],
    now: datetime,
) -> int:
    """One queued row per member (bulk insert); returns how many."""
    rows = []
    for member in members:
        message = render(member)
        rows.append(
            {
                "member_id": member.id,
                "channel": member.channel,
                "text": message.text,
                "buttons": [[[b.label, b.action] for b in r] for r in message.buttons] or None,
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


# --- counts, cancel ----------------------------------------------------------------------


@dataclass
class Tally:
    total: int = 0
    sent: int = 0
    open: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def failed_count(self) -> int:
        return sum(self.failed.values())

    @property
    def skipped_count(self) -> int:
        return sum(self.skipped.values())


def _reason(error: str | None) -> str:
    return (error or "error").split(":", 1)[0]


async def tally(session: AsyncSession, broadcast_id: int) -> Tally:
    stmt = (
        select(OutboxMessage.status, OutboxMessage.error, func.count())
        .where(OutboxMessage.broadcast_id == broadcast_id)
        .group_by(OutboxMessage.status, OutboxMessage.error)
    )
    result = Tally()
    for status, error, n in (await session.execute(stmt)).all():
        result.total += n
        if status == SENT:
            result.sent += n
        elif status == FAILED:
            result.failed[_reason(error)] += n
        elif status == SKIPPED:
            result.skipped[_reason(error)] += n
        else:
            result.open += n
    return result


async def cancel(session: AsyncSession, broadcast: Broadcast, now: datetime) -> int:
    """Stop a broadcast: rows not yet being sent are skipped; returns how many. A scheduled
    broadcast (no rows yet) is closed at once."""
    was_scheduled = broadcast.status == BROADCAST_SCHEDULED
    broadcast.status = BROADCAST_CANCELLED
    if was_scheduled:
        broadcast.finished_at = now
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.broadcast_id == broadcast.id, OutboxMessage.status.in_((QUEUED, CLAIMED))
        )
        .values(status=SKIPPED, error="cancelled", claim_token=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined, no-any-return]


def is_active(broadcast: Broadcast) -> bool:
    """Sending or waiting for its time (and not finished)."""
    return broadcast.finished_at is None and broadcast.status in (
        BROADCAST_SENDING,
        BROADCAST_SCHEDULED,
    )


async def latest_active(session: AsyncSession) -> Broadcast | None:
    stmt = (
        select(Broadcast)
        .where(Broadcast.status.in_((BROADCAST_SENDING, BROADCAST_SCHEDULED)))
        .where(Broadcast.finished_at.is_(None))
        .order_by(Broadcast.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def due_scheduled(session: AsyncSession, now: datetime) -> list[int]:
    stmt = select(Broadcast.id).where(
        Broadcast.status == BROADCAST_SCHEDULED, Broadcast.scheduled_at <= now
    )
    return list((await session.execute(stmt.order_by(Broadcast.id))).scalars())


async def take_scheduled(session: AsyncSession, broadcast_id: int, now: datetime) -> bool:
    """Move a scheduled broadcast to sending; False when another worker already did."""
    won = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.status == BROADCAST_SCHEDULED)
        .values(status=BROADCAST_SENDING, started_at=now)
        .execution_options(synchronize_session=False)
    )
    return won.rowcount == 1  # type: ignore[attr-defined, no-any-return]
