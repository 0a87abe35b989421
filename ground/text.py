"""Text from outside, made safe once at the edge: every channel's :class:`Incoming` goes
through :func:`clean_text` before the core, the database or the log sees it."""

from __future__ import annotations

import re
import unicodedata

MAX_TEXT = 8000  # characters: longer than any message a member types (Telegram: 4,096)

# C0 controls but tab and newline, DEL and the C1 controls: NUL fails a PostgreSQL text
# column, the others only confuse a terminal or a spreadsheet.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` without NUL and other control characters (newline and tab stay; CR LF and CR
    become a newline), lone surrogates replaced by U+FFFD, NFC-normalised (Vietnamese typed
    as decomposed letters becomes one form) and cut to ``limit`` characters."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROLS.sub("", text)
    text = _SURROGATE.sub("\ufffd", text)
    text = unicodedata.normalize("NFC", text)
    return text[:limit]
