"""Queries about members: staff, links waiting for approval, finding a person or a cooperative."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import and_, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from db import cooperative_names
from db.cooperatives import normalize_code
from db.models import LINK_PENDING, ROLE_ADMIN, ROLE_STAFF, Cooperative, Member


async def staff_members(session: AsyncSession, admins: Collection[tuple[str, str]]) -> list[Member]:
    """Staff, and the admins listed in ``admins`` (``COOPBOT_ADMINS`` now).

    An admin taken off the list keeps the role in their row until they next write; they are no
    longer staff from the moment the list changes.
    """
    stmt = select(Member).where(Member.role == ROLE_STAFF)
    if admins:
        listed = tuple_(Member.channel, Member.user_id).in_(list(admins))
        stmt = select(Member).where(
            or_(Member.role == ROLE_STAFF, and_(Member.role == ROLE_ADMIN, listed))
        )
    return list((await session.execute(stmt.order_by(Member.id))).scalars())


async def members_with_user_id(
    session: AsyncSession, user_id: str, channel: str | None = None
) -> list[Member]:
    """Members whose id on their channel is ``user_id`` (on ``channel`` when given)."""
    stmt = select(Member).where(Member.user_id == user_id)
    if channel is not None:
        stmt = stmt.where(Member.channel == channel)
    return list((await session.execute(stmt.order_by(Member.id))).scalars())


async def pending_links(session: AsyncSession, limit: int = 20) -> list[tuple[Member, Cooperative]]:
    stmt = (
        select(Member, Cooperative)
        .join(Cooperative, Cooperative.id == Member.cooperative_id)
        .where(Member.link_status == LINK_PENDING)
        .order_by(Member.id)
        .limit(limit)
    )
    return [(m, c) for m, c in (await session.execute(stmt)).all()]


async def find_cooperatives(session: AsyncSession, text: str, limit: int = 5) -> list[Cooperative]:
    """Cooperatives whose code is ``text`` (the unique index), or whose name is close to it
    (the name index of :mod:`db.cooperative_names`: no scan of every name)."""
    text = text.strip()
    if not text:
        return []
    alive = Cooperative.status != "dissolved"
    codes = {text, normalize_code(text)}
    exact = await session.execute(select(Cooperative).where(Cooperative.code.in_(codes), alive))
    found = list(exact.scalars())
    if found:
        return found
    ids = await cooperative_names.search(session, text, limit)
    if not ids:
        return []
    rows = await session.execute(select(Cooperative).where(Cooperative.id.in_(ids), alive))
    by_id = {c.id: c for c in rows.scalars()}
    return [by_id[i] for i in ids if i in by_id]
