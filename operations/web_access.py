"""Signing in to the staff web console without a password, whichever door asks for it:
``/dangnhap`` in chat, ``coopbot web link telegram:123`` at the command line.

A one-time link is valid :data:`LINK_TTL` and works once; it opens a session of
:data:`SESSION_TTL`. Only hashes of the link and session tokens are stored. Rights are read
when each step runs: the link is made only for staff, signing in checks the role again, and
every request of a session reads the member's role afresh (the page door does that with
:func:`current_member`), so staff removed from the role lose the console at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db import audit
from db import web_access as data
from db.models import Member, WebSession
from ground.i18n import N_
from operations.rights import STAFF_ROLES, Actor, NotPossible, Refused, require_staff

LINK_TTL = timedelta(minutes=10)
SESSION_TTL = timedelta(hours=8)
SIGN_IN_PATH = "/console/signin/"
LINK_REFUSED = N_(
    "Liên kết đăng nhập này đã được dùng hoặc đã hết hạn. Anh/chị gõ /dangnhap trong trò "
    "chuyện với trợ lý để nhận liên kết mới."
)


@dataclass(frozen=True)
class SignInLink:
    url: str
    expires_at: datetime


async def create_link(
    session: AsyncSession, actor: Actor, person: Member, base_url: str, now: datetime
) -> SignInLink:
    """A one-time sign-in link for ``person`` (staff), asked for by ``actor`` (the person
    themselves in chat, or the operator at the command line); audited."""
    await require_staff(session, actor)
    if actor.member_id is not None and actor.member_id != person.id:
        raise Refused(N_("Mỗi người chỉ lấy được liên kết đăng nhập cho chính mình."))
    if person.role not in STAFF_ROLES:
        raise Refused(N_("Trang quản lý chỉ dành cho cán bộ Liên minh HTX."))
    token = secrets.token_urlsafe(32)
    expires = now + LINK_TTL
    data.add_link(session, person, token, now, expires)
    audit.record(session, actor.name, "web_link_created", now, audit.actor_of(person))
    return SignInLink(base_url.rstrip("/") + SIGN_IN_PATH + token, expires)


@dataclass(frozen=True)
class SignedIn:
    token: str  # goes into the cookie, never stored
    member: Member
    expires_at: datetime


async def sign_in(session: AsyncSession, link_token: str, now: datetime) -> SignedIn:
    """Use a link (once) and open a session for its member, if they are staff now."""
    member_id = await data.use_link(session, link_token, now) if link_token else None
    member = await session.get(Member, member_id) if member_id is not None else None
    if member is None:
        raise NotPossible(LINK_REFUSED)
    if member.role not in STAFF_ROLES:
        raise Refused(N_("Trang quản lý chỉ dành cho cán bộ Liên minh HTX."))
    token = secrets.token_urlsafe(32)
    expires = now + SESSION_TTL
    data.add_session(session, member.id, token, now, expires)
    audit.record(session, audit.actor_of(member), "web_signed_in", now)
    return SignedIn(token, member, expires)


async def current_member(
    session: AsyncSession, session_token: str, now: datetime
) -> tuple[WebSession, Member] | None:
    """The session of a cookie and its member as the database holds them now (role included);
    None when the session is unknown, expired or revoked."""
    row = await data.live_session(session, session_token, now) if session_token else None
    member = await session.get(Member, row.member_id) if row is not None else None
    return (row, member) if row is not None and member is not None else None


async def sign_out(session: AsyncSession, actor: Actor, session_token: str, now: datetime) -> None:
    row = await data.live_session(session, session_token, now)
    if row is not None:
        row.revoked_at = now
        audit.record(session, actor.name, "web_signed_out", now)


async def sign_out_everywhere(
    session: AsyncSession, actor: Actor, person_id: int | None, now: datetime
) -> int:
    """Revoke every session of one person (``person_id``), or of everyone (None); admins
    only. Returns how many sessions ended."""
    actor.require_admin()
    count = await data.revoke(session, now, person_id)
    target = f"member:{person_id}" if person_id is not None else "all"
    audit.record(session, actor.name, "web_signed_out_everywhere", now, target, {"sessions": count})
    return count


async def live_sessions(
    session: AsyncSession, actor: Actor, now: datetime
) -> list[tuple[WebSession, Member]]:
    actor.require_admin()
    return await data.live_sessions(session, now)
