"""Trade events: /themsukien, /sukien, reminders the day before, the events import, and the
events button of question answering (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import select, update

from bot.app import App
from db.events import parse_when
from db.models import Event, Member, OutboxMessage
from operations.events import send_reminders
from outputs.events import import_events, read_event_rows
from tests.conftest import Chat

TZ_NAME = "Asia/Ho_Chi_Minh"


async def _add_event(app: App, title: str, starts: datetime, **extra: object) -> int:
    async with app.conversation.sessions() as s:
        now = app.conversation.clock()
        event = Event(title=title, starts_at=starts, created_by="cli", created_at=now,
                      updated_at=now, **extra)  # fmt: skip
        s.add(event)
        await s.commit()
        return event.id


async def _events(app: App) -> list[Event]:
    async with app.conversation.sessions() as s:
        return list((await s.execute(select(Event).order_by(Event.id))).scalars())


async def _outbox_texts(app: App, user_id: str) -> list[str]:
    async with app.conversation.sessions() as s:
        stmt = (
            select(OutboxMessage.text)
            .join(Member, Member.id == OutboxMessage.member_id)
            .where(Member.user_id == user_id)
            .order_by(OutboxMessage.id)
        )
        return list((await s.execute(stmt)).scalars())


def test_parse_when_reads_vietnamese_dates(settings) -> None:  # type: ignore[no-untyped-def]
    tz = settings.tz
    assert parse_when("20/11/2026", tz) == datetime(2026, 11, 19, 17, 0, tzinfo=UTC)
    assert parse_when("20/11/2026 08:30", tz) == datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
    assert parse_when("2026-11-20 8h30", tz) == datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
    assert parse_when("31/02/2026", tz) is None
    assert parse_when("ngày mai", tz) is None


async def test_staff_add_an_event_one_question_at_a_time(small_app: App) -> None:
    assert "chỉ dành cho cán bộ" in await Chat(small_app, "farmer").say("/themsukien")
    boss = Chat(small_app, "boss")
    assert "(1/9)" in await boss.say("/themsukien")
    assert "bắt buộc" in await boss.say("bỏ qua")
    assert "(2/9)" in await boss.say("Hội chợ OCOP Lào Cai 2026")
    assert "Chưa hiểu ngày" in await boss.say("thứ bảy tuần sau")
    assert "(3/9)" in await boss.say("20/12/2026 08:00")
    assert "phải sau ngày bắt đầu" in await boss.say("19/12/2026")
    assert "(4/9)" in await boss.say("22/12/2026 17:00")
    assert "(5/9)" in await boss.say("bỏ qua")
    assert "(6/9)" in await boss.say("Quảng trường Lào Cai")
    for answer in ("Gian hàng miễn phí cho HTX", "Chị Hà 0912345678"):
        await boss.say(answer)
    assert "http" in await boss.say("ocop.vn")  # not a link: asked again
    await boss.say("https://ocop.example.vn")
    out = await boss.send("Hội chợ, OCOP")
    preview = out.replies[0]
    assert "Xem lại sự kiện" in preview.text and "20/12/2026, 08:00" in preview.text
    assert [b.action for b in preview.flat_buttons()] == ["evf:save", "evf:drop"]
    assert "Đã lưu sự kiện" in (await boss.send(action="evf:save")).replies[0].text
    (event,) = await _events(small_app)
    assert event.title == "Hội chợ OCOP Lào Cai 2026" and event.register_by is None
    assert event.tags == ["hội chợ", "ocop"] and event.place == "Quảng trường Lào Cai"
    assert "đã đóng" in (await boss.send(action="evf:save")).replies[0].text  # no second save


async def test_upcoming_events_in_the_member_locale(small_app: App) -> None:
    clock = small_app.conversation.clock
    await _add_event(small_app, "Đã qua", clock() - timedelta(days=3))
    await _add_event(
        small_app, "Hội chợ Việt – Trung", datetime(2026, 12, 20, 1, 0, tzinfo=UTC),
        ends_at=datetime(2026, 12, 23, 10, 0, tzinfo=UTC), place="Kim Thành",
    )  # fmt: skip
    await _add_event(small_app, "Tập huấn OCOP", datetime(2026, 12, 1, 17, 0, tzinfo=UTC))
    lan = Chat(small_app, "lan")
    out = await lan.send("/sukien")
    texts = [r.text for r in out.replies]
    assert "Đã qua" not in "\n".join(texts)
    assert "Tập huấn OCOP" in texts[1] and "02/12/2026" in texts[1]  # a day, local date
    assert "20/12/2026, 08:00" in texts[2] and "23/12/2026, 17:00" in texts[2]
    assert out.replies[2].flat_buttons()[0].action.startswith("ev:rem:")
    async with small_app.conversation.sessions() as s:
        await s.execute(update(Member).where(Member.user_id == "lan").values(locale="en"))
        await s.commit()
    out = await lan.send("/events")
    assert "20 Dec 2026, 08:00" in out.replies[2].text


async def test_reminder_goes_out_the_day_before_and_only_once(small_app: App) -> None:
    app = small_app
    conv = app.conversation
    starts = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)  # 5/12 08:00 local
    eid = await _add_event(app, "Hội chợ nông sản", starts)
    lan, mai = Chat(app, "lan"), Chat(app, "mai")
    out = await lan.send(action=f"ev:rem:{eid}")
    assert "Đã hẹn" in out.replies[0].text
    assert out.replies[0].flat_buttons()[0].action == f"ev:unrem:{eid}"
    await lan.send(action=f"ev:rem:{eid}")  # pressed twice: still one reminder
    await mai.send(action=f"ev:rem:{eid}")
    await mai.send(action=f"ev:unrem:{eid}")

    async def remind(at: datetime) -> int:
        return await send_reminders(conv.sessions, conv.translations, conv.settings, at)

    assert await remind(datetime(2026, 12, 3, 3, 0, tzinfo=UTC)) == 0  # two days before
    assert await remind(datetime(2026, 12, 3, 23, 0, tzinfo=UTC)) == 0  # 06:00 the day before
    assert await remind(datetime(2026, 12, 4, 2, 0, tzinfo=UTC)) == 1  # 09:00 the day before
    assert await remind(datetime(2026, 12, 4, 3, 0, tzinfo=UTC)) == 0
    (text,) = await _outbox_texts(app, "lan")
    assert "Nhắc lịch" in text and "Hội chợ nông sản" in text
    assert await _outbox_texts(app, "mai") == []


def _write_csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def test_import_events_reports_bad_rows_by_line(small_app: App, tmp_path: Path) -> None:
    conv = small_app.conversation
    csv_file = _write_csv(
        tmp_path / "su_kien.csv",
        [
            "Tên sự kiện,Bắt đầu,Kết thúc,Địa điểm,Hạn đăng ký,Thẻ",
            'Hội chợ OCOP,20/12/2026 08:00,22/12/2026,Lào Cai,10/12/2026,"ocop, hội chợ"',
            ",21/12/2026,,,,",
            "Hội thảo,32/12/2026,,,,",
            "Tập huấn,15/12/2026,14/12/2026,,,",
        ],
    )
    async with conv.sessions() as s:
        report = await import_events(s, csv_file, conv.clock(), conv.settings.tz)
    assert (report.created, [line for line, _ in report.rejected]) == (1, [3, 4, 5])
    text = report.render()
    assert "Dòng 3: thiếu tên sự kiện" in text and "“32/12/2026”" in text
    assert "Dòng 5: ngày kết thúc trước ngày bắt đầu" in text
    async with conv.sessions() as s:
        again = await import_events(s, csv_file, conv.clock(), conv.settings.tz)
    assert (again.created, again.unchanged) == (0, 1)

    book = Workbook()
    sheet = book.active
    sheet.append(["title", "start", "end", "place", "link"])
    sheet.append(["Trade fair", datetime(2027, 1, 5, 8, 0), None, "Hà Nội", "https://x.vn"])
    book.save(tmp_path / "events.xlsx")
    rows = read_event_rows(tmp_path / "events.xlsx")
    assert rows == [(2, {"title": "Trade fair", "starts_at": "05/01/2027 08:00", "ends_at": "",
                         "place": "Hà Nội", "link": "https://x.vn"})]  # fmt: skip
    async with conv.sessions() as s:
        report = await import_events(s, tmp_path / "events.xlsx", conv.clock(), conv.settings.tz)
    assert report.created == 1 and not report.rejected
    titles = [e.title for e in await _events(small_app)]
    assert titles == ["Hội chợ OCOP", "Trade fair"]


async def test_questions_about_fairs_lead_to_the_events_list(app: App) -> None:
    await _add_event(app, "Hội chợ Việt – Trung", datetime(2026, 12, 20, 1, 0, tzinfo=UTC))
    lan = Chat(app, "lan")
    out = await lan.send("sắp có hội chợ nào")
    actions = [b.action for b in out.replies[0].flat_buttons()]
    assert "ev:list" in actions
    out = await lan.send(action="ev:list")
    assert "Hội chợ Việt – Trung" in out.replies[1].text
