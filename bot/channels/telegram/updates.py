"""Telegram updates → the core's :class:`Incoming`: messages in private chats, commands and
mentions in groups, button presses."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import (
    CallbackQuery,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType

from ground.messages import Incoming

CHANNEL = "telegram"


@dataclass(frozen=True)
class Inbound:
    """An update the core should see, and where its replies go."""

    incoming: Incoming
    chat_id: int
    private: bool
    callback: CallbackQuery | None = None


def _group_text(message: Message, username: str) -> str | None:
    """The text of a group message addressed to the bot (a command or a mention), else None."""
    text = message.text or message.caption or ""
    me = f"@{username}".lower()
    found = message.parse_entities([MessageEntity.BOT_COMMAND, MessageEntity.MENTION])
    if not found:
        found = message.parse_caption_entities([MessageEntity.MENTION])
    for entity, value in found.items():
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            _, at, target = value.partition("@")
            return text if not at or f"@{target}".lower() == me else None
        if entity.type == MessageEntity.MENTION and value.lower() == me:
            return text.replace(value, "", 1).strip()
    return None


def to_inbound(update: Update, bot_username: str) -> Inbound | None:
    """Translate a message or a button press; ``None`` when the bot should stay silent."""
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    common = {
        "channel": CHANNEL,
        "user_id": str(user.id),
        "display_name": user.full_name or None,
        "language_code": user.language_code,
        "update_id": str(update.update_id),
        "numbered_buttons": False,
    }
    if (cq := update.callback_query) is not None:
        if not cq.data:
            return None
        chat = cq.message.chat if cq.message else None
        chat_id = chat.id if chat else user.id
        private = chat is None or chat.type == ChatType.PRIVATE
        return Inbound(Incoming(action=cq.data, private=private, **common), chat_id, private, cq)
    message = update.message
    if message is None:
        return None
    if message.chat.type == ChatType.PRIVATE:
        text = message.text or message.caption or ""
        contact, shared = message.contact, {}
        if contact is not None:  # proof only when the contact is the sender's own account
            own = contact.user_id == user.id
            shared = {"contact_phone": contact.phone_number, "contact_verified": own}
            text = contact.phone_number if own else text
        return Inbound(Incoming(text=text, **common, **shared), message.chat.id, True)
    if message.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP):
        text = _group_text(message, bot_username)
        if text is None:
            return None
        return Inbound(Incoming(text=text, private=False, **common), message.chat.id, False)
    return None
