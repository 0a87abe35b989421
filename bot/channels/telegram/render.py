"""Telegram replies as HTML text and keyboards: escaped text, inline keyboards whose callback
data is ``Button.action``, and the one-time keyboard that shares the member's phone number."""

from __future__ import annotations

import html

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from ground.messages import Reply

MAX_TEXT = 4096
MAX_CAPTION = 1024


def to_html(text: str) -> str:
    return html.escape(text, quote=False)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    """Inline keyboard of ``reply``'s buttons (callback data is the button's action), or the
    one-time keyboard that shares the member's phone number."""
    if reply.contact_button:
        return ReplyKeyboardMarkup(
            [[KeyboardButton(reply.contact_button, request_contact=True)]],
            one_time_keyboard=True,
            resize_keyboard=True,
        )
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.action) for b in row]
            for row in reply.buttons
        ]
    )
