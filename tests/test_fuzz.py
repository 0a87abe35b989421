"""Fuzzing the doors: the console and both webhooks get random, hostile input for a bounded
time with a fixed seed (the random module only). Whatever comes in: no unhandled exception,
no traceback text in a reply, and the webhooks answer only 2xx or 4xx.

``FUZZ_SECONDS`` (default 1.5 per door and database) bounds each run; the seed makes the
inputs the same on every run up to that time.
"""

from __future__ import annotations

import io
import json
import logging
import os
import random
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bot.app import App
from bot.channels import telegram as tg_channel
from bot.channels import zalo as zalo_channel
from bot.channels.console import run_console
from bot.web import create_web_app
from tests.telegram_fake import FakeTelegram, callback_update, message_update
from tests.test_zalo import BASE, TOKEN, FakeZalo, Sleeps, text_update

SEED = 16
SECONDS = float(os.environ.get("FUZZ_SECONDS", "1.5"))
MAX_CASES = 1000

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

COMMANDS = [
    "/start", "/help", "/menu", "/dangky", "/baocao", "/quay", "/huy", "/lienhe", "/ngonngu",
    "/sukien", "/thongbao", "/mobaocao", "/xuat", "/vecho", "/quyen", "/huythongbao", "/htx",
]  # fmt: skip
ACTIONS = [
    "menu",
    "topic",
    "lang",
    "lk",
    "xd",
    "bc",
    "contact",
    "tk",
    "rp",
    "ev",
    "evf",
    "kb",
    "fb",
]
PIECES = [
    "\x00", "\x1b[2J", "\r", "\ud800", "\udfff", "\u202e", "\ufeff", "\u0301", "💥", "𝕏",
    "%s%n", "{0}{x}", "<b>", "</a>", "&amp;", "'; DROP TABLE members;--", "../../etc/passwd",
    "2026-13", "1e309", "-0", "9" * 30, "²③", "5 củ", "0987654321", "(098) 765 4321",
    "Hợp tác xã", "thanh lap htx", " ", "\n", "\t", "1", "2", "99", "-1",
]  # fmt: skip


def _text(rng: random.Random) -> str:
    parts: list[str] = []
    if rng.random() < 0.5:
        parts.append(rng.choice(COMMANDS))
    for _ in range(rng.randint(0, 6)):
        roll = rng.random()
        if roll < 0.5:
            parts.append(rng.choice(PIECES))
        elif roll < 0.8:
            parts.append("".join(chr(rng.randint(0, 0x2FF)) for _ in range(rng.randint(1, 12))))
        elif roll < 0.95:
            parts.append("".join(chr(rng.randint(0, 0x10FFFF)) for _ in range(rng.randint(1, 4))))
        else:
            parts.append(rng.choice(PIECES) * rng.randint(100, 3000))
    return rng.choice(["", " "]).join(parts)


def _action(rng: random.Random) -> str:
    fields = [
        rng.choice(ACTIONS),
        rng.choice(["", "1", "0", "-5", "abc", "2026-10", "x" * 40, "9" * 20]),
    ]
    for _ in range(rng.randint(0, 3)):
        fields.append(rng.choice(["1", "2026-10", "ok", "no", "\x00", ":", "%"]))
    return ":".join(fields)[:64]


def _value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if roll < 0.15:
        return None
    if roll < 0.3:
        return rng.choice([0, -1, 1, 2**63, -(2**70), 1.5, True, False])
    if roll < 0.6 or depth > 2:
        return _text(rng)
    if roll < 0.8:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {_text(rng)[:10] or "k": _value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def _mutate(rng: random.Random, data: Any) -> Any:
    """``data`` with a few fields replaced, removed or added, at any depth."""
    if isinstance(data, dict) and data:
        data = dict(data)
        key = rng.choice(list(data))
        roll = rng.random()
        if roll < 0.4:
            data[key] = _mutate(rng, data[key])
        elif roll < 0.7:
            data[key] = _value(rng)
        elif roll < 0.85:
            del data[key]
        else:
            data[_text(rng)[:12] or "x"] = _value(rng)
        return data
    if isinstance(data, list) and data:
        return [_mutate(rng, item) for item in data]
    return _value(rng) if rng.random() < 0.5 else data


def _body(rng: random.Random, valid: Callable[[], dict[str, Any]]) -> bytes:
    roll = rng.random()
    if roll < 0.55:
        data = valid()
        for _ in range(rng.randint(0, 3)):
            data = _mutate(rng, data)
        return json.dumps(data).encode()
    if roll < 0.7:
        return json.dumps(_value(rng)).encode()
    if roll < 0.8:
        depth = rng.randint(500, 20_000)
        return rng.choice([b"[" * depth, b"[" * depth + b"]" * depth, b'{"a":' * depth])
    if roll < 0.9:
        return bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 200)))
    data = json.dumps(valid()).encode()
    cut = rng.randint(0, len(data))
    return data[:cut] + bytes([rng.randint(0, 255)]) + data[cut + 1 :]


def _cases(seconds: float = SECONDS) -> Callable[[], bool]:
    """True while this door still has time and cases left."""
    deadline = time.monotonic() + seconds
    count = [0]

    def more() -> bool:
        count[0] += 1
        return count[0] <= MAX_CASES and time.monotonic() < deadline

    return more


def _no_errors(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [f"{r.name}: {r.getMessage()} {r.exc_text or ''}" for r in errors][:3]


def _no_traceback(texts: list[str]) -> None:
    for text in texts:
        assert "Traceback" not in text and 'File "' not in text and "Error:" not in text, text


async def test_fuzz_console(small_app: App, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    rng = random.Random(SEED)
    more = _cases()
    lines: list[bytes] = []
    while more() and len(lines) < 300:
        text = _text(rng) if rng.random() < 0.85 else str(rng.randint(0, 12))
        raw = text.encode("utf-8", errors="surrogatepass")
        if rng.random() < 0.2:
            cut = rng.randint(0, len(raw))
            raw = raw[:cut] + bytes([rng.randint(0x80, 0xFF)]) + raw[cut:]
        lines.append(raw.replace(b"\n", b" ") + b"\n")
    lines.append(b"/help\n")  # the last line is still read and answered
    stdin = io.TextIOWrapper(io.BytesIO(b"".join(lines)), encoding="utf-8", errors="strict")
    out = io.StringIO()
    assert await run_console(small_app.conversation, "fuzz", stdin, out) == 0
    _no_traceback([out.getvalue()])
    assert "Các lệnh của trợ lý" in out.getvalue()
    _no_errors(caplog)


async def test_fuzz_telegram_webhook(small_app: App, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    rng = random.Random(SEED)
    api = FakeTelegram()
    channel = tg_channel.TelegramChannel(small_app.conversation, "123456789:FUZZ", request=api)
    await channel.initialize(retries=0)
    await channel.start_webhook("https://coop.example.org/")
    users = [4101, 4102, 4103]

    def valid() -> dict[str, Any]:
        user = rng.choice(users)
        if rng.random() < 0.3:
            return callback_update(user, _action(rng))
        return message_update(user, _text(rng) or "x")

    web = create_web_app(small_app.engine, small_app.kb, [channel.webhook()])
    statuses: set[int] = set()
    more = _cases()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://test"
    ) as client:
        while more():
            res = await client.post(
                tg_channel.WEBHOOK_PATH,
                content=_body(rng, valid),
                headers={tg_channel.SECRET_HEADER: channel.secret},
            )
            statuses.add(res.status_code)
            _no_traceback([res.text])
    await channel.application.update_queue.join()
    await channel.stop()
    assert all(200 <= s < 300 or 400 <= s < 500 for s in statuses), statuses
    assert 200 in statuses and 400 in statuses  # both kinds of input got through
    _no_traceback(api.texts())
    _no_errors(caplog)


async def test_fuzz_zalo_webhook(small_app: App, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    rng = random.Random(SEED)
    api = FakeZalo()
    channel = zalo_channel.ZaloChannel(
        small_app.conversation, TOKEN, BASE, transport=api.transport, sleep=Sleeps()
    )
    await channel.initialize(retries=0)
    users = ["f00a", "f00b", "f00c"]

    def valid() -> dict[str, Any]:
        update = text_update(rng.choice(users), _text(rng) or "x")
        if rng.random() < 0.2:
            update["event_name"] = rng.choice(
                ["message.image.received", "message.sticker.received", "other", ""]
            )
        return {"ok": True, "result": update} if rng.random() < 0.3 else update

    web = create_web_app(small_app.engine, small_app.kb, [channel.webhook()])
    statuses: set[int] = set()
    more = _cases()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://test"
    ) as client:
        while more():
            res = await client.post(
                zalo_channel.WEBHOOK_PATH,
                content=_body(rng, valid),
                headers={zalo_channel.SECRET_HEADER: channel.secret},
            )
            statuses.add(res.status_code)
            _no_traceback([res.text])
    await channel.join()
    await channel.stop()
    assert all(200 <= s < 300 or 400 <= s < 500 for s in statuses), statuses
    assert 200 in statuses and 400 in statuses
    _no_traceback(api.texts())
    _no_errors(caplog)


@pytest.mark.parametrize("action", ["tk:ans:" + "9" * 20, "ev:x:" + "9" * 20])
async def test_forged_button_with_a_huge_id_is_refused_politely(
    small_app: App, caplog: pytest.LogCaptureFixture, action: str
) -> None:
    from tests.conftest import Chat

    caplog.set_level(logging.WARNING)
    outcome = await Chat(small_app, "boss").send(action=action)
    assert outcome.error_id is None
    _no_errors(caplog)
