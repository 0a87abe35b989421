"""Zalo updates → the core's :class:`Incoming`. A webhook body is hostile: an update not
shaped as Zalo sends them is skipped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ground.messages import Incoming

CHANNEL = "zalo"
TEXT_EVENT = "message.text.received"
OTHER_EVENTS = {
    "message.image.received": "image",
    "message.sticker.received": "sticker",
    "message.voice.received": "unsupported",
    "message.unsupported.received": "unsupported",
}

Kind = Literal["text", "image", "sticker", "unsupported"]


@dataclass(frozen=True)
class Inbound:
    """An update the bot should react to, and where its replies go."""

    kind: Kind
    incoming: Incoming
    chat_id: str
    private: bool
    message_id: str


def unwrap(data: object) -> list[dict[str, Any]]:
    """The updates in a webhook body or a getUpdates result: ``{ok, result}`` or bare, one
    update or a list."""
    if isinstance(data, dict) and "result" in data and "event_name" not in data:
        data = data["result"]
    items = data if isinstance(data, list) else [data]
    return [u for u in items if isinstance(u, dict)]


def _id(value: object) -> str:
    """An id as Zalo sends it (a string or a number), else ``""``: a webhook body is hostile."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    return str(value)[:128]


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def to_inbound(update: dict[str, Any]) -> Inbound | None:
    """Translate one update; ``None`` when the bot should stay silent (or the update is not
    shaped as Zalo sends them)."""
    event = update.get("event_name")
    message = update.get("message")
    if not isinstance(message, dict) or not isinstance(event, str):
        return None
    kind: Kind
    if event == TEXT_EVENT:
        kind = "text"
    elif event in OTHER_EVENTS:
        kind = OTHER_EVENTS[event]  # type: ignore[assignment]
    else:
        return None
    sender = _dict(message.get("from"))
    chat = _dict(message.get("chat"))
    user_id = _id(sender.get("id"))
    if not user_id or sender.get("is_bot") is True:
        return None
    chat_id = _id(chat.get("id")) or user_id
    private = str(chat.get("chat_type") or "PRIVATE").upper() == "PRIVATE"
    text = message.get("text") if kind == "text" else None
    text = text if isinstance(text, str) else ""
    if not private and not (kind == "text" and text.startswith("/")):
        return None  # in groups: commands only
    message_id = _id(message.get("message_id"))
    if not message_id:
        message_id = f"{event}:{chat_id}:{user_id}:{_id(message.get('date'))}"
    name = sender.get("display_name")
    incoming = Incoming(
        channel=CHANNEL,
        user_id=user_id,
        text=text,
        display_name=name if isinstance(name, str) and name else None,
        update_id=message_id,
        numbered_buttons=True,
        once=True,  # getUpdates may repeat an update, even across a restart
        private=private,
    )
    return Inbound(kind, incoming, chat_id, private, message_id)
