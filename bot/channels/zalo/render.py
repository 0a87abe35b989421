"""Zalo replies as plain text: buttons as a numbered list with a hint ("Gõ 1, 2 hoặc 3 để
chọn."), long text split into messages of at most 2,000 characters."""

from __future__ import annotations

from bot.channels.text import split_text
from ground.i18n import Translator
from ground.messages import Reply

MAX_TEXT = 2000


def choose_hint(t: Translator, n: int, first: int = 1) -> str:
    """ "Gõ 1, 2 hoặc 3 để chọn." for ``n`` buttons numbered from ``first``."""
    last = first + n - 1
    if n == 1:
        return t.t("Gõ 1 để chọn.") if first == 1 else t.t("Gõ {number} để chọn.", number=first)
    if n <= 5:
        numbers = ", ".join(str(i) for i in range(first, last))
        return t.t("Gõ {numbers} hoặc {last} để chọn.", numbers=numbers, last=last)
    if first == 1:
        return t.t("Gõ một số từ 1 đến {last} để chọn.", last=last)
    return t.t("Gõ một số từ {first} đến {last} để chọn.", first=first, last=last)


def render_buttons(reply: Reply, t: Translator, first: int = 1) -> str:
    """The numbered list of ``reply``'s buttons, numbered from ``first`` (the replies of one
    answer share one numbering, as the core remembers their buttons in order)."""
    buttons = reply.flat_buttons()
    if not buttons:
        return ""
    if reply.numbers_are_text:  # a typed number answers the question: type the label
        return "\n".join(f"• {b.label}" for b in buttons)
    lines = [f"{i}. {b.label}" for i, b in enumerate(buttons, first)]
    return "\n".join([*lines, choose_hint(t, len(buttons), first)])


def render_messages(text: str, menu: str = "", limit: int = MAX_TEXT) -> list[str]:
    """``text`` split into messages of at most ``limit`` characters, with the numbered list
    ``menu`` kept whole at the end (in its own message when it does not fit the last)."""
    parts = split_text(text.strip(), limit) if text.strip() else []
    if menu:
        if parts and len(parts[-1]) + 2 + len(menu) <= limit:
            parts[-1] = f"{parts[-1]}\n\n{menu}"
        else:
            parts += split_text(menu, limit)
    return parts
