"""Broadcast rows sent to Telegram for the delivery engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from bot.channels.delivery import Blocked, RateLimited, Transient, Uncertain
from bot.channels.telegram.limits import retry_after_seconds
from bot.channels.telegram.render import to_html
from bot.channels.telegram.updates import CHANNEL
from ground.messages import Reply

if TYPE_CHECKING:
    from bot.channels.telegram.app import TelegramChannel


class TelegramSender:
    """Sends broadcast rows for the delivery engine: Telegram errors become the engine's
    (Forbidden → Blocked, RetryAfter → RateLimited, a time-out → Uncertain, other network
    errors → Transient; BadRequest fails the row). Messages still go through the channel's
    :class:`TelegramLimiter`, shared with replies."""

    channel = CHANNEL

    def __init__(
        self, tg: TelegramChannel, per_second: float = 30.0, per_chat_interval: float = 1.0
    ) -> None:
        self.tg = tg
        self.per_second = per_second
        self.per_chat_interval = per_chat_interval

    async def send(self, user_id: str, reply: Reply) -> None:
        try:
            await self.tg.send_reply(int(user_id), reply)
        except Forbidden as exc:
            raise Blocked(str(exc)) from exc
        except RetryAfter as exc:
            raise RateLimited(retry_after_seconds(exc)) from exc
        except BadRequest:
            raise
        except TimedOut as exc:
            raise Uncertain(str(exc)) from exc
        except NetworkError as exc:
            raise Transient(str(exc)) from exc

    async def progress(self, user_id: str, text: str, message_id: str | None) -> str | None:
        try:
            return await self._progress(user_id, text, message_id)
        except RetryAfter as exc:
            raise RateLimited(retry_after_seconds(exc)) from exc

    async def _progress(self, user_id: str, text: str, message_id: str | None) -> str | None:
        if message_id is not None and await self.tg._edit(
            int(user_id), int(message_id), text, None
        ):
            return message_id
        message = await self.tg.bot.send_message(
            int(user_id), to_html(text), parse_mode=ParseMode.HTML
        )
        return str(message.message_id)
