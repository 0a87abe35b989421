"""What a channel's sender gives the delivery engine (:mod:`bot.channels.delivery`): the
errors it raises and the calls it answers; the simple outbox and the final report."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from db import outbox
from db.broadcasts import tally
from db.models import Broadcast, Member
from ground.i18n import Translations
from ground.messages import Button, Reply
from handlers.core import Conversation
from operations.broadcast_texts import final_report, progress_text

Send = Callable[[Member, Reply], Awaitable[None]]
log = logging.getLogger("coopbot.delivery")


class Blocked(Exception):
    """The member blocked the assistant (Telegram: Forbidden)."""


class RateLimited(Exception):
    """The channel asks to wait ``retry_after`` seconds (Telegram: 429 RetryAfter)."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


class Transient(Exception):
    """A network error: the message did not arrive; try again later."""


class Uncertain(Exception):
    """The call timed out: the message may have arrived. Not retried (at most once)."""


class Sender(Protocol):
    """What a channel gives the engine. A sender may also define ``calls(reply) -> int``,
    the API calls one message costs (a long Zalo notice goes out in several parts); the
    engine then paces that many calls for it (one when it does not)."""

    channel: str
    per_second: float  # API calls per second overall
    per_chat_interval: float  # seconds between two messages to one chat

    async def send(self, user_id: str, reply: Reply) -> None:
        """Send one message; raise Blocked, RateLimited, Transient or Uncertain (any other
        exception fails the row with its text). Called for many members at once."""

    async def progress(self, user_id: str, text: str, message_id: str | None) -> str | None:
        """Show or edit (``message_id``) a staff progress message; its id, when editable."""


def reply_of(text: str, buttons: Sequence[Sequence[Sequence[str]]] | None) -> Reply:
    """A stored message (text, rows of [label, action]) as a :class:`Reply` to send."""
    rows = tuple(tuple(Button(label, action) for label, action in r) for r in buttons or [])
    return Reply(text, rows)


async def deliver_pending(
    conversation: Conversation,
    channel: str,
    send: Send,
    *,
    blocked: type[Exception],
    errors: type[Exception],
    limit: int = 30,
) -> int:
    """Send ``channel``'s pending outbox rows once; returns how many were sent.

    ``blocked`` (the member blocked the bot) fails the row for good and marks the member
    unreachable; ``errors`` count a failed attempt. Each row is committed on its own, so a
    crash never re-sends what was sent."""
    sent = 0
    async with conversation.sessions() as session:
        for row, member in await outbox.pending(session, channel, limit=limit):
            try:
                await send(member, reply_of(row.text, row.buttons))
            except blocked as exc:
                outbox.mark_failed(row, f"{type(exc).__name__}: {exc}", final=True)
                member.unreachable = True
            except errors as exc:
                outbox.mark_failed(row, f"{type(exc).__name__}: {exc}", final=False)
            else:
                outbox.mark_sent(row, conversation.clock())
                sent += 1
            await session.commit()
    return sent


async def report_to_author(
    session: AsyncSession,
    broadcast: Broadcast,
    translations: Translations,
    now: datetime,
    senders: dict[str, Sender] | None = None,
) -> None:
    """The final report, through the simple outbox; the progress message shows the total."""
    staff = await session.get(Member, broadcast.created_by) if broadcast.created_by else None
    if staff is None:
        return
    t = translations.get(staff.locale)
    counts = await tally(session, broadcast.id)
    sender = (senders or {}).get(staff.channel)
    if sender is not None and broadcast.progress_message_id:
        try:
            await sender.progress(
                staff.user_id, progress_text(t, broadcast, counts), broadcast.progress_message_id
            )
        except Exception as exc:
            log.info("broadcast progress not shown: %s", exc)
    outbox.enqueue(session, staff, Reply(final_report(t, broadcast, counts)), now)
