"""Who performs an operation, and what they may do: the one place rights are checked.

Every operation takes an :class:`Actor` and checks, when it runs, that the actor may do it: a
button pressed long after it was shown, or a flow that outlived a removed role, meets the same
check as the command that showed it. A refusal raises :class:`Refused`; any other reason an
operation cannot happen raises :class:`NotPossible`. Every door (chat, command line, web)
renders an :class:`OperationError` as one translated line.

Two ways to check, both at run time:
- ``actor.require_staff()`` reads the member row loaded for this message or request (the
  chat core loads it fresh for every message, and refreshes admin roles from settings);
- ``await require_staff(session, actor)`` reads the role from the database again, for work
  that runs long after the member row was loaded (scheduled broadcasts, multi-step flows).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.audit import actor_of
from db.models import ROLE_ADMIN, ROLE_STAFF, Member
from ground.i18n import N_

STAFF_ROLES = (ROLE_STAFF, ROLE_ADMIN)
NOT_STAFF = N_("Việc này chỉ dành cho cán bộ Liên minh HTX.")
NOT_ADMIN = N_("Việc này chỉ dành cho quản trị viên (đặt trong COOPBOT_ADMINS).")


class OperationError(Exception):
    """An operation did not happen. ``message`` is a message id (Vietnamese); every door
    translates it with ``values`` and shows it as one line."""

    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message)
        self.message = message
        self.values = values


class Refused(OperationError):
    """The actor may not do this (now: rights are read when the operation runs)."""

    def __init__(self, message: str = NOT_STAFF, **values: object) -> None:
        super().__init__(message, **values)


class NotPossible(OperationError):
    """The actor may, but the thing cannot be done: not found, already handled, bad input."""


@dataclass(frozen=True)
class Actor:
    """``name`` as the audit log writes it (``telegram:123``, ``cli``); ``member_id`` and
    ``member`` are ``None`` for the operator at the command line, who holds every right
    (whoever can run ``coopbot`` on the server can open the database)."""

    name: str
    member_id: int | None = None
    member: Member | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, member: Member) -> Actor:
        return cls(actor_of(member), member.id, member)

    @classmethod
    def cli(cls) -> Actor:
        return CLI

    @property
    def is_staff(self) -> bool:
        if self.member_id is None:
            return True
        return self.member is not None and self.member.role in STAFF_ROLES

    @property
    def is_admin(self) -> bool:
        if self.member_id is None:
            return True
        return self.member is not None and self.member.role == ROLE_ADMIN

    def require_staff(self) -> None:
        if not self.is_staff:
            raise Refused(NOT_STAFF)

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Refused(NOT_ADMIN)


CLI = Actor("cli")


async def role_of(session: AsyncSession, actor: Actor) -> str | None:
    """The actor's role as the database holds it now; ``None`` for an unknown member."""
    if actor.member_id is None:
        return ROLE_ADMIN
    stmt = select(Member.role).where(Member.id == actor.member_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def require_staff(session: AsyncSession, actor: Actor) -> None:
    """Raise :class:`Refused` unless the database says the actor is staff (or admin) now."""
    if await role_of(session, actor) not in STAFF_ROLES:
        raise Refused(NOT_STAFF)
