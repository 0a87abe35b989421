"""Structured logging: one JSON line per event, with secrets and phone numbers removed.

Secrets are removed by value: :func:`add_secrets` registers the configured tokens, the
secrets derived from them (webhook secrets) and the database password, whatever their length,
and :class:`RedactFilter` on the root handler removes them and every phone number from every
record, python-telegram-bot's and httpx's included, at every level.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import urlsplit

# Telegram tokens are <digits>:<35 characters>; Zalo tokens <bot_id>:<secret>, where the id
# may be hexadecimal.
_TOKEN = re.compile(r"(?<![A-Za-z0-9])(bot)?[A-Za-z0-9]{5,}:[A-Za-z0-9_\-]{20,}")
# Vietnamese numbers as members type them: 0987654321, 098.765.4321, (098) 765 4321,
# 098 765  4323, +84 987 654 321, (+84) 987..., +84(0)987654322, 84987654321.
_PHONE = re.compile(r"(?<![\d+])(?:\(\s*)?(?:\+\s*)?(?:84|0)(?:[\s.\-()]{0,3}\d){8,11}(?!\d)")
_MIN_SECRET = 3  # shorter values would blank out ordinary words

_secrets: dict[str, str] = {}  # value → what replaces it
_ordered: list[tuple[str, str]] = []


def add_secrets(*values: str | None) -> None:
    """Remove each of ``values`` from every log line from now on. A bot token (``<id>:<secret>``)
    becomes ``<token>``, and its secret part alone too, which URLs and errors may show; any
    other value becomes ``<secret>``."""
    for value in values:
        if not value:
            continue
        if ":" in value:
            pairs = [(value, "<token>"), (value.split(":", 1)[1], "<token>")]
        else:
            pairs = [(value, "<secret>")]
        for candidate, label in pairs:
            if len(candidate) >= _MIN_SECRET:
                _secrets.setdefault(candidate, label)
    _ordered[:] = sorted(_secrets.items(), key=lambda kv: len(kv[0]), reverse=True)


def settings_secrets(settings: object) -> list[str]:
    """The secrets of a :class:`ground.settings.Settings`: bot tokens and the database
    password."""
    found = [
        getattr(settings, "telegram_bot_token", None),
        getattr(settings, "zalo_bot_token", None),
    ]
    url = getattr(settings, "database_url", None)
    if url:
        try:
            found.append(urlsplit(url).password)
        except ValueError:
            pass
    return [s for s in found if s]


def redact(text: str) -> str:
    """Remove registered secrets, bot tokens and phone numbers from ``text``."""
    for secret, label in _ordered:
        if secret in text:
            text = text.replace(secret, label)
    text = _TOKEN.sub(lambda m: (m.group(1) or "") + "<token>", text)
    return _PHONE.sub("<phone>", text)


def user_hash(channel: str, user_id: str) -> str:
    """A short, stable pseudonym for a user in logs."""
    return hashlib.sha256(f"{channel}:{user_id}".encode()).hexdigest()[:12]


class RedactFilter(logging.Filter):
    """Rewrites each record with secrets and phone numbers removed: its message, its
    exception text and its fields. Installed on a handler, it covers every logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the template only
            message = str(record.msg)
        clean = redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = {k: redact(v) if isinstance(v, str) else v for k, v in fields.items()}
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            data.update(fields)
        if record.exc_info or record.exc_text:
            data["exc"] = redact(record.exc_text or self.formatException(record.exc_info))
        return redact(json.dumps(data, ensure_ascii=False, default=str))


def setup_logging(level: str = "INFO", stream=None, secrets: Iterable[str | None] = ()) -> None:  # type: ignore[no-untyped-def]
    """Send every log record, as JSON, to ``stream`` (default stderr), with ``secrets``, the
    tokens and phone numbers removed from every logger's records."""
    add_secrets(*secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL (Telegram/Zalo URLs carry the token): redacted, and quiet.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def log_event(
    logger: logging.Logger, msg: str, level: int = logging.INFO, **fields: object
) -> None:
    logger.log(level, msg, extra={"fields": fields})
