"""How log lines look: ``COOPBOT_LOG_FORMAT=text`` (the default) or ``json``.

Both write one line per event, with bot tokens and phone numbers removed
(:func:`ground.logs.redact`). ``json`` is :class:`ground.logs.JsonFormatter`, for log
collectors; ``text`` is for people reading ``journalctl``::

    2026-11-29T18:50:01.123Z INFO coopbot.core update handled channel=telegram user=3f2a… ok=True

A traceback stays on the same line (its line breaks written as ``\\n``), so one event is
always one line.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import IO

from ground.logs import redact, setup_logging

_PLAIN = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:/@+-")


def _value(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if text and all(c in _PLAIN for c in text):
        return text
    return json.dumps(text, ensure_ascii=False)  # quoted, line breaks escaped


class TextFormatter(logging.Formatter):
    """``<time> <LEVEL> <logger> <message> key=value …`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        message = record.getMessage().replace("\r", " ").replace("\n", "\\n")
        parts = [ts.replace("+00:00", "Z"), record.levelname, record.name, message]
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            parts += [f"{key}={_value(value)}" for key, value in fields.items()]
        if record.exc_info:
            parts.append("exc=" + _value(self.formatException(record.exc_info)))
        return redact(" ".join(parts))


def configure_logging(
    level: str = "INFO", fmt: str = "text", stream: IO[str] | None = None
) -> None:
    """Log every record to ``stream`` (stderr) as ``fmt``: ``text`` or ``json``."""
    setup_logging(level, stream)
    if fmt == "text":
        for handler in logging.getLogger().handlers:
            handler.setFormatter(TextFormatter())
