"""Broadcast rows sent to Zalo for the delivery engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channels.delivery import Blocked, RateLimited, Transient, Uncertain
from bot.channels.zalo.api import ZaloError, ZaloForbidden, ZaloNetworkError
from bot.channels.zalo.render import render_buttons, render_messages
from bot.channels.zalo.updates import CHANNEL
from db.queries import get_member
from ground.messages import Reply

if TYPE_CHECKING:
    from bot.channels.zalo.app import ZaloChannel


class ZaloSender:
    """Sends broadcast rows for the delivery engine. Zalo documents no rate, so it is paced
    conservatively; buttons become the member's numbered choices, as in every Zalo reply.
    Zalo cannot edit a message: staff see the first progress line, then the final report."""

    channel = CHANNEL

    def __init__(
        self, zalo: ZaloChannel, per_second: float = 10.0, per_chat_interval: float = 1.0
    ) -> None:
        self.zalo = zalo
        self.per_second = per_second
        self.per_chat_interval = per_chat_interval

    def calls(self, reply: Reply) -> int:
        """The API calls one notice costs (a long one goes in parts), paced as such."""
        t = self.zalo.conversation.translations.get(None)
        return max(1, len(render_messages(reply.text, render_buttons(reply, t))))

    async def send(self, user_id: str, reply: Reply) -> None:
        conv = self.zalo.conversation
        async with conv.sessions() as session:
            member = await get_member(session, CHANNEL, user_id)
            t = conv.translations.get(member.locale if member else None)
            try:
                await self.zalo.send_reply(user_id, reply, t)
            except ZaloForbidden as exc:
                raise Blocked(str(exc)) from exc
            except ZaloNetworkError as exc:  # may have arrived: never sent twice
                raise Uncertain(str(exc)) from exc
            except ZaloError as exc:
                if exc.status == 429:
                    raise RateLimited(5.0) from exc
                if exc.status is not None and exc.status >= 500:
                    raise Transient(str(exc)) from exc
                raise
            actions = [b.action for b in reply.flat_buttons()]
            if member is not None and actions:
                member.pending_actions = actions
                await session.commit()

    async def progress(self, user_id: str, text: str, message_id: str | None) -> str | None:
        if message_id is None:
            await self.zalo.api.send_message(user_id, text)
        return "first-only"
