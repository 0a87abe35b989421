"""The Zalo channel offline: the Zalo Bot API faked with ``httpx.MockTransport`` (no network),
every backoff through a recording sleep (no waiting). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import traceback

import pytest

from bot.app import App
from bot.channels.zalo import (
    MAX_TEXT,
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
)
from ground.logs import redact
from ground.settings import load_settings
from tests.zalo_fake import (
    BASE,
    LAN,
    MAI,
    NETWORK,
    SECRET_PART,
    TOKEN,
    Bot,
    FakeZalo,
    Sleeps,
    message,
    text_update,
)


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
