"""A worker's hold on broadcast rows: claiming a batch, marking a wave as being sent,
recording the outcome, renewing and recovering leases, closing finished broadcasts.

Claiming
    A worker claims a batch: on PostgreSQL with ``SELECT … FOR UPDATE SKIP LOCKED`` (several
    workers share one broadcast), on SQLite (one writer) with one ``UPDATE … WHERE id IN
    (SELECT … LIMIT n)`` that stamps a claim token. Every later write of the worker checks its
    token, so a row taken back from a worker presumed dead is never written by it again.

Leases
    ``claimed_at`` is the lease: renewed while the worker lives, and rows whose lease is
    older than :data:`db.broadcasts.LEASE` are taken back by any worker (:func:`recover`):
    ``claimed`` rows were never sent and go back to the queue; ``sending`` rows may or may not
    have arrived and are failed as ``interrupted`` (at most once) or re-queued (at least once).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.broadcasts import (
    CLAIMED,
    FAILED,
    OPEN_STATES,
    PROGRESS_EVERY,
    QUEUED,
    REASON_INTERRUPTED,
    SENDING,
    SENT,
    SKIPPED,
)
from db.models import (
    BROADCAST_CANCELLED,
    BROADCAST_DONE,
    BROADCAST_SENDING,
    Broadcast,
    Member,
    OutboxMessage,
)


@dataclass
class ClaimedRow:
    id: int
    broadcast_id: int
    user_id: str
    text: str
    buttons: list[list[list[str]]] | None
    attempts: int


def _mine(ids: Sequence[int], token: str, status: str = CLAIMED) -> Any:
    return and_(
        OutboxMessage.id.in_(list(ids)),
        OutboxMessage.claim_token == token,
        OutboxMessage.status == status,
    )


async def claim(
    session: AsyncSession,
    channel: str,
    token: str,
    now: datetime,
    limit: int,
    *,
    postgres: bool,
) -> tuple[list[ClaimedRow], int]:
    """Claim up to ``limit`` due rows of ``channel``; rows of members who turned notices off
    or blocked us since are skipped. Returns (rows to send, rows skipped). Commits."""
    due = select(OutboxMessage.id).where(
        OutboxMessage.status == QUEUED,
        OutboxMessage.broadcast_id.is_not(None),
        OutboxMessage.channel == channel,
        (OutboxMessage.next_attempt_at.is_(None)) | (OutboxMessage.next_attempt_at <= now),
    )
    due = due.order_by(OutboxMessage.id).limit(limit)
    stamp = update(OutboxMessage).values(status=CLAIMED, claim_token=token, claimed_at=now)
    if postgres:
        ids = list((await session.execute(due.with_for_update(skip_locked=True))).scalars())
        if not ids:
            await session.rollback()
            return [], 0
        stamp = stamp.where(OutboxMessage.id.in_(ids))
    else:
        stamp = stamp.where(OutboxMessage.id.in_(due.scalar_subquery()))
    await session.execute(stamp.execution_options(synchronize_session=False))
    stmt = (
        select(OutboxMessage, Member)
        .join(Member, Member.id == OutboxMessage.member_id)
        .where(OutboxMessage.claim_token == token, OutboxMessage.status == CLAIMED)
        .order_by(OutboxMessage.id)
    )
    rows: list[ClaimedRow] = []
    skipped: dict[str, list[int]] = {"opted_out": [], "unreachable": []}
    for row, member in (await session.execute(stmt)).all():
        if member.opted_out or member.unreachable:
            skipped["opted_out" if member.opted_out else "unreachable"].append(row.id)
            continue
        rows.append(
            ClaimedRow(
                row.id, row.broadcast_id, member.user_id, row.text, row.buttons, row.attempts
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
    return rows, sum(len(v) for v in skipped.values())


async def release(session: AsyncSession, ids: Sequence[int], token: str) -> None:
    """Put claimed rows back in the queue (the worker is stopping). Commits."""
    await session.execute(
        update(OutboxMessage)
        .where(_mine(ids, token))
        .values(status=QUEUED, claim_token=None)
        .execution_options(synchronize_session=False)
    )
    await session.commit()


async def mark_sending(
    session: AsyncSession, ids: Sequence[int], token: str, now: datetime
) -> set[int]:
    """Mark a wave as being sent (right before the API calls); the ids still ours. Commits."""
    result = await session.execute(
        update(OutboxMessage)
        .where(_mine(ids, token))
        .values(status=SENDING, claimed_at=now)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    marked = set(result.scalars())
    await session.commit()
    return marked


async def renew(session: AsyncSession, ids: Sequence[int], token: str, now: datetime) -> None:
    """Renew the lease on rows still claimed by ``token``. Commits."""
    await session.execute(
        update(OutboxMessage)
        .where(_mine(ids, token))
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.commit()


async def record_sent(session: AsyncSession, ids: Sequence[int], token: str, now: datetime) -> None:
    if ids:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(list(ids)), OutboxMessage.claim_token == token)
            .values(status=SENT, sent_at=now, attempts=OutboxMessage.attempts + 1, error=None)
            .execution_options(synchronize_session=False)
        )


async def record_row(
    session: AsyncSession, row_id: int, token: str, values: dict[str, Any]
) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.claim_token == token)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def mark_unreachable(session: AsyncSession, channel: str, user_id: str) -> None:
    await session.execute(
        update(Member)
        .where(Member.channel == channel, Member.user_id == user_id)
        .values(unreachable=True)
    )


async def recover(
    session: AsyncSession,
    channels: Sequence[str],
    cutoff: datetime,
    *,
    resend_uncertain: bool,
) -> tuple[int, int]:
    """Take back rows whose lease ended before ``cutoff``: claimed → queued; sending → failed
    ``interrupted`` (or queued with ``resend_uncertain``). Returns (requeued, uncertain).
    Commits."""
    stale = and_(
        OutboxMessage.broadcast_id.is_not(None),
        OutboxMessage.channel.in_(list(channels)),
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
        if resend_uncertain
        else {"status": FAILED, "error": REASON_INTERRUPTED}
    )
    uncertain = await session.execute(
        update(OutboxMessage)
        .where(stale, OutboxMessage.status == SENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    return requeued.rowcount, uncertain.rowcount  # type: ignore[attr-defined]


async def skip_channel(session: AsyncSession, channel: str, reason: str) -> int:
    """Skip the queued rows of a channel nobody here can deliver to; how many. Commits."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.broadcast_id.is_not(None),
            OutboxMessage.channel == channel,
            OutboxMessage.status == QUEUED,
        )
        .values(status=SKIPPED, error=reason, claim_token=None)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    return result.rowcount  # type: ignore[attr-defined, no-any-return]


async def take_progress_turn(session: AsyncSession, broadcast_id: int, now: datetime) -> bool:
    """True for the one worker that shows the progress now (at most every PROGRESS_EVERY)."""
    won = await session.execute(
        update(Broadcast)
        .where(
            Broadcast.id == broadcast_id,
            Broadcast.finished_at.is_(None),
            Broadcast.progress_at.is_(None) | (Broadcast.progress_at <= now - PROGRESS_EVERY),
        )
        .values(progress_at=now)
        .execution_options(synchronize_session=False)
    )
    return won.rowcount == 1  # type: ignore[attr-defined, no-any-return]


async def close_finished(session: AsyncSession, now: datetime) -> list[Broadcast]:
    """Close the started broadcasts with no open row left (each by one worker only); sending
    ones become done. The caller reports them and commits."""
    open_rows = exists().where(
        OutboxMessage.broadcast_id == Broadcast.id, OutboxMessage.status.in_(OPEN_STATES)
    )
    stmt = select(Broadcast.id).where(
        Broadcast.status.in_((BROADCAST_SENDING, BROADCAST_CANCELLED)),
        Broadcast.finished_at.is_(None),
        Broadcast.started_at.is_not(None),
        ~open_rows,
    )
    closed = []
    for bid in list((await session.execute(stmt)).scalars()):
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
        closed.append(broadcast)
    return closed
