"""The Telegram channel offline: real Update JSON through the real Application, with the Bot
API faked at the HTTP layer (tests/telegram_fake.py). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from telegram import Update

from bot.app import App
from bot.channels.telegram import (
    CHANNEL,
    TelegramChannel,
    TelegramLimiter,
    split_text,
    to_inbound,
    utf16_len,
)
from db.models import Member
from ground.messages import Attachment, Button, Reply
from tests.telegram_fake import (
    FORBIDDEN,
    OUTAGE,
    TOKEN,
    TOO_MANY,
    Failure,
    FakeTelegram,
    callback_update,
    message_update,
    my_chat_member_update,
)

LAN, MAI = 4001, 4002

# python-telegram-bot itself warns about RetryAfter.retry_after becoming a timedelta.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@dataclass
class FakeTime:
    """A clock that only moves when the limiter sleeps: no test waits for real time."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds
        await asyncio.sleep(0)


@dataclass
class Bot:
    channel: TelegramChannel
    api: FakeTelegram
    time: FakeTime

    async def send(self, *updates: dict[str, Any]) -> None:
        """Feed updates as polling or the webhook does, and wait until all are processed."""
        for data in updates:
            await self.channel.application.update_queue.put(Update.de_json(data, self.channel.bot))
        await self.channel.application.update_queue.join()


@pytest.fixture
async def tg(small_app: App) -> AsyncIterator[Bot]:
    api, fake_time = FakeTelegram(), FakeTime()
    limiter = TelegramLimiter(sleep=fake_time.sleep, clock=fake_time.clock)
    channel = TelegramChannel(small_app.conversation, TOKEN, request=api, limiter=limiter)
    await channel.initialize(retries=0)
    await channel.application.start()
    yield Bot(channel, api, fake_time)
    await channel.stop()


async def _member(app: App, user_id: int) -> Member:
    async with app.conversation.sessions() as s:
        stmt = select(Member).where(Member.channel == CHANNEL, Member.user_id == str(user_id))
        return (await s.execute(stmt)).scalar_one()


def _register(app: App, name: str, reply: Reply) -> None:
    router = app.conversation.router

    @router.command(name, description=name, in_menu=False)
    async def handler(ctx, arg):  # type: ignore[no-untyped-def]
        return reply


@pytest.fixture
def extra_commands(small_app: App):  # type: ignore[no-untyped-def]
    router = small_app.conversation.router
    before = len(router.commands)
    yield lambda name, reply: _register(small_app, name, reply)
    for cmd in router.commands[before:]:
        for n in cmd.names:
            router._by_name.pop(n, None)
    del router.commands[before:]


# --- pure functions ----------------------------------------------------------------------


def test_update_becomes_incoming() -> None:
    update = Update.de_json(message_update(LAN, "xin chào"), None)
    inbound = to_inbound(update, "coopbot_test_bot")
    assert inbound is not None and inbound.private and inbound.chat_id == LAN
    inc = inbound.incoming
    assert (inc.channel, inc.user_id, inc.text) == ("telegram", str(LAN), "xin chào")
    assert inc.display_name == "Lan Nguyễn" and inc.language_code == "vi"
    assert inc.update_id == str(update.update_id) and inc.numbered_buttons is False


def test_groups_only_commands_and_mentions() -> None:
    def text_of(text: str, entities: list[dict[str, Any]] | None = None) -> str | None:
        data = message_update(LAN, text, chat_id=-100777, chat_type="supergroup", entities=entities)
        inbound = to_inbound(Update.de_json(data, None), "coopbot_test_bot")
        return inbound.incoming.text if inbound else None

    assert text_of("hôm nay có hội chợ không") is None
    assert text_of("/help@coopbot_test_bot") == "/help@coopbot_test_bot"
    assert text_of("/help") == "/help"
    assert text_of("/help@other_bot") is None
    mention = [{"type": "mention", "offset": 0, "length": 17}]
    assert text_of("@coopbot_test_bot hồ sơ HTX gồm gì", mention) == "hồ sơ HTX gồm gì"
    other = [{"type": "mention", "offset": 0, "length": 8}]
    assert text_of("@someone hồ sơ HTX", other) is None


def test_split_text_prefers_paragraphs_then_words() -> None:
    para = "Đoạn một. " * 300  # ~3000 characters
    text = para.strip() + "\n\n" + para.strip()
    parts = split_text(text)
    assert parts == [para.strip(), para.strip()]
    words = " ".join(["hợp-tác-xã"] * 1000)
    parts = split_text(words)
    assert len(parts) > 1 and all(utf16_len(p) <= 4096 for p in parts)
    assert all(not p.startswith(" ") and not p.endswith(" ") for p in parts)
    assert " ".join(parts) == words
    assert split_text("x" * 5000) == ["x" * 4096, "x" * 904]
    emoji = "👍" * 3000  # two UTF-16 units each
    assert [utf16_len(p) for p in split_text(emoji)] == [4096, 1904]
    assert split_text("ngắn") == ["ngắn"]


# --- through the Application -------------------------------------------------------------


async def test_command_menus_in_vietnamese_and_english(tg: Bot) -> None:
    menus = {p.get("language_code"): p["commands"] for p in tg.api.sent("setMyCommands")}
    assert set(menus) >= {"vi", "en"}
    vi = {c["command"]: c["description"] for c in menus["vi"]}
    en = {c["command"]: c["description"] for c in menus["en"]}
    assert vi["help"] == "Xem các lệnh" and en["help"] != "Xem các lệnh"
    assert "start" in vi and "chuahoi" not in vi  # staff commands stay out of the menu
    assert set(vi) == set(en)


async def test_start_welcomes_with_inline_keyboard(tg: Bot) -> None:
    await tg.send(message_update(LAN, "/start"))
    (msg,) = tg.api.sent()
    assert msg["chat_id"] == LAN and msg["parse_mode"] == "HTML"
    assert "Xin chào Lan Nguyễn" in msg["text"]
    data = [b["callback_data"] for row in msg["reply_markup"]["inline_keyboard"] for b in row]
    assert data == ["lang:vi", "lang:en", "menu:"]


async def test_question_with_and_without_diacritics(tg: Bot) -> None:
    await tg.send(message_update(LAN, "Thành lập HTX cần ít nhất bao nhiêu thành viên?"))
    await tg.send(message_update(MAI, "thanh lap htx can it nhat bao nhieu thanh vien"))
    lan, mai = tg.api.texts(LAN), tg.api.texts(MAI)
    assert "05 thành viên" in lan[0] and "05 thành viên" in mai[0]
    buttons = tg.api.sent()[0]["reply_markup"]["inline_keyboard"][0]
    assert [b["text"] for b in buttons] == ["👍", "👎"]
    assert buttons[0]["callback_data"].startswith("fb:up:")


async def test_button_press_answers_query_then_follows_up(tg: Bot, small_app: App) -> None:
    await tg.send(callback_update(LAN, "lang:en"))
    methods = [m for m, _ in tg.api.calls if m in ("answerCallbackQuery", "sendMessage")]
    assert methods == ["answerCallbackQuery", "sendMessage"]
    assert tg.api.texts(LAN)[0].startswith("Switched to English")
    assert (await _member(small_app, LAN)).locale == "en"


async def test_button_press_edits_message_when_reply_says_so(
    tg: Bot, small_app: App, extra_commands: Any
) -> None:
    @small_app.conversation.router.action("t_edit")
    async def edit(ctx, arg):  # type: ignore[no-untyped-def]
        return Reply("Đã chọn <b>" + arg + "</b>", ((Button("OK", "menu:"),),), edit=True)

    try:
        await tg.send(callback_update(LAN, "t_edit:1", message_id=77))
    finally:
        small_app.conversation.router._actions.pop("t_edit")
    (edit_call,) = tg.api.sent("editMessageText")
    assert edit_call["message_id"] == 77 and edit_call["chat_id"] == LAN
    assert edit_call["text"] == "Đã chọn &lt;b&gt;1&lt;/b&gt;"
    assert not tg.api.sent("sendMessage")


async def test_text_is_escaped_for_html(tg: Bot, extra_commands: Any) -> None:
    extra_commands("t_html", Reply("Lãi suất < 5% & phí > 0 <script>"))
    await tg.send(message_update(LAN, "/t_html"))
    assert tg.api.texts(LAN) == ["Lãi suất &lt; 5% &amp; phí &gt; 0 &lt;script&gt;"]


async def test_long_answer_is_split_and_spaced(tg: Bot, extra_commands: Any) -> None:
    paragraph = "Hợp tác xã phải có điều lệ được đại hội thành viên thông qua. " * 40
    text = "\n\n".join([paragraph.strip()] * 5)  # ~12,500 characters
    extra_commands("t_long", Reply(text, ((Button("Tiếp", "menu:"),),)))
    await tg.send(message_update(LAN, "/t_long"))
    sent = tg.api.sent()
    assert len(sent) >= 4
    assert all(utf16_len(m["text"]) <= 4096 for m in sent)
    assert "\n\n".join(m["text"] for m in sent) == text
    assert [m.get("reply_markup") is not None for m in sent] == [False] * (len(sent) - 1) + [True]
    # one message per second to a private chat
    assert tg.time.sleeps.count(1.0) == len(sent) - 1


async def test_photo_and_document(tg: Bot, extra_commands: Any, tmp_path: Path) -> None:
    (tmp_path / "map.png").write_bytes(b"\x89PNG fake")
    (tmp_path / "form.pdf").write_bytes(b"%PDF fake")
    extra_commands(
        "t_photo", Reply("Bản đồ", attachment=Attachment(tmp_path / "map.png", "map.png", True))
    )
    extra_commands(
        "t_doc", Reply("Mẫu đơn", attachment=Attachment(tmp_path / "form.pdf", "form.pdf"))
    )
    await tg.send(message_update(LAN, "/t_photo"), message_update(LAN, "/t_doc"))
    (photo,) = tg.api.sent("sendPhoto")
    (doc,) = tg.api.sent("sendDocument")
    assert photo["caption"] == "Bản đồ" and doc["caption"] == "Mẫu đơn"
    assert not tg.api.sent("sendMessage")


async def test_blocked_member_is_marked_unreachable_then_cleared(tg: Bot, small_app: App) -> None:
    await tg.send(message_update(LAN, "/start"))
    tg.api.fail("sendMessage", FORBIDDEN)
    await tg.send(message_update(LAN, "/help"))
    assert (await _member(small_app, LAN)).unreachable is True
    await tg.send(message_update(LAN, "/help"))
    assert (await _member(small_app, LAN)).unreachable is False


async def test_too_many_requests_is_retried_after_the_pause(tg: Bot) -> None:
    tg.api.fail("sendMessage", TOO_MANY)
    await tg.send(message_update(LAN, "/help"))
    sent = tg.api.sent()
    assert len(sent) == 2 and sent[0] == sent[1]  # refused once, then delivered
    assert 5.1 in tg.time.sleeps


async def test_network_error_is_retried_with_backoff(tg: Bot) -> None:
    tg.api.fail("sendMessage", OUTAGE, OUTAGE)
    await tg.send(message_update(LAN, "/help"))
    assert len(tg.api.sent()) == 3
    assert tg.time.sleeps[-2:] == [1.0, 2.0]


async def test_my_chat_member_tracks_blocking(tg: Bot, small_app: App) -> None:
    await tg.send(message_update(LAN, "/start"))
    await tg.send(my_chat_member_update(LAN, "member", "kicked"))
    assert (await _member(small_app, LAN)).unreachable is True
    await tg.send(my_chat_member_update(LAN, "kicked", "member"))
    assert (await _member(small_app, LAN)).unreachable is False


async def test_group_chatter_is_ignored(tg: Bot) -> None:
    await tg.send(message_update(LAN, "chào cả nhà", chat_id=-100777, chat_type="supergroup"))
    await tg.send(message_update(LAN, "/help@coopbot_test_bot", chat_id=-100777, chat_type="group"))
    sent = tg.api.sent()
    assert len(sent) == 1 and sent[0]["chat_id"] == -100777


async def test_slow_user_does_not_block_others(
    tg: Bot, small_app: App, extra_commands: Any
) -> None:
    release = asyncio.Event()
    router = small_app.conversation.router

    @router.command("t_slow", description="t_slow", in_menu=False)
    async def slow(ctx, arg):  # type: ignore[no-untyped-def]
        await release.wait()  # a slow database call
        return Reply("chậm")

    await tg.send(message_update(LAN, "/start"), message_update(MAI, "/start"))
    queue = tg.channel.application.update_queue
    for data in (
        message_update(LAN, "/t_slow"),
        message_update(LAN, "/help"),  # Lan's next message waits for her first
        message_update(MAI, "/help"),
    ):
        await queue.put(Update.de_json(data, tg.channel.bot))
    await tg.api.wait_for(lambda: len(tg.api.texts(MAI)) == 2)
    assert len(tg.api.texts(LAN)) == 1  # only the welcome: Lan's updates are still in order
    release.set()
    await queue.join()
    lan = tg.api.texts(LAN)
    assert lan[1] == "chậm" and lan[2].startswith("Các lệnh của trợ lý")


async def test_polling_resumes_after_an_outage(small_app: App) -> None:
    api = FakeTelegram()
    channel = TelegramChannel(small_app.conversation, TOKEN, request=api)
    await channel.initialize(retries=0)
    api.fail("getUpdates", OUTAGE)
    api.queue_update(message_update(LAN, "/help"))
    await channel.start_polling()
    try:
        await api.wait_for(lambda: bool(api.texts(LAN)))
    finally:
        await channel.stop()
    assert api.texts(LAN)[0].startswith("Các lệnh của trợ lý")
    assert api.sent("deleteWebhook")  # polling replaces a webhook left behind


# --- the runner --------------------------------------------------------------------------


async def test_runner_polls_until_sigterm(small_app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import runner

    api = FakeTelegram()
    api.queue_update(message_update(LAN, "/help"))
    monkeypatch.setattr(
        runner, "build_channel", lambda conv, **_: TelegramChannel(conv, TOKEN, request=api)
    )
    settings = replace(small_app.settings, telegram_bot_token=TOKEN)
    args = argparse.Namespace(webhook=False, listen=None, public_url=None)
    task = asyncio.create_task(runner.run_channels(settings, small_app.kb, args))
    await api.wait_for(lambda: bool(api.texts(LAN)))
    signal.raise_signal(signal.SIGTERM)  # the runner's handler sets its stop event
    assert await task == 0
    assert api.sent("setMyCommands") and api.texts(LAN)[0].startswith("Các lệnh")


def test_runner_checks_its_arguments(small_app: App, capsys: pytest.CaptureFixture[str]) -> None:
    from bot import runner

    settings = replace(small_app.settings, telegram_bot_token=TOKEN)
    bad = [
        argparse.Namespace(webhook=True, listen=None, public_url=None),
        argparse.Namespace(webhook=False, listen="localhost", public_url=None),
    ]
    for args in bad:
        assert asyncio.run(runner.run_channels(settings, small_app.kb, args)) == 2
    assert "--public-url" in capsys.readouterr().err
    assert runner.parse_listen("0.0.0.0:8080") == ("0.0.0.0", 8080)
    assert runner.parse_listen("[::]:80") == ("::", 80)


async def test_runner_reports_a_rejected_token(
    small_app: App, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot import runner

    api = FakeTelegram()
    api.fail("getMe", Failure(401, "Unauthorized"))
    monkeypatch.setattr(
        runner, "build_channel", lambda conv, **_: TelegramChannel(conv, TOKEN, request=api)
    )
    settings = replace(small_app.settings, telegram_bot_token=TOKEN, locale="en")
    args = argparse.Namespace(webhook=False, listen=None, public_url=None)
    assert await runner.run_channels(settings, small_app.kb, args) == 1
    err = capsys.readouterr().err
    assert "rejected TELEGRAM_BOT_TOKEN" in err and TOKEN not in err


# --- linking a member: the share-contact button, and notifications through the outbox -----


async def test_phone_is_asked_with_a_share_contact_button_and_a_shared_contact_is_used(
    tg: Bot, small_app: App
) -> None:
    from datetime import UTC, datetime

    from db.models import Cooperative

    now = datetime(2026, 11, 28, tzinfo=UTC)
    async with small_app.conversation.sessions() as s:
        s.add(Cooperative(code="C1", name="HTX Mận Bắc Hà", kind="htx", sector="khac",
                          commune="Xã Bắc Hà", commune_code=1, phone="0912345678",
                          status="active", created_at=now, updated_at=now))  # fmt: skip
        await s.commit()
    await tg.send(message_update(LAN, "/dangky"), message_update(LAN, "man bac ha"))
    coop_button = tg.api.sent()[-1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await tg.send(callback_update(LAN, coop_button), callback_update(LAN, "lk:r:manager"))
    markup = tg.api.sent()[-1]["reply_markup"]
    assert markup["keyboard"][0][0]["request_contact"] is True
    assert markup["one_time_keyboard"] is True
    contact = message_update(LAN, "")
    del contact["message"]["text"]
    contact["message"]["contact"] = {
        "phone_number": "+84912345678",
        "first_name": "Lan",
        "user_id": LAN,
    }
    await tg.send(contact)
    assert "Đã liên kết tài khoản với HTX Mận Bắc Hà" in tg.api.texts(LAN)[-1]
    member = await _member(small_app, LAN)
    assert member.phone == "0912345678" and member.link_status == "approved"


async def test_outbox_is_delivered_and_a_blocked_recipient_is_marked(
    tg: Bot, small_app: App
) -> None:
    from db import outbox
    from db.models import OutboxMessage

    await tg.send(message_update(LAN, "/start"), message_update(MAI, "/start"))
    lan, mai = await _member(small_app, LAN), await _member(small_app, MAI)
    async with small_app.conversation.sessions() as s:
        for m in (lan, mai):
            outbox.enqueue(
                s,
                m,
                Reply("Thông báo", ((Button("Duyệt", "lk:ok:1"),),)),
                small_app.conversation.clock(),
            )
        await s.commit()
    tg.api.fail("sendMessage", FORBIDDEN)  # the first recipient (Lan) blocked the bot
    assert await tg.channel.deliver_outbox() == 1
    assert tg.api.texts(MAI)[-1] == "Thông báo"
    async with small_app.conversation.sessions() as s:
        rows = {r.member_id: r for r in (await s.execute(select(OutboxMessage))).scalars()}
    assert rows[lan.id].status == "failed" and "Forbidden" in (rows[lan.id].error or "")
    assert rows[mai.id].status == "sent"
    assert (await _member(small_app, LAN)).unreachable is True
    sent = len(tg.api.sent())
    assert await tg.channel.deliver_outbox() == 0  # nothing is sent twice
    assert len(tg.api.sent()) == sent


async def test_ticket_round_trip_between_a_telegram_member_and_console_staff(
    tg: Bot, small_app: App
) -> None:
    from db.models import Ticket
    from tests.conftest import Chat

    boss = Chat(small_app, "boss")  # an admin on the console
    await boss.send("/start")
    await tg.send(message_update(LAN, "/lienhe HTX em cần hỏi về thuế"))
    assert "yêu cầu #" in tg.api.texts(LAN)[-1]
    async with small_app.conversation.sessions() as s:
        ticket = (await s.execute(select(Ticket))).scalar_one()
    await boss.send(action=f"tk:ans:{ticket.id}")
    await boss.send("Chị mang hồ sơ lên văn phòng Liên minh nhé.")
    assert await tg.channel.deliver_outbox() == 1
    assert "Chị mang hồ sơ lên văn phòng" in tg.api.texts(LAN)[-1]
    button = tg.api.sent()[-1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await tg.send(callback_update(LAN, button), message_update(LAN, "Dạ em cảm ơn"))
    assert "Đã chuyển cho cán bộ" in tg.api.texts(LAN)[-1]


async def test_nul_and_lone_surrogates_are_cleaned_before_the_database(
    tg: Bot, small_app: App
) -> None:
    update = message_update(LAN, "/help\x00 \ud800")
    update["message"]["from"]["first_name"] = "La\x00n"
    await tg.send(update)
    assert tg.api.texts(LAN)[0].startswith("Các lệnh của trợ lý")
    member = await _member(small_app, LAN)
    assert member.display_name is not None and "\x00" not in member.display_name
