"""Long text cut into messages a channel accepts, shared by every channel.

Lengths are counted in UTF-16 code units, as Telegram counts them; for a channel that counts
characters (Zalo) that is only more careful.
"""

from __future__ import annotations


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _prefix_within(text: str, limit: int) -> int:
    """The number of characters of ``text`` that fit in ``limit`` UTF-16 units."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return i
    return len(text)


def split_text(text: str, limit: int = 4096) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` units, at a paragraph, line or word break
    when there is one in the second half of the window, else at the limit."""
    parts: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        window = rest[: _prefix_within(rest, limit)]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            at = window.rfind(sep)
            if at >= len(window) // 2:
                cut = at
                break
        if cut <= 0:
            cut = len(window)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not parts:
        parts.append(rest)
    return parts
