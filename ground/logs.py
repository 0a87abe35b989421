"""Structured logging: one JSON line per event, with secrets and phone numbers removed."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
from datetime import UTC, datetime

# Telegram tokens are <digits>:<35 characters>; Zalo tokens <bot_id>:<secret>, where the id
# may be hexadecimal.
_TOKEN = re.compile(r"(?<![A-Za-z0-9])(bot)?[A-Za-z0-9]{5,}:[A-Za-z0-9_\-]{20,}")
_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.\-]?\d){8,10}(?!\d)")


def redact(text: str) -> str:
    """Remove bot tokens and phone numbers from ``text``."""
    text = _TOKEN.sub(lambda m: (m.group(1) or "") + "<token>", text)
    return _PHONE.sub("<phone>", text)


def user_hash(channel: str, user_id: str) -> str:
    """A short, stable pseudonym for a user in logs."""
    return hashlib.sha256(f"{channel}:{user_id}".encode()).hexdigest()[:12]


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            data.update(fields)
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(data, ensure_ascii=False, default=str))


def setup_logging(level: str = "INFO", stream=None) -> None:  # type: ignore[no-untyped-def]
    """Send every log record, as JSON, to ``stream`` (default stderr)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL, and Telegram/Zalo URLs carry the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def log_event(
    logger: logging.Logger, msg: str, level: int = logging.INFO, **fields: object
) -> None:
    logger.log(level, msg, extra={"fields": fields})
