"""The console channel: chat with the assistant in a terminal, or pipe lines through it.

Buttons are shown as a numbered list; typing the number presses the button. Notices
(broadcasts) to console members are delivered while a console is attached: after each
message, the console's delivery engine hands them to each console member's inbox (the
outbox), shown to the user typing at once and to another console user when they next chat.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from typing import TextIO

from bot.channels.delivery import DeliveryEngine, reply_of
from db import outbox
from db.queries import get_member
from ground.messages import Incoming, Reply
from handlers.core import Conversation


def render(reply: Reply, choose_hint: str, first: int = 1) -> str:
    """``reply`` as text; its buttons numbered from ``first`` (the replies of one answer share
    one numbering, as the core remembers their buttons in order)."""
    lines = [reply.text]
    buttons = reply.flat_buttons()
    if buttons and reply.numbers_are_text:
        lines.append("")
        lines.extend(f"  • {b.label}" for b in buttons)
    elif buttons:
        lines.append("")
        lines.extend(f"  {i}. {b.label}" for i, b in enumerate(buttons, first))
        lines.append(choose_hint)
    if reply.attachment:
        lines.append(f"[{reply.attachment.filename}: {reply.attachment.path}]")
    return "\n".join(lines)


async def take_outbox(
    conversation: Conversation, user_id: str, remember: bool = True
) -> list[Reply]:
    """Messages waiting for this console user (e.g. an approval for staff), marked sent; their
    buttons continue the numbering of the replies shown just before (``remember``)."""
    async with conversation.sessions() as session:
        rows = [r for r, m in await outbox.pending(session, "console") if m.user_id == user_id]
        for row in rows:
            outbox.mark_sent(row, conversation.clock())
        await session.commit()
    replies = [reply_of(r.text, r.buttons) for r in rows]
    if rows and remember:
        # Buttons of a notification can be pressed by number, like any others.
        await remember_buttons(conversation, user_id, replies)
    return replies


class ConsoleSender:
    """The console's side of the delivery engine: a notice goes to the member's inbox."""

    channel = "console"
    per_second = 1000.0
    per_chat_interval = 0.0

    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation

    async def send(self, user_id: str, reply: Reply) -> None:
        conv = self.conversation
        async with conv.sessions() as session:
            member = await get_member(session, "console", user_id)
            if member is None:  # the member was erased (/xoadulieu) since the row was made
                raise LookupError("no such console member")
            outbox.enqueue(session, member, reply, conv.clock())
            await session.commit()

    async def progress(self, user_id: str, text: str, message_id: str | None) -> str | None:
        return None  # the final report comes through the outbox; no message to edit


def console_engine(conversation: Conversation) -> DeliveryEngine:
    return DeliveryEngine(
        conversation.sessions,
        [ConsoleSender(conversation)],
        conversation.translations,
        clock=conversation.clock,
    )


async def remember_buttons(conversation: Conversation, user_id: str, replies: list[Reply]) -> None:
    actions = [b.action for r in replies for b in r.flat_buttons()]
    if not actions:
        return
    async with conversation.sessions() as session:
        member = await get_member(session, "console", user_id)
        if member is not None:
            member.pending_actions = [*(member.pending_actions or []), *actions]
            await session.commit()


def _read_line(stdin: TextIO) -> str:
    """One line of input as UTF-8, never failing on bytes that are not: they are replaced, and the
    rest of the input is still read. A text stream without bytes underneath (tests) is read as
    text."""
    raw = getattr(stdin, "buffer", None)
    if raw is None:
        return stdin.readline()
    data = raw.readline()
    return data.decode("utf-8", errors="replace")


async def run_console(
    conversation: Conversation,
    user_id: str = "local",
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    """Read messages until end of input; returns the exit code."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty() and stdout.isatty()
    typed_here = stdin.isatty()  # a terminal shows what is typed already
    engine = console_engine(conversation)
    n = 0
    while True:
        if interactive:
            try:
                line = await asyncio.to_thread(input, "> ")
            except (EOFError, KeyboardInterrupt):
                stdout.write("\n")
                return 0
            except UnicodeDecodeError:
                continue  # a line the terminal could not decode: skipped, the console goes on
        else:
            line = await asyncio.to_thread(_read_line, stdin)
            if not line:
                return 0
        line = line.strip()
        if not line:
            continue
        if not typed_here:  # piped in: echo the line so the output reads as a transcript
            stdout.write(f"> {line}\n")
        n += 1
        incoming = Incoming(
            channel="console",
            user_id=user_id,
            text=line,
            update_id=str(n),
            numbered_buttons=True,
        )
        outcome = await conversation.handle(incoming)
        t = conversation.translations.get(outcome.locale)
        hint = t.t("(Gõ số để chọn)")
        first = 1
        for reply in outcome.replies:
            stdout.write(render(reply, hint, first) + "\n\n")
            if not reply.numbers_are_text:
                first += len(reply.flat_buttons())
        typed = any(r.numbers_are_text for r in outcome.replies)
        await engine.drain()  # notices to console members, and their final report
        for reply in await take_outbox(conversation, user_id, remember=not typed):
            shown = reply if not typed else replace(reply, numbers_are_text=True)
            stdout.write(render(shown, hint, first) + "\n\n")
            first += len(reply.flat_buttons())
        stdout.flush()
