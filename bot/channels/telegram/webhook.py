"""The Telegram webhook: its path, its secret, and the shape a body must have before
python-telegram-bot parses it."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


_MAX_ID = 2**53  # Telegram ids fit in 52 bits


def _int(value: object) -> bool:
    return type(value) is int and -_MAX_ID < value < _MAX_ID


def _str(value: object, optional: bool = True) -> bool:
    return isinstance(value, str) or (optional and value is None)


def _user(value: object) -> bool:
    return (
        isinstance(value, dict)
        and _int(value.get("id"))
        and isinstance(value.get("is_bot", False), bool)
        and _str(value.get("first_name"), optional=False)
        and all(_str(value.get(k)) for k in ("last_name", "username", "language_code"))
    )


def _chat(value: object) -> bool:
    return isinstance(value, dict) and _int(value.get("id")) and _str(value.get("type"), False)


def _entities(value: object) -> bool:
    return value is None or (
        isinstance(value, list)
        and all(
            isinstance(e, dict)
            and _str(e.get("type"), False)
            and _int(e.get("offset"))
            and _int(e.get("length"))
            for e in value
        )
    )


def _contact(value: object) -> bool:
    return value is None or (
        isinstance(value, dict)
        and _str(value.get("phone_number"), False)
        and _str(value.get("first_name"), False)
        and (value.get("user_id") is None or _int(value.get("user_id")))
    )


_MESSAGE_KEYS = (
    "message_id", "date", "chat", "from", "text", "caption", "entities", "caption_entities",
    "contact",
)  # fmt: skip


def _message(value: object) -> dict[str, Any] | None:
    """The fields of a message the channel reads, when they have the Bot API's types."""
    if not isinstance(value, dict):
        return None
    ok = (
        _int(value.get("message_id"))
        and _int(value.get("date"))
        and _chat(value.get("chat"))
        and (value.get("from") is None or _user(value.get("from")))
        and _str(value.get("text"))
        and _str(value.get("caption"))
        and _entities(value.get("entities"))
        and _entities(value.get("caption_entities"))
        and _contact(value.get("contact"))
    )
    return {k: value[k] for k in _MESSAGE_KEYS if k in value} if ok else None


def _member_change(value: object) -> dict[str, Any] | None:
    if not isinstance(value, dict) or not (
        _chat(value.get("chat")) and _user(value.get("from")) and _int(value.get("date"))
    ):
        return None
    for key in ("old_chat_member", "new_chat_member"):
        member = value.get(key)
        if not isinstance(member, dict) or not (
            _str(member.get("status"), False) and _user(member.get("user"))
        ):
            return None
    return {k: value[k] for k in ("chat", "from", "date", "old_chat_member", "new_chat_member")}


def well_formed(data: object) -> dict[str, Any] | None:
    """A webhook body reduced to what the channel reads (one message, button press or
    membership change), when every part of it has the type the Bot API gives it; else None.
    The secret proves the body comes from Telegram, but python-telegram-bot trusts the types
    of what it parses, and a body of the wrong shape must not fail later."""
    if not isinstance(data, dict) or not _int(data.get("update_id")):
        return None
    found: dict[str, Any] | None = None
    if (message := data.get("message")) is not None:
        if (found := _message(message)) is not None:
            return {"update_id": data["update_id"], "message": found}
    elif (cq := data.get("callback_query")) is not None:
        if (
            isinstance(cq, dict)
            and _str(cq.get("id"), False)
            and _user(cq.get("from"))
            and _str(cq.get("data"))
            and _str(cq.get("chat_instance"), False)
        ):
            pressed = cq.get("message")
            kept = {k: cq[k] for k in ("id", "from", "data", "chat_instance") if k in cq}
            if pressed is not None:
                if (found := _message(pressed)) is None:
                    return None
                kept["message"] = found
            return {"update_id": data["update_id"], "callback_query": kept}
    elif (change := _member_change(data.get("my_chat_member"))) is not None:
        return {"update_id": data["update_id"], "my_chat_member": change}
    return None


def webhook_secret(token: str) -> str:
    """The secret Telegram echoes in every webhook request, derived from the token so every
    worker agrees on it without extra configuration."""
    return hmac.new(token.encode(), b"coopbot telegram webhook", hashlib.sha256).hexdigest()


def webhook_url(public_url: str) -> str:
    """``https://bot.example.org`` → ``https://bot.example.org/telegram/webhook``."""
    url = public_url.rstrip("/")
    return url if url.endswith(WEBHOOK_PATH) else url + WEBHOOK_PATH
