"""Sign-in links and sessions of the staff web console, stored as SHA-256 hashes only:
whoever reads the database cannot sign in with what it holds."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Member, WebLink, WebSession


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_link(
    session: AsyncSession, member: Member, token: str, now: datetime, expires: datetime
) -> WebLink:
    link = WebLink(token_hash=token_hash(token), member_id=member.id, created_at=now,
                   expires_at=expires, used_at=None)  # fmt: skip
    session.add(link)
    return link


async def use_link(session: AsyncSession, token: str, now: datetime) -> int | None:
    """Mark the link of ``token`` used, atomically (one UPDATE: two browsers racing with the
    same link, one wins); the member's id, or None when unknown, used or expired."""
    stmt = (
        update(WebLink)
        .where(
            WebLink.token_hash == token_hash(token),
            WebLink.used_at.is_(None),
            WebLink.expires_at > now,
        )
        .values(used_at=now)
        .returning(WebLink.member_id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def add_session(
    session: AsyncSession, member_id: int, token: str, now: datetime, expires: datetime
) -> WebSession:
    row = WebSession(token_hash=token_hash(token), member_id=member_id, created_at=now,
                     expires_at=expires, revoked_at=None)  # fmt: skip
    session.add(row)
    return row


async def live_session(session: AsyncSession, token: str, now: datetime) -> WebSession | None:
    stmt = select(WebSession).where(
        WebSession.token_hash == token_hash(token),
        WebSession.revoked_at.is_(None),
        WebSession.expires_at > now,
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def revoke(session: AsyncSession, now: datetime, member_id: int | None = None) -> int:
    """Revoke the live sessions of ``member_id`` (None: of everyone); returns how many."""
    stmt = update(WebSession).where(WebSession.revoked_at.is_(None), WebSession.expires_at > now)
    if member_id is not None:
        stmt = stmt.where(WebSession.member_id == member_id)
    result = await session.execute(
        stmt.values(revoked_at=now).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def live_sessions(session: AsyncSession, now: datetime) -> list[tuple[WebSession, Member]]:
    stmt = (
        select(WebSession, Member)
        .join(Member, Member.id == WebSession.member_id)
        .where(WebSession.revoked_at.is_(None), WebSession.expires_at > now)
        .order_by(WebSession.created_at.desc())
        .limit(200)
    )
    return [(s, m) for s, m in (await session.execute(stmt)).all()]
