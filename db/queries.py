"""Queries shared by handlers and channels."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ROLE_ADMIN, ROLE_MEMBER, Member, SeenUpdate

LAST_SEEN_RESOLUTION = timedelta(minutes=5)


def _insert(session: AsyncSession, model: type[Any]) -> Any:
    """INSERT with ON CONFLICT support, for the session's database."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    return insert(model)


# Built once: it runs for every message.
_MEMBER = select(Member).where(
    Member.channel == bindparam("channel"), Member.user_id == bindparam("user_id")
)


async def get_member(session: AsyncSession, channel: str, user_id: str) -> Member | None:
    params = {"channel": channel, "user_id": user_id}
    return (await session.execute(_MEMBER, params)).scalar_one_or_none()


async def get_or_create_member(
    session: AsyncSession,
    channel: str,
    user_id: str,
    *,
    locale: str,
    now: datetime,
    display_name: str | None = None,
    is_admin: bool = False,
) -> tuple[Member, bool]:
    """Find the member, or create them; returns (member, created).

    Their role follows ``COOPBOT_ADMINS``: listed means admin, and an admin who is no longer
    listed becomes a plain member. A member who writes is reachable again.
    """
    member = await get_member(session, channel, user_id)
    created = False
    if member is None:
        # One INSERT that yields to a row another worker created meanwhile (no savepoint).
        values = dict(
            channel=channel,
            user_id=user_id,
            display_name=display_name,
            locale=locale,
            role=ROLE_ADMIN if is_admin else ROLE_MEMBER,
            opted_out=False,
            unreachable=False,
            created_at=now,
            last_seen_at=now,
        )
        stmt = (
            _insert(session, Member)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["channel", "user_id"])
            .returning(Member)
        )
        member = (await session.execute(stmt)).scalar_one_or_none()
        created = member is not None
        if member is None:  # created meanwhile by another worker
            member = await get_member(session, channel, user_id)
            assert member is not None
    if is_admin:
        member.role = ROLE_ADMIN
    elif member.role == ROLE_ADMIN:
        member.role = ROLE_MEMBER
    if display_name and member.display_name != display_name:
        member.display_name = display_name
    if member.unreachable:
        member.unreachable = False
    # Seen-at is for staff reports, not an audit trail: writing it at most every few minutes
    # saves an UPDATE on most messages.
    if member.last_seen_at is None or now - member.last_seen_at >= LAST_SEEN_RESOLUTION:
        member.last_seen_at = now
    return member, created


async def mark_unreachable(
    session: AsyncSession, channel: str, user_id: str, unreachable: bool = True
) -> None:
    await session.execute(
        update(Member)
        .where(Member.channel == channel, Member.user_id == user_id)
        .values(unreachable=unreachable)
    )


SEEN_KEEP = timedelta(days=3)


async def first_sight(session: AsyncSession, channel: str, update_id: str, now: datetime) -> bool:
    """Note that update ``update_id`` is being handled; False when it already was.

    Written in the transaction that handles the update: if handling fails, the update is not
    marked and a redelivery is handled again.
    """
    if len(update_id) > 96:
        update_id = hashlib.sha256(update_id.encode()).hexdigest()
    stmt = (
        _insert(session, SeenUpdate)
        .values(channel=channel, update_id=update_id, seen_at=now)
        .on_conflict_do_nothing(index_elements=["channel", "update_id"])
        .returning(SeenUpdate.update_id)
    )
    return (await session.execute(stmt)).first() is not None


async def prune_seen_updates(session: AsyncSession, now: datetime) -> int:
    """Forget updates handled more than :data:`SEEN_KEEP` ago; returns how many."""
    result = await session.execute(delete(SeenUpdate).where(SeenUpdate.seen_at < now - SEEN_KEEP))
    return result.rowcount or 0
