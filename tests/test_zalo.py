"""The Zalo channel offline: the Zalo Bot API faked with ``httpx.MockTransport`` (no network),
every backoff through a recording sleep (no waiting). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import traceback
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.app import App
from bot.channels.zalo import (
    CHANNEL,
    MAX_TEXT,
    SECRET_HEADER,
    WEBHOOK_PATH,
    RecentIds,
    ZaloApi,
    ZaloChannel,
    ZaloError,
    ZaloNetworkError,
    ZaloUnauthorized,
    choose_hint,
    render_messages,
    to_inbound,
    unwrap,
    webhook_url,
)
from bot.web import FileLinks, create_web_app
from db.models import Member
from ground.logs import redact
from ground.messages import Attachment, Button, Reply
from ground.settings import load_settings

TOKEN = "3f9a1c2b7d4e5f60:kJ8sHq2xZ0pLm4NvR7tY1uWc9eBdA3Qz"
SECRET_PART = TOKEN.split(":")[1]
BASE = "https://zalo.test/bot"
LAN, MAI = "a1b2c3d4e5f60718", "b2c3d4e5f6071829"
SAFETY_TIMEOUT = 20.0
NETWORK = -1  # a failure that is a network error rather than an HTTP answer


# --- a fake Zalo Bot API -------------------------------------------------------------------


def message(user: str, event: str, **fields: Any) -> dict[str, Any]:
    message.counter += 1  # type: ignore[attr-defined]
    msg: dict[str, Any] = {
        "from": {"id": user, "display_name": "Lan Nguyễn", "is_bot": False},
        "chat": {"id": user, "chat_type": "PRIVATE"},
        "message_id": f"m{message.counter:06d}",  # type: ignore[attr-defined]
        "date": 1764298800000 + message.counter,  # type: ignore[attr-defined]
    }
    msg.update(fields)
    return {"event_name": event, "message": msg}


message.counter = 0  # type: ignore[attr-defined]


def text_update(user: str, text: str, **fields: Any) -> dict[str, Any]:
    return message(user, "message.text.received", text=text, **fields)


class FakeZalo:
    """Records every call as ``(method, params)``; ``fail`` makes the next calls of a method
    answer an HTTP error (or raise a network error); ``getUpdates`` hands out the queued
    updates and statuses, then answers 408 (or, with ``block=True``, waits for more)."""

    def __init__(self, block: bool = False) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.block = block
        self._failures: dict[str, deque[int]] = {}
        self._polls: asyncio.Queue[int | dict[str, Any]] = asyncio.Queue()
        self._changed = asyncio.Condition()
        self.transport = httpx.MockTransport(self.handle)

    def fail(self, method: str, *statuses: int) -> None:
        self._failures.setdefault(method, deque()).extend(statuses)

    def queue(self, *items: int | dict[str, Any]) -> None:
        for item in items:
            self._polls.put_nowait(item)

    def sent(self, *methods: str) -> list[dict[str, Any]]:
        methods = methods or ("sendMessage",)
        return [p for m, p in self.calls if m in methods]

    def texts(self, chat_id: str | None = None) -> list[str]:
        return [p["text"] for p in self.sent() if chat_id is None or p["chat_id"] == chat_id]

    async def wait_for(self, done: Callable[[], bool]) -> None:
        """Wait until ``done()`` is true; the time-out is a safety net, not an assertion."""
        async with asyncio.timeout(SAFETY_TIMEOUT), self._changed:
            await self._changed.wait_for(done)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        prefix, _, method = request.url.path.rpartition("/")
        if prefix != f"/bot{TOKEN}":
            return httpx.Response(401, json={"ok": False, "error_code": 401})
        params = json.loads(request.content or b"{}")
        if method == "getUpdates":
            item = await self._next_poll()
            if isinstance(item, int):
                return httpx.Response(item, json={"ok": False, "error_code": item})
            return httpx.Response(200, json={"ok": True, "result": item})
        self.calls.append((method, params))
        async with self._changed:
            self._changed.notify_all()
        queue = self._failures.get(method)
        if queue:
            status = queue.popleft()
            if status == NETWORK:
                raise httpx.ConnectError(f"connection refused: {request.url}", request=request)
            body = {"ok": False, "error_code": status, "description": f"failed: {request.url}"}
            return httpx.Response(status, json=body)
        return httpx.Response(200, json={"ok": True, "result": self._result(method)})

    async def _next_poll(self) -> int | dict[str, Any]:
        if self.block:
            return await self._polls.get()
        return self._polls.get_nowait() if not self._polls.empty() else 408

    @staticmethod
    def _result(method: str) -> Any:
        if method == "getMe":
            return {"id": "b0751d", "account_name": "bot.htx", "display_name": "Bot HTX"}
        if method.startswith("send"):
            return {"message_id": "out1", "date": 1764298800000}
        return True


@dataclass
class Sleeps:
    """Every backoff is recorded here instead of waited for."""

    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


@dataclass
class Bot:
    channel: ZaloChannel
    api: FakeZalo
    sleeps: Sleeps

    async def send(self, *updates: dict[str, Any]) -> None:
        """Feed updates as the webhook does, and wait until all are handled."""
        for update in updates:
            self.channel.dispatch(update)
        await self.channel.join()


@pytest.fixture
async def zalo(small_app: App) -> AsyncIterator[Bot]:
    api, sleeps = FakeZalo(), Sleeps()
    channel = ZaloChannel(
        small_app.conversation, TOKEN, BASE, transport=api.transport, sleep=sleeps
    )
    await channel.initialize(retries=0)
    yield Bot(channel, api, sleeps)
    await channel.stop()


async def _member(app: App, user_id: str) -> Member:
    async with app.conversation.sessions() as s:
        stmt = select(Member).where(Member.channel == CHANNEL, Member.user_id == user_id)
        return (await s.execute(stmt)).scalar_one()


@pytest.fixture
def extra_commands(small_app: App):  # type: ignore[no-untyped-def]
    router = small_app.conversation.router
    before = len(router.commands)

    def register(name: str, reply: Reply) -> None:
        @router.command(name, description=name, in_menu=False)
        async def handler(ctx, arg):  # type: ignore[no-untyped-def]
            return reply

    yield register
    for cmd in router.commands[before:]:
        for n in cmd.names:
            router._by_name.pop(n, None)
    del router.commands[before:]


# --- pure functions ------------------------------------------------------------------------


def test_update_becomes_incoming() -> None:
    inbound = to_inbound(text_update(LAN, "xin chào"))
    assert inbound is not None and inbound.private and inbound.kind == "text"
    inc = inbound.incoming
    assert (inc.channel, inc.user_id, inc.text) == ("zalo", LAN, "xin chào")
    assert inc.numbered_buttons is True and inc.display_name == "Lan Nguyễn"
    assert inbound.chat_id == LAN and inc.update_id == inbound.message_id
    image = to_inbound(message(LAN, "message.image.received", photo="https://x/p.jpg"))
    assert image is not None and image.kind == "image"
    assert to_inbound(message(LAN, "message.reaction.received")) is None
    bot = text_update(LAN, "hi")
    bot["message"]["from"]["is_bot"] = True
    assert to_inbound(bot) is None


def test_groups_get_only_commands() -> None:
    group = {"id": "g0123", "chat_type": "GROUP"}
    assert to_inbound(text_update(LAN, "chào cả nhà", chat=group)) is None
    assert to_inbound(message(LAN, "message.sticker.received", chat=group)) is None
    cmd = to_inbound(text_update(LAN, "/help", chat=group))
    assert cmd is not None and cmd.chat_id == "g0123" and not cmd.private


def test_webhook_bodies_wrapped_or_bare() -> None:
    update = text_update(LAN, "xin chào")
    assert unwrap({"ok": True, "result": update}) == [update]
    assert unwrap(update) == [update]
    assert unwrap({"ok": True, "result": [update, update]}) == [update, update]
    assert unwrap("nonsense") == [] and unwrap({"ok": True, "result": None}) == []


def test_recent_ids_are_bounded() -> None:
    seen = RecentIds(size=3)
    assert [seen.add(k) for k in "abca"] == [True, True, True, False]
    assert seen.add("d") and seen.add("e")  # "b" and "c" fall out, "a" was refreshed
    assert seen.add("a") is False and seen.add("b") is True


async def test_a_repeated_update_is_not_answered_again_after_a_restart(
    zalo: Bot, small_app: App
) -> None:
    update = text_update(LAN, "/start")
    await zalo.send(update)
    answered = len(zalo.api.texts(LAN))
    assert answered >= 1
    # A new channel (a restart: its in-memory ids are empty) gets the same update again.
    again = ZaloChannel(
        small_app.conversation, TOKEN, BASE, transport=zalo.api.transport, sleep=Sleeps()
    )
    again.dispatch(update)
    await again.join()
    assert len(zalo.api.texts(LAN)) == answered
    # A new message from the same member is answered as usual.
    await zalo.send(text_update(LAN, "/help"))
    assert len(zalo.api.texts(LAN)) > answered
    await again.stop()


def test_long_replies_are_split_within_2000_characters() -> None:
    paragraph = "Hợp tác xã phải có điều lệ được đại hội thành viên thông qua. " * 20
    text = "\n\n".join([paragraph.strip()] * 4)  # ~5,000 characters
    parts = render_messages(text)
    assert len(parts) >= 3 and all(len(p) <= MAX_TEXT for p in parts)
    assert "\n\n".join(parts) == text  # cut at the paragraph breaks
    words = " ".join(["hợp-tác-xã"] * 600)
    parts = render_messages(words)
    assert all(len(p) <= MAX_TEXT for p in parts) and " ".join(parts) == words
    menu = "1. Có\n2. Không\nGõ 1 hoặc 2 để chọn."
    parts = render_messages(words, menu)
    assert parts[-1].endswith(menu) and all(len(p) <= MAX_TEXT for p in parts)
    full = render_messages("x" * 1990, menu)  # the list does not fit: its own message
    assert full == ["x" * 1990, menu]


def test_choice_hints(small_app: App) -> None:
    vi = small_app.conversation.translations.get("vi")
    assert choose_hint(vi, 1) == "Gõ 1 để chọn."
    assert choose_hint(vi, 3) == "Gõ 1, 2 hoặc 3 để chọn."
    assert choose_hint(vi, 9) == "Gõ một số từ 1 đến 9 để chọn."


def test_zalo_tokens_are_redacted_from_log_lines() -> None:
    line = f"POST https://bot-api.zaloplatforms.com/bot{TOKEN}/sendMessage failed"
    out = redact(line)
    assert SECRET_PART not in out and TOKEN.split(":")[0] not in out
    assert out == "POST https://bot-api.zaloplatforms.com/bot<token>/sendMessage failed"
    assert SECRET_PART not in redact(f"token={TOKEN}")


def test_settings_for_zalo() -> None:
    s = load_settings({}, env_file=None)
    assert s.zalo_base_url == "https://bot-api.zaloplatforms.com/bot" and s.public_url is None
    s = load_settings(
        {
            "ZALO_BOT_TOKEN": TOKEN,
            "ZALO_BASE_URL": "http://127.0.0.1:8081/bot",
            "COOPBOT_PUBLIC_URL": "https://bot.example.vn/",
        },
        env_file=None,
    )
    assert s.zalo_bot_token == TOKEN and s.zalo_base_url == "http://127.0.0.1:8081/bot"
    assert s.public_url == "https://bot.example.vn"
    for name, value in (("ZALO_BASE_URL", "zalo.me"), ("COOPBOT_PUBLIC_URL", "bot.example.vn")):
        with pytest.raises(ValueError, match=f"^{name}:"):
            load_settings({name: value}, env_file=None)


# --- the HTTP client -----------------------------------------------------------------------


async def test_429_and_5xx_are_retried_with_backoff() -> None:
    api, sleeps = FakeZalo(), Sleeps()
    client = ZaloApi(TOKEN, BASE, transport=api.transport, sleep=sleeps)
    api.fail("sendMessage", 429, 503, 500, NETWORK)
    await client.send_message(LAN, "chào")
    assert len(api.sent()) == 5 and sleeps.waits == [1.0, 2.0, 4.0, 8.0]
    api.fail("sendMessage", 502, 502, 502, 502, 502)  # more failures than retries
    with pytest.raises(ZaloError) as err:
        await client.send_message(LAN, "chào")
    assert err.value.status == 502
    api.fail("sendMessage", 400)  # not retried
    with pytest.raises(ZaloError):
        await client.send_message(LAN, "")
    assert len(api.sent()) == 5 + 5 + 1
    await client.aclose()


async def test_token_is_absent_from_errors_and_logs(
    small_app: App, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # setup_logging (other tests) quiets it
    api, sleeps = FakeZalo(), Sleeps()
    client = ZaloApi(TOKEN, BASE, transport=api.transport, sleep=sleeps, max_retries=1)
    api.fail("sendMessage", NETWORK, NETWORK)
    with pytest.raises(ZaloNetworkError) as net:
        await client.send_message(LAN, "chào")
    api.fail("sendMessage", 500, 500)
    with pytest.raises(ZaloError) as http:
        await client.send_message(LAN, "chào")
    wrong = ZaloApi("123456:wrong-token-wrong-token-x", BASE, transport=api.transport)
    with pytest.raises(ZaloUnauthorized) as unauthorized:
        await wrong.get_me()
    for exc in (net.value, http.value, unauthorized.value):
        assert SECRET_PART not in str(exc) and "wrong-token" not in str(exc)
        printed = "".join(traceback.format_exception(exc))  # as log.exception would show it
        assert SECRET_PART not in printed and "wrong-token" not in printed
    assert "<token>" in str(net.value) and "HTTP 500" in str(http.value)
    # a whole conversation, with failures, logged at DEBUG (httpx logs every URL)
    channel = ZaloChannel(
        small_app.conversation, TOKEN, BASE, transport=api.transport, sleep=sleeps
    )
    api.fail("sendMessage", 503, 403)
    await channel.initialize(retries=0)
    channel.dispatch(text_update(LAN, "/help"))
    await channel.join()
    await channel.stop()
    await client.aclose()
    await wrong.aclose()
    assert "HTTP Request" in caplog.text  # httpx did log the requests…
    assert SECRET_PART not in caplog.text and "wrong-token" not in caplog.text  # …redacted


# --- polling and the webhook ---------------------------------------------------------------


async def test_polling_skips_408s_and_repeated_updates(zalo: Bot) -> None:
    first, second = text_update(LAN, "/help"), text_update(MAI, "/help")
    zalo.api.queue(408, 408, first, first, second, 408, second)
    got = [await zalo.channel.poll_once() for _ in range(7)]
    await zalo.channel.join()
    assert got == [False, False, True, False, True, False, False]
    assert len(zalo.api.texts(LAN)) == 1 and len(zalo.api.texts(MAI)) == 1
    assert zalo.api.texts(LAN)[0].startswith("Các lệnh của trợ lý")
    methods = [m for m, p in zalo.api.calls if p.get("chat_id") == LAN]
    assert methods == ["sendChatAction", "sendMessage"]  # typing first
    assert zalo.api.sent("sendChatAction")[0]["action"] == "typing"


async def test_polling_loop_and_outage(small_app: App) -> None:
    api, sleeps = FakeZalo(block=True), Sleeps()
    channel = ZaloChannel(
        small_app.conversation, TOKEN, BASE, transport=api.transport, sleep=sleeps
    )
    await channel.initialize(retries=0)
    api.queue(503, 503, 503, 503, 503, text_update(LAN, "/help"))  # the API's retries run out
    await channel.start_polling()
    try:
        await api.wait_for(lambda: bool(api.texts(LAN)))
    finally:
        await channel.stop()
    assert api.sent("deleteWebhook")  # polling replaces a webhook left behind
    assert sleeps.waits[:5] == [1.0, 2.0, 4.0, 8.0, 2.0]  # backoff, then the loop's own


def _client(app: App, channel: ZaloChannel, files: FileLinks | None = None) -> httpx.AsyncClient:
    web = create_web_app(app.engine, app.kb, [channel.webhook()], files)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://test")


async def test_webhook_is_registered_with_a_secret(zalo: Bot) -> None:
    await zalo.channel.start_webhook("https://coop.example.org/")
    (params,) = zalo.api.sent("setWebhook")
    assert params["url"] == "https://coop.example.org/zalo/webhook"
    assert params["secret_token"] == zalo.channel.secret
    assert 8 <= len(zalo.channel.secret) <= 256 and SECRET_PART not in zalo.channel.secret
    assert webhook_url("https://x.org/zalo/webhook/") == "https://x.org/zalo/webhook"


@pytest.mark.parametrize("wrapped", [True, False])
async def test_webhook_with_secret_is_handled(small_app: App, zalo: Bot, wrapped: bool) -> None:
    update = text_update(LAN, "/help")
    body = {"ok": True, "result": update} if wrapped else update
    async with _client(small_app, zalo.channel) as client:
        res = await client.post(
            WEBHOOK_PATH, json=body, headers={SECRET_HEADER: zalo.channel.secret}
        )
        again = await client.post(
            WEBHOOK_PATH, json=body, headers={SECRET_HEADER: zalo.channel.secret}
        )
    assert res.status_code == 200 and again.status_code == 200
    await zalo.channel.join()
    assert len(zalo.api.texts(LAN)) == 1  # a repeated delivery is handled once
    assert zalo.api.texts(LAN)[0].startswith("Các lệnh của trợ lý")


@pytest.mark.parametrize("secret", [None, "wrong-secret", "sai-bí-mật"])
async def test_webhook_without_the_right_secret_is_refused(
    small_app: App, zalo: Bot, secret: str | None
) -> None:
    headers = {SECRET_HEADER: secret.encode()} if secret else {}
    async with _client(small_app, zalo.channel) as client:
        res = await client.post(
            WEBHOOK_PATH,
            content=json.dumps(text_update(LAN, "/help")).encode(),
            headers=headers,  # type: ignore[arg-type]
        )
    assert res.status_code == 403
    await zalo.channel.join()
    assert not zalo.api.calls[1:]  # nothing after getMe


# --- conversation --------------------------------------------------------------------------


async def test_numbered_choices_navigate_the_menu(zalo: Bot, small_app: App) -> None:
    await zalo.send(text_update(LAN, "/menu"))
    menu = zalo.api.texts(LAN)[-1]
    assert "1. Thành lập HTX" in menu and menu.endswith("Gõ 1 để chọn.")
    await zalo.send(text_update(LAN, "1"))
    topic = zalo.api.texts(LAN)[-1]
    assert "1. Số thành viên tối thiểu của HTX" in topic and "Gõ 1, 2 hoặc 3 để chọn." in topic
    await zalo.send(text_update(LAN, "1"))
    answer = zalo.api.texts(LAN)[-1]
    assert "05 thành viên" in answer
    assert (await _member(small_app, LAN)).pending_actions  # 👍 / 👎 are numbered too


@pytest.mark.parametrize(
    "event", ["message.image.received", "message.sticker.received", "message.unsupported.received"]
)
async def test_what_is_not_text_gets_a_polite_reply(zalo: Bot, event: str) -> None:
    await zalo.send(message(LAN, event, photo="https://zalo.test/p.jpg", caption="xem giúp"))
    (text,) = zalo.api.texts(LAN)
    assert text.startswith("Xin lỗi, trợ lý chỉ đọc được tin nhắn chữ.")


async def test_blocked_member_is_marked_unreachable(zalo: Bot, small_app: App) -> None:
    await zalo.send(text_update(LAN, "/start"))
    zalo.api.fail("sendMessage", 403)
    await zalo.send(text_update(LAN, "/help"))
    assert (await _member(small_app, LAN)).unreachable is True
    await zalo.send(text_update(LAN, "/help"))
    assert (await _member(small_app, LAN)).unreachable is False


async def test_files_are_refused_politely_without_a_public_url(
    zalo: Bot, extra_commands: Any, tmp_path: Path
) -> None:
    (tmp_path / "form.pdf").write_bytes(b"%PDF fake")
    extra_commands(
        "t_doc", Reply("Mẫu đơn", attachment=Attachment(tmp_path / "form.pdf", "form.pdf"))
    )
    await zalo.send(text_update(LAN, "/t_doc"))
    (text,) = zalo.api.texts(LAN)
    assert text.startswith("Mẫu đơn\n\nTrợ lý chưa gửi được tệp “form.pdf” qua Zalo.")
    assert not zalo.api.sent("sendPhoto")


async def test_files_go_out_as_signed_links(
    small_app: App, extra_commands: Any, tmp_path: Path
) -> None:
    (tmp_path / "form.pdf").write_bytes(b"%PDF fake")
    (tmp_path / "map.png").write_bytes(b"\x89PNG fake")
    extra_commands(
        "t_doc", Reply("Mẫu đơn", attachment=Attachment(tmp_path / "form.pdf", "form.pdf"))
    )
    extra_commands(
        "t_photo", Reply("Bản đồ", attachment=Attachment(tmp_path / "map.png", "map.png", True))
    )
    now = [1_800_000_000.0]
    links = FileLinks(b"k" * 32, "https://bot.example.vn/", ttl=3600, clock=lambda: now[0])
    api = FakeZalo()
    channel = ZaloChannel(
        small_app.conversation, TOKEN, BASE, transport=api.transport, sleep=Sleeps(), files=links
    )
    for update in (text_update(LAN, "/t_doc"), text_update(LAN, "/t_photo")):
        channel.dispatch(update)
        await channel.join()
    (doc,) = api.texts(LAN)
    assert doc.startswith("Mẫu đơn\n\nTải tệp “form.pdf” tại: https://bot.example.vn/files/")
    assert doc.endswith("(liên kết dùng được trong 1 giờ)")
    doc_url = doc.split("tại: ")[1].split(" ")[0]
    (photo,) = api.sent("sendPhoto")
    assert photo["caption"] == "Bản đồ" and photo["photo"].startswith(
        "https://bot.example.vn/files/"
    )
    async with _client(small_app, channel, links) as client:
        got = await client.get(doc_url.removeprefix("https://bot.example.vn"))
        img = await client.get(photo["photo"].removeprefix("https://bot.example.vn"))
        forged = await client.get(doc_url.removeprefix("https://bot.example.vn")[:-3] + "abc")
        now[0] += 3601
        expired = await client.get(doc_url.removeprefix("https://bot.example.vn"))
    assert got.status_code == 200 and got.content == b"%PDF fake"
    assert 'filename="form.pdf"' in got.headers["content-disposition"]
    assert img.status_code == 200 and img.content == b"\x89PNG fake"
    assert forged.status_code == 404 and expired.status_code == 404
    await channel.stop()


async def test_long_reply_is_split_with_the_choices_last(zalo: Bot, extra_commands: Any) -> None:
    paragraph = "Hợp tác xã phải có điều lệ được đại hội thành viên thông qua. " * 20
    text = "\n\n".join([paragraph.strip()] * 5)
    extra_commands("t_long", Reply(text, ((Button("Tiếp", "menu:"), Button("Thôi", "menu:")),)))
    await zalo.send(text_update(LAN, "/t_long"))
    sent = zalo.api.texts(LAN)
    assert len(sent) >= 3 and all(len(m) <= MAX_TEXT for m in sent)
    assert sent[-1].endswith("1. Tiếp\n2. Thôi\nGõ 1 hoặc 2 để chọn.")
    assert all("Gõ" not in m for m in sent[:-1])


async def test_outbox_is_delivered_and_a_blocked_recipient_is_marked(
    zalo: Bot, small_app: App
) -> None:
    from db import outbox
    from db.models import OutboxMessage

    await zalo.send(text_update(LAN, "/start"), text_update(MAI, "/start"))
    lan, mai = await _member(small_app, LAN), await _member(small_app, MAI)
    async with small_app.conversation.sessions() as s:
        for m in (lan, mai):
            outbox.enqueue(
                s,
                m,
                Reply("Thông báo", ((Button("Duyệt", "lk:ok:1"), Button("Từ chối", "lk:no:1")),)),
                small_app.conversation.clock(),
            )
        await s.commit()
    zalo.api.fail("sendMessage", 403)  # the first recipient (Lan) blocked the bot
    assert await zalo.channel.deliver_outbox() == 1
    assert zalo.api.texts(MAI)[-1] == "Thông báo\n\n1. Duyệt\n2. Từ chối\nGõ 1 hoặc 2 để chọn."
    async with small_app.conversation.sessions() as s:
        rows = {r.member_id: r for r in (await s.execute(select(OutboxMessage))).scalars()}
    assert rows[lan.id].status == "failed" and "HTTP 403" in (rows[lan.id].error or "")
    assert rows[mai.id].status == "sent"
    assert (await _member(small_app, LAN)).unreachable is True
    assert (await _member(small_app, MAI)).pending_actions == ["lk:ok:1", "lk:no:1"]
    sent = len(zalo.api.sent())
    assert await zalo.channel.deliver_outbox() == 0  # nothing is sent twice
    assert len(zalo.api.sent()) == sent


# --- the runner ----------------------------------------------------------------------------


async def test_runner_starts_zalo_when_only_its_token_is_set(
    small_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import runner

    api = FakeZalo(block=True)
    api.queue(408, text_update(LAN, "/help"))

    def no_telegram(conv: Any) -> None:
        raise AssertionError("Telegram must not start without its token")

    def zalo_channel(conv: Any, files: FileLinks | None = None, **_: Any) -> ZaloChannel:
        assert conv.settings.zalo_base_url == "https://bot-api.zaloplatforms.com/bot"
        return ZaloChannel(conv, TOKEN, BASE, transport=api.transport, sleep=Sleeps(), files=files)

    monkeypatch.setattr(runner, "build_channel", no_telegram)
    monkeypatch.setattr(runner, "build_zalo_channel", zalo_channel)
    settings = replace(small_app.settings, telegram_bot_token=None, zalo_bot_token=TOKEN)
    args = argparse.Namespace(webhook=False, listen=None, public_url=None)
    task = asyncio.create_task(runner.run_channels(settings, small_app.kb, args))
    await api.wait_for(lambda: bool(api.texts(LAN)))
    signal.raise_signal(signal.SIGTERM)  # the runner's handler sets its stop event
    assert await task == 0
    assert [m for m, _ in api.calls][:2] == ["getMe", "deleteWebhook"]
    assert api.texts(LAN)[0].startswith("Các lệnh của trợ lý")


async def test_runner_reports_a_rejected_zalo_token(
    small_app: App, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot import runner

    api = FakeZalo()
    api.fail("getMe", 401)
    monkeypatch.setattr(
        runner,
        "build_zalo_channel",
        lambda conv, files=None, **_: ZaloChannel(conv, TOKEN, BASE, transport=api.transport),
    )
    settings = replace(small_app.settings, telegram_bot_token=None, zalo_bot_token=TOKEN)
    args = argparse.Namespace(webhook=False, listen=None, public_url=None)
    assert await runner.run_channels(settings, small_app.kb, args) == 1
    err = capsys.readouterr().err
    assert "rejected ZALO_BOT_TOKEN" in err and SECRET_PART not in err


async def test_one_web_app_serves_telegram_and_zalo(small_app: App, zalo: Bot) -> None:
    from bot.channels.telegram import TelegramChannel
    from tests.telegram_fake import TOKEN as TG_TOKEN
    from tests.telegram_fake import FakeTelegram

    tg = TelegramChannel(small_app.conversation, TG_TOKEN, request=FakeTelegram())
    web = create_web_app(small_app.engine, small_app.kb, [tg.webhook(), zalo.channel.webhook()])
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        body = {"ok": True, "result": text_update(LAN, "/help")}
        crossed = await client.post(WEBHOOK_PATH, json=body, headers={SECRET_HEADER: tg.secret})
        res = await client.post(
            WEBHOOK_PATH, json=body, headers={SECRET_HEADER: zalo.channel.secret}
        )
    assert crossed.status_code == 403 and res.status_code == 200
    await zalo.channel.join()
    assert zalo.api.texts(LAN)[0].startswith("Các lệnh của trợ lý")


async def test_broadcast_rows_reach_zalo_members_through_the_engine(
    zalo: Bot, small_app: App
) -> None:
    from datetime import UTC, datetime

    from db.broadcasts import enqueue_rows
    from db.models import Broadcast, OutboxMessage
    from ground.messages import Button

    await zalo.send(text_update(LAN, "xin chào"), text_update(MAI, "xin chào"))
    now = datetime(2026, 11, 28, tzinfo=UTC)
    async with small_app.conversation.sessions() as s:
        members = [await _member(small_app, LAN), await _member(small_app, MAI)]
        broadcast = Broadcast(text="Hội chợ", audience="all", status="sending", created_at=now)
        s.add(broadcast)
        await s.flush()
        reply = Reply("Mời tham gia hội chợ", ((Button("Nhắc tôi", "ev:rem:1"),),))
        await enqueue_rows(s, broadcast, members, lambda m: reply, now)
        await s.commit()
    zalo.api.fail("sendMessage", 403)  # the first recipient blocked the bot
    clock = [0.0]

    async def no_wait(seconds: float) -> None:
        clock[0] += seconds

    engine = zalo.channel.broadcast_engine(monotonic=lambda: clock[0], sleep=no_wait)
    await engine.drain()
    async with small_app.conversation.sessions() as s:
        rows = {r.member_id: r for r in (await s.execute(select(OutboxMessage))).scalars()}
    lan, mai = members
    assert rows[lan.id].status == "failed" and rows[mai.id].status == "sent"
    assert "Mời tham gia hội chợ" in zalo.api.texts(MAI)[-1] and "1." in zalo.api.texts(MAI)[-1]
    assert (await _member(small_app, MAI)).pending_actions == ["ev:rem:1"]
    assert (await _member(small_app, LAN)).unreachable is True


async def test_monthly_report_by_numbered_choices_on_zalo(zalo: Bot, small_app: App, clock) -> None:  # type: ignore[no-untyped-def]
    from db.models import Member, Report
    from tests.test_reports import DEC_1, _cycle, _seed

    ids = await _seed(small_app)
    async with small_app.conversation.sessions() as s:
        s.add(Member(channel=CHANNEL, user_id=LAN, display_name="Lan", locale="vi", role="member",
                     opted_out=False, unreachable=False, created_at=clock.now,
                     cooperative_id=ids["C2"], coop_role="manager", link_status="approved"))  # fmt: skip
        await s.commit()
    clock.now = DEC_1
    await _cycle(small_app, clock.now)
    assert await zalo.channel.deliver_outbox() >= 1
    assert "1. Bắt đầu báo cáo" in zalo.api.texts(LAN)[-1]
    await zalo.send(text_update(LAN, "1"))  # press "Bắt đầu báo cáo"
    assert "Câu 1/11" in zalo.api.texts(LAN)[-1]
    # Numbers typed for number questions are answers, even where a "Bỏ qua" button shows.
    for answer in ("15", "1", "1", "6", "1,2 tỷ", "Mận tam hoa"):
        await zalo.send(text_update(LAN, answer))
    assert "Câu 7/11" in zalo.api.texts(LAN)[-1]
    await zalo.send(text_update(LAN, "3"))  # a certification, by its number
    await zalo.send(text_update(LAN, "7"))  # Xong
    await zalo.send(text_update(LAN, "0"))
    await zalo.send(text_update(LAN, "2"))  # Không: no support received
    await zalo.send(text_update(LAN, "bỏ qua"))
    summary = zalo.api.texts(LAN)[-1]
    assert "• Thành viên mới vào: 1" in summary and "1. Gửi" in summary
    await zalo.send(text_update(LAN, "1"))  # Gửi
    assert "Đã gửi báo cáo tháng 11/2026" in zalo.api.texts(LAN)[-1]
    async with small_app.conversation.sessions() as s:
        (report,) = (await s.execute(select(Report))).scalars()
    assert report.answers["members_joined"] == 1 and report.answers["revenue"] == 1_200_000_000


async def test_ticket_round_trip_with_a_zalo_member(zalo: Bot, small_app: App) -> None:
    from db.models import Ticket
    from tests.conftest import Chat

    boss = Chat(small_app, "boss")
    await boss.send("/start")
    await zalo.send(text_update(LAN, "/lienhe cho hỏi thủ tục vay quỹ"))
    assert "yêu cầu #" in zalo.api.texts(LAN)[-1]
    async with small_app.conversation.sessions() as s:
        ticket = (await s.execute(select(Ticket))).scalar_one()
    await boss.send(action=f"tk:ans:{ticket.id}")
    await boss.send("Anh mang phương án vay lên Liên minh nhé.")
    assert await zalo.channel.deliver_outbox() == 1
    answer = zalo.api.texts(LAN)[-1]
    assert "phương án vay" in answer and "1. Trả lời cán bộ" in answer
    await zalo.send(text_update(LAN, "1"), text_update(LAN, "Dạ cảm ơn anh"))
    assert "Đã chuyển cho cán bộ" in zalo.api.texts(LAN)[-1]
