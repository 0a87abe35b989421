"""The Telegram channel, on python-telegram-bot: :mod:`.app` (the channel), :mod:`.updates`
(updates → Incoming), :mod:`.render` (HTML and keyboards), :mod:`.webhook` (path, secret, the
shape of a body), :mod:`.order` (per-user order), :mod:`.limits` (rate limits and retries),
:mod:`.sender` (broadcast rows)."""

from bot.channels.telegram.app import ALLOWED_UPDATES, TelegramChannel, build_channel
from bot.channels.telegram.limits import TelegramLimiter, retry_after_seconds
from bot.channels.telegram.order import PerUserOrder
from bot.channels.telegram.render import MAX_CAPTION, MAX_TEXT, keyboard, to_html
from bot.channels.telegram.sender import TelegramSender
from bot.channels.telegram.updates import CHANNEL, Inbound, to_inbound
from bot.channels.telegram.webhook import (
    SECRET_HEADER,
    WEBHOOK_PATH,
    webhook_secret,
    webhook_url,
    well_formed,
)
from bot.channels.text import split_text, utf16_len

__all__ = [
    "ALLOWED_UPDATES",
    "CHANNEL",
    "MAX_CAPTION",
    "MAX_TEXT",
    "SECRET_HEADER",
    "WEBHOOK_PATH",
    "Inbound",
    "PerUserOrder",
    "TelegramChannel",
    "TelegramLimiter",
    "TelegramSender",
    "build_channel",
    "keyboard",
    "retry_after_seconds",
    "split_text",
    "to_html",
    "to_inbound",
    "utf16_len",
    "webhook_secret",
    "webhook_url",
    "well_formed",
]
