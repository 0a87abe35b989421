"""Who performs an operation, and what they may do.

Every operation takes an :class:`Actor` and checks, when it runs, that the actor may do it: a
button pressed long after it was shown, or a flow that outlived a removed role, meets the same
check as the command that showed it. A refusal raises :class:`Refused`, which every door renders
as one translated line.
"""

from __future__ import annotations

from dataclasses import dataclass

from db.models import ROLE_ADMIN, ROLE_STAFF, Member
from ground.i18n import N_

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
    """A member acting through a chat channel (or, later, the web console), or the command line
    (``member`` is ``None``: whoever runs ``coopbot`` on the server holds every right)."""

    member: Member | None
    name: str  # as written in the audit log: "telegram:123" or "cli"

    @classmethod
    def of(cls, member: Member) -> Actor:
        return cls(member, f"{member.channel}:{member.user_id}")

    @classmethod
    def cli(cls) -> Actor:
        return cls(None, "cli")

    @property
    def is_staff(self) -> bool:
        """Read from the member's row when asked: a role removed a second ago counts."""
        return self.member is None or self.member.role in (ROLE_STAFF, ROLE_ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.member is None or self.member.role == ROLE_ADMIN

    def require_staff(self) -> None:
        if not self.is_staff:
            raise Refused(NOT_STAFF)

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Refused(NOT_ADMIN)
