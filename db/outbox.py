"""Messages to members other than the one being answered.

A handler enqueues them in its own transaction (so a notification exists exactly when the
action that caused it was committed); each channel delivers the pending rows of its members.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Member, OutboxMessage

PENDING, SENT, FAILED = "pending", "sent", "failed"
MAX_ATTEMPTS = 5


class _Button(Protocol):
    label: str
    action: str


class Message(Protocol):
    """What a row is made of (a ``Reply``, seen from the data floor): text and rows of
    buttons, each a label and an action."""

    text: str
    buttons: Sequence[Sequence[_Button]]


def enqueue(session: AsyncSession, member: Member, reply: Message, now: datetime) -> OutboxMessage:
    row = OutboxMessage(
        member_id=member.id,
        channel=member.channel,
        text=reply.text,
        buttons=[[[b.label, b.action] for b in row] for row in reply.buttons] or None,
        status=PENDING,
        attempts=0,
        created_at=now,
    )
    session.add(row)
    return row


async def pending(
    session: AsyncSession, channel: str, member_id: int | None = None, limit: int = 50
) -> list[tuple[OutboxMessage, Member]]:
    """Pending rows of ``channel`` (optionally one member's), oldest first, with the member."""
    stmt = (
        select(OutboxMessage, Member)
        .join(Member, Member.id == OutboxMessage.member_id)
        .where(OutboxMessage.channel == channel, OutboxMessage.status == PENDING)
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if member_id is not None:
        stmt = stmt.where(OutboxMessage.member_id == member_id)
    return [(row, member) for row, member in (await session.execute(stmt)).all()]


def mark_sent(row: OutboxMessage, now: datetime) -> None:
    row.status, row.sent_at, row.attempts = SENT, now, row.attempts + 1


def mark_failed(row: OutboxMessage, error: str, *, final: bool) -> None:
    """Count a failed attempt; after ``MAX_ATTEMPTS`` (or a ``final`` error) give up."""
    row.attempts += 1
    row.error = error[:255]
    if final or row.attempts >= MAX_ATTEMPTS:
        row.status = FAILED
