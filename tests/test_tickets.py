"""/lienhe: a member's question goes to staff and the answer comes back (SQLite and PostgreSQL)."""

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.app import App
from db.models import Member, OutboxMessage, Ticket, TicketMessage
from ground.settings import Settings
from handlers.tickets import next_opening, renotify_stale
from operations import Actor
from operations.suggestions import draft_entries
from tests.conftest import Chat


async def _outbox(app: App, user_id: str) -> list[OutboxMessage]:
    async with app.conversation.sessions() as s:
        stmt = (
            select(OutboxMessage)
            .join(Member, Member.id == OutboxMessage.member_id)
            .where(Member.user_id == user_id)
            .order_by(OutboxMessage.id)
        )
        return list((await s.execute(stmt)).scalars())


async def _ticket(app: App) -> Ticket:
    async with app.conversation.sessions() as s:
        return (await s.execute(select(Ticket))).scalar_one()


async def _staff(app: App) -> tuple[Chat, Chat]:
    boss, helper = Chat(app, "boss"), Chat(app, "helper")
    await helper.send("/start")
    await boss.say("/quyen them console:helper")
    return boss, helper


async def test_refused_question_becomes_a_ticket_and_the_answer_comes_back(small_app: App) -> None:
    boss, helper = await _staff(small_app)
    member = Chat(small_app, "farmer")
    out = await member.send("giá phân bón tháng này bao nhiêu")
    assert out.replies[0].flat_buttons()[-1].action == "contact:"
    out = await member.send(action="contact:")
    text = out.replies[0].text
    assert "yêu cầu #" in text and "Giờ làm việc: 07:30–17:00, thứ Hai đến thứ Sáu" in text
    ticket = await _ticket(small_app)
    assert ticket.question == "giá phân bón tháng này bao nhiêu" and ticket.status == "open"
    for staff in ("boss", "helper"):
        (card,) = await _outbox(small_app, staff)
        assert (
            f"Yêu cầu #{ticket.id}" in card.text and card.buttons[0][0][1] == f"tk:ans:{ticket.id}"
        )

    out = await boss.send(action=f"tk:ans:{ticket.id}")
    assert "gõ câu trả lời" in out.replies[0].text
    assert "đã nhận trả lời" in (await _outbox(small_app, "helper"))[-1].text
    assert "đang trả lời" in (await helper.send(action=f"tk:ans:{ticket.id}")).replies[0].text

    assert "Đã gửi câu trả lời" in await boss.say(
        "Giá phân bón do đại lý niêm yết, anh hỏi HTX nhé."
    )
    (answer,) = await _outbox(small_app, "farmer")
    assert answer.text.startswith("Cán bộ Liên minh HTX trả lời")
    assert answer.buttons[0][0][1] == f"tk:rep:{ticket.id}"

    await member.send(action=f"tk:rep:{ticket.id}")
    assert "Đã chuyển cho cán bộ" in await member.say("Cảm ơn, cho hỏi thêm đại lý nào gần nhất?")
    assert "nhắn thêm" in (await _outbox(small_app, "boss"))[-1].text  # only the claimer

    await boss.send(action=f"tk:close:{ticket.id}")
    assert "Đã đóng" in (await boss.send(action=f"tk:cls:{ticket.id}:kb")).replies[0].text
    assert "đã được cán bộ đóng" in (await _outbox(small_app, "farmer"))[-1].text
    async with small_app.conversation.sessions() as s:
        messages = (
            (await s.execute(select(TicketMessage).order_by(TicketMessage.id))).scalars().all()
        )
        drafts = await draft_entries(s, Actor.cli())
    assert [m.sender for m in messages] == ["member", "staff", "member"]
    assert drafts[0]["questions"] == ["giá phân bón tháng này bao nhiêu"]
    assert "đại lý niêm yết" in str(drafts[0]["answer"])
    # After closing, the member's texts are questions again.
    assert (await member.send("xin chào")).handler == "text"


async def test_two_staff_claiming_at_once_only_one_wins(small_app: App) -> None:
    boss, helper = await _staff(small_app)
    await Chat(small_app, "m").send("/lienhe Tôi cần hỏi về đất xây nhà xưởng")
    ticket = await _ticket(small_app)
    a, b = await asyncio.gather(
        boss.send(action=f"tk:ans:{ticket.id}"), helper.send(action=f"tk:ans:{ticket.id}")
    )
    texts = [a.replies[0].text, b.replies[0].text]
    assert sum("gõ câu trả lời" in t for t in texts) == 1
    assert sum("đang trả lời" in t for t in texts) == 1
    assert (await _ticket(small_app)).claimed_by is not None


async def test_members_cannot_list_or_answer_tickets(small_app: App) -> None:
    await Chat(small_app, "m").send("/lienhe cần hỗ trợ")
    ticket = await _ticket(small_app)
    other = Chat(small_app, "other")
    assert "chỉ dành cho cán bộ" in await other.say("/vecho")
    assert "chỉ dành cho cán bộ" in (await other.send(action=f"tk:ans:{ticket.id}")).replies[0].text
    assert (await _ticket(small_app)).claimed_by is None


async def test_staff_list_oldest_first(small_app: App, clock) -> None:  # type: ignore[no-untyped-def]
    await Chat(small_app, "a").send("/lienhe câu hỏi thứ nhất")
    clock.now += timedelta(minutes=5)
    await Chat(small_app, "b").send("/lienhe câu hỏi thứ hai")
    out = await Chat(small_app, "boss").send("/vecho")
    assert "2 yêu cầu chưa đóng" in out.replies[0].text
    assert "thứ nhất" in out.replies[1].text and "thứ hai" in out.replies[2].text


async def test_unclaimed_ticket_is_renotified_once(small_app: App, clock) -> None:  # type: ignore[no-untyped-def]
    await Chat(small_app, "boss").send("/start")
    await Chat(small_app, "m").send("/lienhe có ai không")
    conv = small_app.conversation
    later = clock.now + timedelta(minutes=121)
    assert await renotify_stale(conv.sessions, conv.translations, conv.settings, clock.now) == 0
    assert await renotify_stale(conv.sessions, conv.translations, conv.settings, later) == 1
    assert await renotify_stale(conv.sessions, conv.translations, conv.settings, later) == 0
    assert "Nhắc lại" in (await _outbox(small_app, "boss"))[-1].text


async def test_images_are_noted_empty_messages_asked_again(small_app: App) -> None:
    from ground.messages import Incoming

    chat = Chat(small_app, "m")
    out = await chat.send("/lienhe")
    assert "nhắn câu hỏi" in out.replies[0].text
    assert "nhắn nội dung" in await chat.say("   ")
    photo = Incoming(channel="console", user_id="m", text="", media="image", numbered_buttons=True)
    await small_app.conversation.handle(photo)
    assert (await _ticket(small_app)).question == "[Thành viên gửi một ảnh]"
    long_text = "rất dài " * 800
    await chat.send(long_text)
    async with small_app.conversation.sessions() as s:
        kept = (
            (await s.execute(select(TicketMessage).order_by(TicketMessage.id.desc())))
            .scalars()
            .first()
        )
    assert kept and kept.text == long_text.strip()  # kept whole


async def test_answer_to_an_erased_member_marks_the_ticket_undeliverable(small_app: App) -> None:
    boss = Chat(small_app, "boss")
    member = Chat(small_app, "gone")
    await member.send("/lienhe cho hỏi")
    ticket = await _ticket(small_app)
    await member.send("/xoadulieu")
    await member.send(action="xd:yes")
    await boss.send(action=f"tk:ans:{ticket.id}")
    assert "không gửi được" in await boss.say("Trả lời")
    assert (await _ticket(small_app)).undeliverable is True


def test_office_hours() -> None:
    s = Settings()
    saturday = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam, a Saturday
    opening = next_opening(saturday, s)
    assert opening and opening.isoweekday() == 1 and opening.strftime("%H:%M") == "07:30"
    monday_10 = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    assert next_opening(monday_10, s) is None
    monday_evening = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # 19:00
    assert next_opening(monday_evening, s).date().day == 1  # type: ignore[union-attr]


async def test_console_numbers_buttons_across_replies_and_presses_the_right_one(
    small_app: App,
) -> None:
    import io

    from bot.channels.console import run_console

    await Chat(small_app, "a").send("/lienhe câu hỏi thứ nhất")
    await Chat(small_app, "b").send("/lienhe câu hỏi thứ hai")
    second = max(t.id for t in [await _ticket_by(small_app, "câu hỏi thứ hai")])
    out = io.StringIO()
    await run_console(small_app.conversation, "boss", io.StringIO("/vecho\n3\n"), out)
    text = out.getvalue()
    assert "1. Trả lời" in text and "3. Trả lời" in text and "4. Đóng" in text
    assert f"câu trả lời cho yêu cầu #{second}" in text  # "3" answered the second ticket


async def _ticket_by(app: App, question: str) -> Ticket:
    async with app.conversation.sessions() as s:
        return (await s.execute(select(Ticket).where(Ticket.question == question))).scalar_one()


async def test_kb_suggestions_command_writes_unreviewed_drafts(small_app: App, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys

    import yaml

    boss = Chat(small_app, "boss")
    await Chat(small_app, "m").send("/lienhe HTX có được miễn lệ phí môn bài không?")
    ticket = await _ticket(small_app)
    await boss.send(action=f"tk:ans:{ticket.id}")
    await boss.send("Anh/chị hỏi Chi cục Thuế khu vực; trợ lý chưa có thông tin này.")
    await boss.send(action=f"tk:cls:{ticket.id}:kb")
    env = {**os.environ, "DATABASE_URL": small_app.settings.database_url}
    out = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot.cli", "kb", "suggestions", "--output", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    text = (tmp_path / "suggestions.yaml").read_text(encoding="utf-8")
    assert text.startswith("# CHƯA DUYỆT")
    (entry,) = yaml.safe_load(text)["entries"]
    assert entry["questions"] == ["HTX có được miễn lệ phí môn bài không?"]
    assert "Chi cục Thuế" in entry["answer"] and entry["certainty"] == "uncertain"


async def test_one_staff_group_chat_receives_tickets_when_configured(small_app: App) -> None:
    from dataclasses import replace

    conv = small_app.conversation
    conv.settings = replace(conv.settings, staff_chat=("telegram", "-100123"))
    await Chat(small_app, "boss").send("/start")
    await Chat(small_app, "m").send("/lienhe cho hỏi về quỹ")
    assert len(await _outbox(small_app, "-100123")) == 1
    assert await _outbox(small_app, "boss") == []  # not each staff member
