"""Staff broadcasts, whichever door they come through: count an audience, start or schedule
a broadcast, cancel one, and start the scheduled ones whose time has come.

Each operation checks the actor's rights when it runs (:mod:`operations.actors`) and
validates its input: an audience that does not exist, an event that does not, a time that
has passed or a text too long is refused with :class:`OperationError`, and nothing is
written. The author of a notice never receives it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import audit
from db import broadcasts as data
from db.models import (
    BROADCAST_SCHEDULED,
    BROADCAST_SENDING,
    COOP_KINDS,
    SECTORS,
    Broadcast,
    Event,
    Member,
)
from ground.i18n import N_, Translations
from operations.broadcast_texts import recipient_reply
from operations.rights import STAFF_ROLES, Actor, OperationError, require_staff, role_of

MAX_TEXT = 3000  # leaves room for the event card within Telegram's 4,096 characters


@dataclass(frozen=True)
class Draft:
    """What staff chose: the text, the audience (and its value), an event to attach."""

    text: str
    audience: str
    value: str | None = None
    event_id: int | None = None


def check_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise OperationError(N_("Anh/chị gõ nội dung thông báo bằng chữ (gõ /huy để thôi)."))
    if len(text) > MAX_TEXT:
        raise OperationError(
            N_("Thông báo dài {n} ký tự, quá {max}. Anh/chị rút gọn rồi gửi lại."),
            n=len(text),
            max=MAX_TEXT,
        )
    return text


def check_audience(audience: str, value: str | None) -> None:
    """Refuse an audience that does not exist (a forged button, a typo on the CLI)."""
    ok = {
        "all": value is None,
        "noreport": value is None,
        "sector": value in SECTORS,
        "kind": value in COOP_KINDS,
        "commune": (value or "").isascii() and (value or "").isdigit() and len(value or "") <= 9,
    }.get(audience, False)
    if not ok:
        raise OperationError(N_("Không có nhóm người nhận này. Anh/chị chọn lại bằng các nút."))


async def _check_event(session: AsyncSession, event_id: int | None) -> Event | None:
    if event_id is None:
        return None
    event = await session.get(Event, event_id)
    if event is None:
        raise OperationError(N_("Sự kiện này không còn trong danh sách. Gõ /sukien để xem."))
    return event


async def count_audience(
    session: AsyncSession, actor: Actor, audience: str, value: str | None
) -> data.AudienceSize:
    """How many members the audience reaches now (the actor not counted)."""
    await require_staff(session, actor)
    check_audience(audience, value)
    return await data.audience_size(session, audience, value, exclude=actor.member_id)


async def enqueue_recipients(
    session: AsyncSession, broadcast: Broadcast, translations: Translations, now: datetime
) -> int:
    """Create the broadcast's rows for its audience as it is now; mark it sending."""
    event = await session.get(Event, broadcast.event_id) if broadcast.event_id else None
    members = await data.audience_members(
        session, broadcast.audience, broadcast.audience_value, exclude=broadcast.created_by
    )
    count = await data.enqueue_rows(
        session,
        broadcast,
        members,
        lambda m: recipient_reply(translations.get(m.locale), broadcast.text, event),
        now,
    )
    broadcast.status, broadcast.started_at = BROADCAST_SENDING, now
    return count


async def start_broadcast(
    session: AsyncSession,
    actor: Actor,
    draft: Draft,
    translations: Translations,
    now: datetime,
    at: datetime | None = None,
) -> Broadcast:
    """Send ``draft`` now (rows for every recipient) or at ``at``; the caller commits."""
    await require_staff(session, actor)
    text = check_text(draft.text)
    check_audience(draft.audience, draft.value)
    await _check_event(session, draft.event_id)
    if at is not None and at <= now:
        raise OperationError(N_("Thời điểm này đã qua. Anh/chị gõ một thời điểm sắp tới:"))
    broadcast = Broadcast(
        text=text,
        event_id=draft.event_id,
        audience=draft.audience,
        audience_value=draft.value,
        status=BROADCAST_SCHEDULED if at else BROADCAST_SENDING,
        scheduled_at=at,
        created_by=actor.member_id,
        created_at=now,
        total=0,
    )
    session.add(broadcast)
    await session.flush()
    if at is not None:
        audit.record(session, actor.name, "broadcast_scheduled", now,
                     f"broadcast:{broadcast.id}", {"at": at.isoformat()})  # fmt: skip
        return broadcast
    count = await enqueue_recipients(session, broadcast, translations, now)
    audit.record(session, actor.name, "broadcast_sent", now,
                 f"broadcast:{broadcast.id}", {"recipients": count})  # fmt: skip
    return broadcast


async def find_active(
    session: AsyncSession, actor: Actor, broadcast_id: int | None
) -> Broadcast | None:
    """The broadcast ``/huythongbao`` would stop: that id, or the latest active one."""
    await require_staff(session, actor)
    if broadcast_id is None:
        return await data.latest_active(session)
    broadcast = await session.get(Broadcast, broadcast_id)
    return broadcast if broadcast is not None and data.is_active(broadcast) else None


@dataclass(frozen=True)
class Cancelled:
    broadcast: Broadcast
    skipped: int
    was_scheduled: bool


async def cancel_broadcast(
    session: AsyncSession, actor: Actor, broadcast_id: int, now: datetime
) -> Cancelled:
    """Stop broadcast ``broadcast_id``: rows not yet being sent are skipped; the caller
    commits."""
    await require_staff(session, actor)
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None or not data.is_active(broadcast):
        raise OperationError(
            N_("Không có thông báo #{id} đang gửi hoặc đang hẹn giờ."), id=broadcast_id
        )
    was_scheduled = broadcast.status == BROADCAST_SCHEDULED
    skipped = await data.cancel(session, broadcast, now)
    audit.record(session, actor.name, "broadcast_cancelled", now,
                 f"broadcast:{broadcast.id}", {"skipped": skipped})  # fmt: skip
    return Cancelled(broadcast, skipped, was_scheduled)


async def start_due(
    sessions: async_sessionmaker[AsyncSession], translations: Translations, now: datetime
) -> int:
    """Start the scheduled broadcasts whose time has come (each exactly once, even with several
    workers); returns how many started. A broadcast whose author is no longer staff is
    cancelled instead: rights are checked when the sending starts."""
    started = 0
    async with sessions() as session:
        for bid in await data.due_scheduled(session, now):
            if not await data.take_scheduled(session, bid, now):
                continue
            broadcast = await session.get(Broadcast, bid)
            assert broadcast is not None
            await session.refresh(broadcast)
            author = (
                await session.get(Member, broadcast.created_by) if broadcast.created_by else None
            )
            if author is not None and await role_of(session, Actor.of(author)) not in STAFF_ROLES:
                await data.cancel(session, broadcast, now)
                broadcast.finished_at = now
                audit.record(session, "scheduler", "broadcast_refused", now,
                             f"broadcast:{bid}", {"author": audit.actor_of(author)})  # fmt: skip
                continue
            await enqueue_recipients(session, broadcast, translations, now)
            started += 1
        await session.commit()
    return started
