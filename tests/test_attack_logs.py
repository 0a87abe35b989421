"""Logs at DEBUG on Zalo (#16; Telegram's is in tests/test_logs.py): a short bot token (found
only by value), the webhook secret and every phone format members type never appear, whatever
logs them (httpx, the channel, the core). Both databases."""

from __future__ import annotations

import logging

import httpx
import pytest

from bot.app import App
from bot.channels.zalo import SECRET_HEADER, WEBHOOK_PATH, ZaloChannel
from bot.web import create_web_app
from ground.logs import RedactFilter
from tests.test_logs import PHONES_TYPED
from tests.zalo_fake import BASE, LAN, FakeZalo, Sleeps, text_update

SHORT_TOKEN = "9:zq"  # matches no token pattern: only redaction by value removes it


async def test_debug_logs_of_a_zalo_webhook_show_no_token_secret_or_phone(
    small_app: App, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tests.zalo_fake.TOKEN", SHORT_TOKEN)  # the fake API's own token
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")
    caplog.handler.addFilter(RedactFilter())  # as setup_logging installs on the root handler
    api = FakeZalo()
    channel = ZaloChannel(
        small_app.conversation, SHORT_TOKEN, BASE, transport=api.transport, sleep=Sleeps()
    )
    await channel.initialize(retries=0)
    await channel.start_webhook("https://coop.example.org/")
    web = create_web_app(small_app.engine, small_app.kb, [channel.webhook()])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://test"
    ) as client:
        for typed in PHONES_TYPED:
            res = await client.post(WEBHOOK_PATH, json=text_update(LAN, f"số tôi {typed}"),
                                    headers={SECRET_HEADER: channel.secret})  # fmt: skip
            assert res.status_code == 200
        await client.post(WEBHOOK_PATH, json=text_update(LAN, "x"),
                          headers={SECRET_HEADER: channel.secret + "x"})  # fmt: skip
    await channel.join()
    await channel.stop()
    text = caplog.text + "".join(str(r.__dict__.get("fields", "")) for r in caplog.records)
    assert "setWebhook" in text and "sendMessage" in text  # httpx did log the URLs at DEBUG…
    assert channel.secret not in text and "zq" not in text  # …without the secrets
    if small_app.settings.database_url.startswith("sqlite"):  # aiosqlite logs parameters
        assert "số tôi <phone>" in text  # the messages were logged, redacted
    for digits in ("765 4321", "765  4323", "987654322", "912 345 678"):
        assert digits not in text
