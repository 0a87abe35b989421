"""Channel-neutral messages: what a channel hands the core and what the core answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ground.text import clean_text

# The longest text one message may carry on each channel; channels not listed (the console)
# have no limit. Channels split longer texts themselves, anywhere; a handler that wants to
# split at meaningful places (the clauses of an article) reads ``Incoming.text_limit``.
TEXT_LIMITS: dict[str, int] = {"telegram": 4096, "zalo": 2000}


@dataclass(frozen=True)
class Incoming:
    """One thing a member did: typed text, or pressed a button (``action``)."""

    channel: str
    user_id: str
    text: str | None = None
    action: str | None = None
    display_name: str | None = None
    language_code: str | None = None
    update_id: str | None = None
    # True when the channel shows buttons as a numbered list (console, Zalo): a bare
    # number then presses the button with that number.
    numbered_buttons: bool = False
    # Something other than text was sent: "image", "sticker", "voice", "file" or "other".
    media: str | None = None
    # The channel may deliver the same update twice (Zalo): handle ``update_id`` only once.
    once: bool = False
    # A phone number shared with the channel's own button (a Telegram contact), and whether
    # the channel vouches that it is the sender's own number (the contact's user is the sender).
    contact_phone: str | None = None
    contact_verified: bool = False
    # False in a group chat, where everyone reads the answers: only what is public is answered.
    private: bool = True

    @property
    def text_limit(self) -> int | None:
        """The most characters one message may carry on this channel (None: no limit)."""
        return TEXT_LIMITS.get(self.channel)

    def __post_init__(self) -> None:
        # Everything here came from outside: cleaned once, here, for every channel (no NUL
        # for PostgreSQL, no lone surrogates, NFC, bounded length).
        for name, limit in _CLEANED:
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, clean_text(value, limit))


_CLEANED = (
    ("user_id", 128),
    ("text", 8000),
    ("action", 256),
    ("display_name", 128),
    ("language_code", 16),
    ("update_id", 128),
)


@dataclass(frozen=True)
class Button:
    label: str
    action: str  # short ASCII, at most 64 bytes (Telegram's callback_data limit)

    def __post_init__(self) -> None:
        if not self.action.isascii() or len(self.action.encode()) > 64:
            raise ValueError(f"button action must be ASCII and <= 64 bytes: {self.action!r}")


@dataclass(frozen=True)
class Attachment:
    """An image or a file to send with a reply."""

    path: Path
    filename: str
    is_image: bool = False


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    attachment: Attachment | None = None
    # When the reply answers a button press, the channel may edit the message with it.
    edit: bool = False
    # Asking for the member's phone number: channels that can (Telegram) show a button with
    # this label that shares it.
    contact_button: str | None = None
    # The question expects typed text or a number: on numbered-button channels a bare number
    # is then an answer, not a button press, and the buttons are pressed by typing their label.
    numbers_are_text: bool = False

    def flat_buttons(self) -> list[Button]:
        """Buttons in reading order: the numbering used by numbered-button channels."""
        return [b for row in self.buttons for b in row]


def rows(*buttons: Button, per_row: int = 1) -> tuple[tuple[Button, ...], ...]:
    """Lay ``buttons`` out ``per_row`` to a row."""
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))


@dataclass
class Outcome:
    """What handling one :class:`Incoming` produced, for the channel and for the log."""

    replies: list[Reply] = field(default_factory=list)
    handler: str = ""
    error_id: str | None = None
    locale: str | None = None
