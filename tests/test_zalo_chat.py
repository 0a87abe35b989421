"""The Zalo channel through its webhook and with the conversation core: menus, files,
broadcasts, reports and tickets for Zalo members (SQLite and PostgreSQL)."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from dataclasses import replace
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
    ZaloChannel,
    webhook_url,
)
from bot.web import FileLinks, create_web_app
from db.models import Member
from ground.messages import Attachment, Button, Reply
from tests.zalo_fake import (
    BASE,
    LAN,
    MAI,
    SECRET_PART,
    TOKEN,
    Bot,
    FakeZalo,
    Sleeps,
    _member,
    message,
    text_update,
)


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
    links = FileLinks(
        b"k" * 32, "https://bot.example.vn/", root=tmp_path, ttl=3600, clock=lambda: now[0]
    )
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
    settings = replace(
        small_app.settings, telegram_bot_token=None, zalo_bot_token=TOKEN, locale="en"
    )
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
    from db.models import Report
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


async def test_nul_in_text_and_ids_is_cleaned_before_the_database(
    zalo: Bot, small_app: App
) -> None:
    update = text_update(LAN + "\x00", "/help\x00\x1b")
    update["message"]["from"]["display_name"] = "Lan\x00 \udc80"
    await zalo.send(update)
    (text,) = zalo.api.texts(LAN + "\x00")
    assert text.startswith("Các lệnh của trợ lý")
    member = await _member(small_app, LAN)
    assert member.display_name == "Lan \ufffd"


@pytest.mark.parametrize(
    ("key", "value"),
    [("from", ["x"]), ("from", {"id": {"a": 1}}), ("chat", "PRIVATE"), ("message_id", [1])],
)
async def test_an_update_of_the_wrong_shape_is_skipped_not_failed(
    small_app: App, zalo: Bot, key: str, value: Any
) -> None:
    update = text_update(LAN, "/help")
    update["message"][key] = value
    async with _client(small_app, zalo.channel) as client:
        res = await client.post(
            WEBHOOK_PATH, json=update, headers={SECRET_HEADER: zalo.channel.secret}
        )
    await zalo.channel.join()
    assert res.status_code == 200
    if key in ("chat", "message_id"):  # the rest is usable: answered
        assert zalo.api.texts(LAN)[0].startswith("Các lệnh của trợ lý")
    else:
        assert not zalo.api.texts()
