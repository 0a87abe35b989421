"""Queries about members: staff, links waiting for approval, finding a person or a cooperative."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import and_, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import LINK_PENDING, ROLE_ADMIN, ROLE_STAFF, Cooperative, Member
from knowledge.normalize import fold


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
    """Cooperatives whose code is ``text``, or whose name is close to it."""
    from rapidfuzz import fuzz, process

    text = text.strip()
    coops = list(
        (
            await session.execute(select(Cooperative).where(Cooperative.status != "dissolved"))
        ).scalars()
    )
    exact = [c for c in coops if c.code.lower() == text.lower()]
    if exact:
        return exact
    query = fold(text)
    names = {c.id: fold(c.name).replace("(demo)", "") for c in coops}
    found = process.extract(query, names, scorer=fuzz.WRatio, limit=limit, score_cutoff=60)
    by_id = {c.id: c for c in coops}
    return [by_id[key] for _, _, key in found]
