"""Who does an operation, and the check of their rights when it runs.

A chat or web action is done by a member; the command line by the operator at the machine
(trusted: whoever can run ``coopbot`` can open the database). Rights are read from the
database each time an operation runs, never carried from the start of a flow: staff removed
with ``/quyen bo`` in the middle of a flow can finish nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.audit import actor_of
from db.models import ROLE_ADMIN, ROLE_STAFF, Member
from ground.i18n import N_

STAFF_ROLES = (ROLE_STAFF, ROLE_ADMIN)


@dataclass(frozen=True)
class Actor:
    """``name`` as the audit log writes it (``telegram:123``, ``cli``); ``member_id`` is
    ``None`` for the operator at the command line."""

    name: str
    member_id: int | None = None

    @classmethod
    def of(cls, member: Member) -> Actor:
        return cls(actor_of(member), member.id)


CLI = Actor("cli")


class OperationError(Exception):
    """An operation refused its input: ``message`` is a message id (Vietnamese) with
    ``values``; the door translates it for whoever asked."""

    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message)
        self.message = message
        self.values = values


class Refused(OperationError):
    """The actor may not do this (any more)."""


async def role_of(session: AsyncSession, actor: Actor) -> str | None:
    """The actor's role as the database holds it now; ``None`` for an unknown member."""
    if actor.member_id is None:
        return ROLE_ADMIN
    stmt = select(Member.role).where(Member.id == actor.member_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def require_staff(session: AsyncSession, actor: Actor) -> None:
    """Raise :class:`Refused` unless the actor is staff (or admin) now."""
    if await role_of(session, actor) not in STAFF_ROLES:
        raise Refused(N_("Việc này chỉ dành cho cán bộ Liên minh HTX."))
