"""The ASGI app: the Telegram webhook (secret checked) and the health check."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.app import App
from bot.channels.telegram import SECRET_HEADER, WEBHOOK_PATH, TelegramChannel, webhook_url
from bot.web import create_web_app
from db.session import create_engine
from tests.telegram_fake import TOKEN, FakeTelegram, message_update

LAN = 4001


@pytest.fixture
async def channel(small_app: App) -> AsyncIterator[tuple[TelegramChannel, FakeTelegram]]:
    api = FakeTelegram()
    channel = TelegramChannel(small_app.conversation, TOKEN, request=api)
    await channel.initialize(retries=0)
    await channel.start_webhook("https://coop.example.org/")
    yield channel, api
    await channel.stop()


def _client(app: App, channel: TelegramChannel) -> httpx.AsyncClient:
    web = create_web_app(app.engine, app.kb, [channel.webhook()])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://test")


def test_webhook_url() -> None:
    assert webhook_url("https://coop.example.org") == "https://coop.example.org/telegram/webhook"
    assert webhook_url("https://x.org/telegram/webhook/") == "https://x.org/telegram/webhook"


async def test_webhook_is_registered_with_a_secret(channel: tuple[TelegramChannel, FakeTelegram]):
    tg, api = channel
    (params,) = api.sent("setWebhook")
    assert params["url"] == "https://coop.example.org/telegram/webhook"
    assert params["secret_token"] == tg.secret and len(tg.secret) >= 32
    assert TOKEN.split(":")[1] not in tg.secret
    assert set(params["allowed_updates"]) == {"message", "callback_query", "my_chat_member"}


async def test_webhook_with_secret_is_processed(
    small_app: App, channel: tuple[TelegramChannel, FakeTelegram]
) -> None:
    tg, api = channel
    async with _client(small_app, tg) as client:
        res = await client.post(
            WEBHOOK_PATH, json=message_update(LAN, "/help"), headers={SECRET_HEADER: tg.secret}
        )
    assert res.status_code == 200
    await tg.application.update_queue.join()
    assert api.texts(LAN)[0].startswith("Các lệnh của trợ lý")


@pytest.mark.parametrize("headers", [{}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: "sai-bí-mật"}])
async def test_webhook_without_the_right_secret_is_refused(
    small_app: App, channel: tuple[TelegramChannel, FakeTelegram], headers: dict[str, str]
) -> None:
    tg, api = channel
    async with _client(small_app, tg) as client:
        res = await client.post(
            WEBHOOK_PATH,
            content=httpx.Request("POST", "/", json=message_update(LAN, "/help")).content,
            headers={k: v.encode() for k, v in headers.items()},  # type: ignore[misc]
        )
    assert res.status_code == 403
    await tg.application.update_queue.join()
    assert tg.application.update_queue.empty() and not api.sent()


async def test_webhook_rejects_what_is_not_json(
    small_app: App, channel: tuple[TelegramChannel, FakeTelegram]
) -> None:
    tg, _ = channel
    async with _client(small_app, tg) as client:
        res = await client.post(
            WEBHOOK_PATH, content=b"{not json", headers={SECRET_HEADER: tg.secret}
        )
        get = await client.get(WEBHOOK_PATH)
    assert res.status_code == 400 and get.status_code == 405


async def test_healthz_reports_database_and_knowledge(small_app: App) -> None:
    web = create_web_app(small_app.engine, small_app.kb)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://t") as c:
        res = await c.get("/healthz")
    assert res.status_code == 200
    assert res.json() == {
        "status": "ok",
        "database": "ok",
        "knowledge_entries": len(small_app.kb.entries),
        "outbox": None,
    }


async def test_healthz_says_when_the_database_is_down(small_app: App) -> None:
    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    web = create_web_app(engine, small_app.kb)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web), base_url="http://t"
        ) as c:
            res = await c.get("/healthz")
    finally:
        await engine.dispose()
    assert res.status_code == 503
    assert res.json()["database"] == "unreachable" and res.json()["status"] == "error"
