"""The ASGI app: the Telegram webhook (secret checked) and the health check."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.app import App
from bot.channels.telegram import SECRET_HEADER, WEBHOOK_PATH, TelegramChannel, webhook_url
from bot.web import MAX_BODY, FileLinks, create_web_app
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


# --- hostile bodies --------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"[" * 100_000, b"[" * 5_000 + b"]" * 5_000, b'{"a":' * 50_000])
async def test_deeply_nested_body_is_a_bad_request(
    small_app: App, channel: tuple[TelegramChannel, FakeTelegram], body: bytes
) -> None:
    tg, api = channel
    async with _client(small_app, tg) as client:
        res = await client.post(WEBHOOK_PATH, content=body, headers={SECRET_HEADER: tg.secret})
    assert res.status_code == 400
    assert "Traceback" not in res.text and not api.sent()


async def test_streamed_body_over_the_limit_is_not_read_to_the_end(
    small_app: App, channel: tuple[TelegramChannel, FakeTelegram]
) -> None:
    tg, _ = channel
    chunk = b" " * 65_536
    read = [0]

    async def four_megabytes() -> AsyncIterator[bytes]:
        for _ in range(64):
            read[0] += 1
            yield chunk

    async with _client(small_app, tg) as client:
        res = await client.post(
            WEBHOOK_PATH, content=four_megabytes(), headers={SECRET_HEADER: tg.secret}
        )
    assert res.status_code == 413
    # 1 MiB is 16 chunks: reading stopped there, not at the end of the body.
    assert read[0] <= MAX_BODY // len(chunk) + 2


async def test_declared_length_over_the_limit_is_refused_before_reading(
    small_app: App, channel: tuple[TelegramChannel, FakeTelegram]
) -> None:
    tg, _ = channel
    web = create_web_app(small_app.engine, small_app.kb, [tg.webhook()])
    received: list[int] = []
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        received.append(1)
        return {"type": "http.request", "body": b" " * 65_536, "more_body": len(received) < 32}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": WEBHOOK_PATH,
        "raw_path": WEBHOOK_PATH.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"content-length", str(100 << 20).encode()),
            (SECRET_HEADER.lower().encode(), tg.secret.encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
    }
    await web(scope, receive, send)
    assert sent[0]["status"] == 413
    assert received == []


async def test_the_same_update_posted_three_times_is_answered_once(
    small_app: App, channel: tuple[TelegramChannel, FakeTelegram]
) -> None:
    tg, api = channel
    update = message_update(LAN, "/help")
    async with _client(small_app, tg) as client:
        for _ in range(3):
            res = await client.post(WEBHOOK_PATH, json=update, headers={SECRET_HEADER: tg.secret})
            assert res.status_code == 200
    await tg.application.update_queue.join()
    assert len([t for t in api.texts(LAN) if t.startswith("Các lệnh của trợ lý")]) == 1


# --- signed file links -----------------------------------------------------------------------


def _links(root: Path) -> FileLinks:
    return FileLinks(b"k" * 32, "https://bot.example.vn", root=root)


async def _get(app: App, links: FileLinks, path: Path) -> httpx.Response:
    web = create_web_app(app.engine, app.kb, [], links)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://t") as c:
        return await c.get(f"{FileLinks.PATH}/{links.token_for(path, path.name)}")


async def test_a_signed_link_serves_a_file_in_the_export_folder(
    small_app: App, tmp_path: Path
) -> None:
    (tmp_path / "exports" / "a1").mkdir(parents=True)
    report = tmp_path / "exports" / "a1" / "bao-cao.xlsx"
    report.write_bytes(b"PK fake")
    res = await _get(small_app, _links(tmp_path / "exports"), report)
    assert res.status_code == 200 and res.content == b"PK fake"


@pytest.mark.parametrize("target", ["/etc/passwd", "outside", "symlink", "dotdot", "folder"])
async def test_a_signed_link_outside_the_export_folder_is_refused(
    small_app: App, tmp_path: Path, target: str
) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("not for members")
    path = {
        "/etc/passwd": Path("/etc/passwd"),
        "outside": secret,
        "symlink": exports / "link.txt",
        "dotdot": exports / ".." / "secret.txt",
        "folder": exports,
    }[target]
    (exports / "link.txt").symlink_to(secret)
    res = await _get(small_app, _links(exports), path)
    assert res.status_code == 404
    assert b"not for members" not in res.content and b"root:" not in res.content


@pytest.mark.parametrize(
    "path",
    [
        ("message", "chat", "id"),
        ("message", "from", "id"),
        ("message", "text"),
        ("message", "entities"),
        ("update_id",),
    ],
)
async def test_a_body_of_the_wrong_shape_is_ignored_not_failed(
    small_app: App,
    channel: tuple[TelegramChannel, FakeTelegram],
    caplog: pytest.LogCaptureFixture,
    path: tuple[str, ...],
) -> None:
    tg, api = channel
    update = message_update(LAN, "/help")
    target = update
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = {"not": ["what", "Telegram", "sends"]}
    async with _client(small_app, tg) as client:
        res = await client.post(WEBHOOK_PATH, json=update, headers={SECRET_HEADER: tg.secret})
    await tg.application.update_queue.join()
    assert res.status_code == 200 and not api.sent()
    # Errors of this update's handling: asyncio may log, at the same moment, a database
    # connection that an earlier test left to the garbage collector.
    ours = [r for r in caplog.records if r.name.startswith(("coopbot", "telegram"))]
    assert not [r for r in ours if r.levelno >= logging.ERROR]
