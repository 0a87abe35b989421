"""The Zalo channel, on the Zalo Bot Platform API with httpx: :mod:`.app` (the channel),
:mod:`.api` (the HTTP client and its errors), :mod:`.updates` (updates → Incoming),
:mod:`.render` (numbered choices, plain text), :mod:`.webhook` (path and secret),
:mod:`.sender` (broadcast rows)."""

from bot.channels.recent import RecentIds
from bot.channels.zalo.api import (
    DEFAULT_BASE_URL,
    ZaloApi,
    ZaloError,
    ZaloForbidden,
    ZaloNetworkError,
    ZaloUnauthorized,
)
from bot.channels.zalo.app import ZaloChannel, build_channel
from bot.channels.zalo.render import MAX_TEXT, choose_hint, render_buttons, render_messages
from bot.channels.zalo.sender import ZaloSender
from bot.channels.zalo.updates import CHANNEL, Inbound, to_inbound, unwrap
from bot.channels.zalo.webhook import SECRET_HEADER, WEBHOOK_PATH, webhook_secret, webhook_url

__all__ = [
    "CHANNEL",
    "DEFAULT_BASE_URL",
    "MAX_TEXT",
    "SECRET_HEADER",
    "WEBHOOK_PATH",
    "Inbound",
    "RecentIds",
    "ZaloApi",
    "ZaloChannel",
    "ZaloError",
    "ZaloForbidden",
    "ZaloNetworkError",
    "ZaloSender",
    "ZaloUnauthorized",
    "build_channel",
    "choose_hint",
    "render_buttons",
    "render_messages",
    "to_inbound",
    "unwrap",
    "webhook_secret",
    "webhook_url",
]
