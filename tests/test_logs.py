import io
import json
import logging

import httpx
import pytest

from bot.app import App
from bot.channels.telegram import SECRET_HEADER, WEBHOOK_PATH, TelegramChannel
from bot.web import create_web_app
from ground.logs import (
    RedactFilter,
    log_event,
    redact,
    settings_secrets,
    setup_logging,
    user_hash,
)
from ground.settings import Settings
from knowledge.phone import normalize_phone
from tests.telegram_fake import FakeTelegram, message_update


def test_redact_tokens_and_phones() -> None:
    line = "POST https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe 0912345678 +84 912 345 678"
    out = redact(line)
    assert "AAHdqTcv" not in out
    assert "0912345678" not in out and "912 345 678" not in out
    assert "getMe" in out


def test_one_json_line_per_event() -> None:
    stream = io.StringIO()
    setup_logging("INFO", stream)
    log_event(
        logging.getLogger("t"),
        "update handled",
        channel="telegram",
        user=user_hash("telegram", "42"),
        duration_ms=1.5,
    )
    lines = stream.getvalue().strip().splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert data["msg"] == "update handled"
    assert data["channel"] == "telegram"
    assert data["user"] != "42" and len(data["user"]) == 12
    logging.getLogger().handlers.clear()


PHONES_TYPED = ("(098) 765 4321", "098 765  4323", "+84(0)987654322", "(+84) 912 345 678")


@pytest.mark.parametrize("typed", [*PHONES_TYPED, "098.765.4321", "84 987 654 321"])
def test_every_phone_format_is_redacted(typed: str) -> None:
    out = redact(f"member typed {typed} in /dangky")
    assert out == "member typed <phone> in /dangky"


def test_dates_times_and_amounts_are_not_taken_for_phones() -> None:
    line = "2026-11-29T18:06:04.123+00:00 duration_ms=0.53 update 841234567 500000000 đồng"
    assert redact(line) == line


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("+84(0)987654322", "0987654322"),
        ("(098) 765 4321", "0987654321"),
        ("098 765  4323", "0987654323"),
        ("0084 912 345 678", "0912345678"),
        ("(+84) 912 345 678", "0912345678"),
        ("84912345678", "0912345678"),
        ("12345", None),
    ],
)
def test_phones_are_stored_normalised(typed: str, stored: str | None) -> None:
    assert normalize_phone(typed) == stored


def test_configured_secrets_are_redacted_whatever_their_length() -> None:
    stream = io.StringIO()
    setup_logging(
        "DEBUG",
        stream,
        secrets=settings_secrets(
            Settings(
                telegram_bot_token="7:tiny",
                database_url="postgresql+asyncpg://coop:pa55word@db/coop",
            )
        ),
    )
    try:
        third_party = logging.getLogger("telegram.ext.ExtBot")  # not ours: covered too
        third_party.debug("POST https://api.telegram.org/bot7:tiny/getMe %s", {"x": 1})
        logging.getLogger("uvicorn.error").debug("connect to coop:pa55word@db")
        logging.getLogger("httpx").warning('HTTP Request: POST https://x/bottiny/getMe "429"')
        try:
            raise RuntimeError("failed with token 7:tiny")
        except RuntimeError:
            logging.getLogger("t").exception("boom %s", "(098) 765 4321")
    finally:
        logging.getLogger().handlers.clear()
    text = stream.getvalue()
    assert len(text.strip().splitlines()) == 4
    assert "tiny" not in text and "pa55word" not in text and "765 4321" not in text
    assert "RuntimeError" in text and "<secret>" in text and "<phone>" in text


async def test_debug_logs_of_a_telegram_webhook_show_no_secret_token_or_phone(
    small_app: App, caplog: pytest.LogCaptureFixture
) -> None:
    token = "42:shorty"  # shorter than any token pattern: only redaction by value finds it
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")
    caplog.handler.addFilter(RedactFilter())  # as setup_logging installs on the root handler
    api = FakeTelegram()
    channel = TelegramChannel(small_app.conversation, token, request=api)
    await channel.initialize(retries=0)
    await channel.start_webhook("https://coop.example.org/")
    web = create_web_app(small_app.engine, small_app.kb, [channel.webhook()])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://test"
    ) as client:
        for typed in PHONES_TYPED:
            res = await client.post(
                WEBHOOK_PATH,
                json=message_update(4001, f"số của tôi {typed}"),
                headers={SECRET_HEADER: channel.secret},
            )
            assert res.status_code == 200
    await channel.application.update_queue.join()
    await channel.stop()
    text = caplog.text + "".join(str(r.__dict__.get("fields", "")) for r in caplog.records)
    assert "setWebhook" in text and "Processing update" in text  # PTB did log at DEBUG…
    assert channel.secret not in text and "shorty" not in text  # …without the secrets
    for digits in ("765 4321", "765  4323", "987654322", "912 345 678"):
        assert digits not in text
