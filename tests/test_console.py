"""The console channel at the edge: what a terminal or a pipe can throw at it."""

from __future__ import annotations

import io

import pytest

from bot.app import App
from bot.channels.console import run_console
from ground.messages import Incoming
from ground.text import clean_text
from tests.conftest import Chat


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\x00b", "ab"),
        ("dòng 1\r\ndòng 2\rdòng 3", "dòng 1\ndòng 2\ndòng 3"),
        ("tab\tand\nnewline stay", "tab\tand\nnewline stay"),
        ("\x1b[31mred\x7f\x85", "[31mred"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        ("Vie\u0302\u0323t Nam", "Việt Nam"),  # decomposed → one form (NFC)
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_clean_text_caps_length() -> None:
    assert len(clean_text("a" * 100_000)) == 8000
    assert clean_text("abcdef", limit=3) == "abc"


def test_incoming_is_cleaned_for_every_channel() -> None:
    incoming = Incoming("zalo", "u\x00", text="x\x00y", display_name="\ud800", action="a\x00")
    assert (incoming.user_id, incoming.text, incoming.action) == ("u", "xy", "a")
    assert incoming.display_name == "\ufffd"


async def test_nul_in_a_message_does_not_fail_the_update(small_app: App) -> None:
    outcome = await Chat(small_app).send("/help\x00")
    assert outcome.error_id is None
    assert outcome.replies[0].text.startswith("Các lệnh của trợ lý")


async def test_invalid_utf8_on_a_strict_stdin_keeps_the_console_going(small_app: App) -> None:
    raw = b"/help \xff\xfe\n\xc3\n/lienhe\n"
    stdin = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", errors="strict")
    out = io.StringIO()
    assert await run_console(small_app.conversation, "u1", stdin, out) == 0
    text = out.getvalue()
    assert text.count("Các lệnh của trợ lý") == 1  # the first line, bytes replaced
    assert "Traceback" not in text and "UnicodeDecodeError" not in text
    assert len(text.strip().split("\n\n")) >= 3  # every line was answered, the last too
