"""Trade events: /sukien lists the upcoming ones (with a "remind me" button), staff add one with
/themsukien (a guided form), and the day before an event the members who asked are reminded.

The form asks one question at a time and keeps the answers in ``member.flow_data``, so a
restart loses nothing; optional questions take "bỏ qua"; a preview ends with "Lưu" / "Huỷ".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import audit, outbox
from db.events import (
    check_dates,
    claim_reminder,
    due_reminders,
    has_time,
    parse_when,
    reminder_of,
    split_tags,
    upcoming,
)
from db.models import Event, EventReminder
from ground.i18n import N_, Translations, Translator
from ground.messages import Button, Reply
from ground.settings import Settings
from handlers.context import Context
from handlers.router import Router
from knowledge.normalize import fold

FORM_FLOW = "event_form"
SKIP_WORDS = ("bo qua", "skip", "-")
DATE_FIELDS = ("starts_at", "ends_at", "register_by")


# (field, required, question)
STEPS: tuple[tuple[str, bool, str], ...] = (
    ("title", True, N_("Tên sự kiện là gì?")),
    (
        "starts_at",
        True,
        N_("Sự kiện bắt đầu khi nào? Gõ ngày như 20/11/2026, hoặc có giờ: 20/11/2026 08:00."),
    ),
    ("ends_at", False, N_("Kết thúc khi nào? (ví dụ 22/11/2026 17:00)")),
    ("register_by", False, N_("Hạn đăng ký tham gia là ngày nào?")),
    ("place", False, N_("Tổ chức ở đâu?")),
    ("description", False, N_("Mô tả ngắn về sự kiện?")),
    ("contact", False, N_("Liên hệ để đăng ký (tên, số điện thoại)?")),
    ("link", False, N_("Đường dẫn (trang web) của sự kiện?")),
    ("tags", False, N_("Từ khoá, cách nhau bởi dấu phẩy (ví dụ: hội chợ, ocop)?")),
)


def when_text(t: Translator, value: datetime) -> str:
    """A day (typed without a time) or a date and time, with Babel, in local time."""
    if not has_time(value, t.tz):
        return t.day(value)
    return f"{t.day(value)}, {t.datetime(value, 'HH:mm')}"


def event_card(t: Translator, event: Event) -> str:
    """An event as members read it, in ``t``'s locale and time zone."""
    when = when_text(t, event.starts_at)
    if event.ends_at is not None and event.ends_at != event.starts_at:
        when = t.t("{start} đến {end}", start=when, end=when_text(t, event.ends_at))
    lines = [f"📅 {event.title}", t.t("Thời gian: {when}", when=when)]
    if event.place:
        lines.append(t.t("Địa điểm: {place}", place=event.place))
    if event.register_by is not None:
        lines.append(t.t("Hạn đăng ký: {date}", date=when_text(t, event.register_by)))
    if event.contact:
        lines.append(t.t("Liên hệ: {contact}", contact=event.contact))
    if event.link:
        lines.append(event.link)
    if event.description:
        lines.append(event.description)
    return "\n".join(lines)


def remind_button(t: Translator, event: Event, reminded: bool) -> Button:
    if reminded:
        return Button(t.t("Bỏ nhắc"), f"ev:unrem:{event.id}")
    return Button(t.t("Nhắc tôi trước 1 ngày"), f"ev:rem:{event.id}")


async def list_events(ctx: Context) -> list[Reply]:
    events = await upcoming(ctx.session, ctx.clock(), ctx.translator.tz)
    if not events:
        return [
            Reply(
                ctx.t(
                    "Hiện chưa có sự kiện nào sắp diễn ra. Cán bộ sẽ thông báo khi có; "
                    "gõ /lienhe nếu anh/chị cần hỏi."
                )
            )
        ]
    replies = [Reply(ctx.t("Sự kiện sắp tới:"))]
    for event in events:
        reminded = await reminder_of(ctx.session, event.id, ctx.member.id) is not None
        button = remind_button(ctx.translator, event, reminded)
        replies.append(Reply(event_card(ctx.translator, event), ((button,),)))
    return replies


# --- the form ----------------------------------------------------------------------------


def _draft_event(values: dict[str, Any]) -> Event:
    data = dict(values)
    for key in DATE_FIELDS:
        if data.get(key):
            data[key] = datetime.fromisoformat(data[key])
    return Event(**{k: data.get(k) for k, _, _ in STEPS})


def _ask(ctx: Context, step: int) -> Reply:
    _, required, question = STEPS[step]
    text = f"({step + 1}/{len(STEPS)}) " + ctx.t(question)
    if not required:
        text += " " + ctx.t("Gõ “bỏ qua” nếu không có.")
    return Reply(text)


def _preview(ctx: Context) -> Reply:
    event = _draft_event((ctx.member.flow_data or {}).get("values", {}))
    return Reply(
        ctx.t("Xem lại sự kiện:") + "\n\n" + event_card(ctx.translator, event),
        ((Button(ctx.t("Lưu"), "evf:save"), Button(ctx.t("Huỷ"), "evf:drop")),),
    )


def _take(ctx: Context, field: str, text: str) -> tuple[Any, str | None]:
    """The value typed for ``field``, or (None, a polite reason)."""
    values = (ctx.member.flow_data or {}).get("values", {})
    if field in DATE_FIELDS:
        when = parse_when(text, ctx.translator.tz)
        if when is None:
            return None, ctx.t(
                "Chưa hiểu ngày “{text}”. Anh/chị gõ theo dạng 20/11/2026 hoặc 20/11/2026 08:00.",
                text=text,
            )
        starts = datetime.fromisoformat(values["starts_at"]) if field != "starts_at" else when
        ends = when if field == "ends_at" else None
        if field == "ends_at" and check_dates(starts, ends, None):
            return None, ctx.t("Ngày kết thúc phải sau ngày bắt đầu. Anh/chị gõ lại:")
        if field == "register_by" and values.get("ends_at"):
            if check_dates(starts, datetime.fromisoformat(values["ends_at"]), when):
                return None, ctx.t("Hạn đăng ký phải trước khi sự kiện kết thúc. Gõ lại:")
        return when.isoformat(), None
    if field == "tags":
        return split_tags(text), None
    if field == "link" and not text.lower().startswith(("http://", "https://")):
        return None, ctx.t("Đường dẫn phải bắt đầu bằng http:// hoặc https://. Gõ lại:")
    limit = 512 if field == "link" else (4000 if field == "description" else 255)
    if len(text) > limit:
        return None, ctx.t("Dài quá {n} ký tự, anh/chị rút gọn giúp:", n=limit)
    return text, None


def register(router: Router) -> None:
    @router.command("sukien", "events", description=N_("Hội chợ, sự kiện sắp tới"))
    async def events(ctx: Context, _: str) -> list[Reply]:
        return await list_events(ctx)

    @router.action("ev")
    async def event_button(ctx: Context, arg: str) -> Reply | list[Reply]:
        kind, _, eid = arg.partition(":")
        if kind == "list":
            return await list_events(ctx)
        event = await ctx.session.get(Event, int(eid)) if eid.isdigit() else None
        if event is None:
            return Reply(ctx.t("Sự kiện này không còn trong danh sách. Gõ /sukien để xem."))
        existing = await reminder_of(ctx.session, event.id, ctx.member.id)
        if kind == "rem":
            if existing is None:
                ctx.session.add(
                    EventReminder(
                        event_id=event.id, member_id=ctx.member.id, created_at=ctx.clock()
                    )
                )
            text = ctx.t(
                "Đã hẹn: trợ lý sẽ nhắc anh/chị về “{title}” một ngày trước khi diễn ra.",
                title=event.title,
            )
            return Reply(text, ((remind_button(ctx.translator, event, True),),))
        if kind == "unrem":
            if existing is not None:
                await ctx.session.delete(existing)
            text = ctx.t("Đã bỏ nhắc sự kiện “{title}”.", title=event.title)
            return Reply(text, ((remind_button(ctx.translator, event, False),),))
        return Reply(ctx.t("Sự kiện này không còn trong danh sách. Gõ /sukien để xem."))

    @router.command("themsukien", "addevent", description=N_("Thêm sự kiện (cán bộ)"), role="staff")
    async def add_event(ctx: Context, _: str) -> Reply:
        ctx.start_flow(FORM_FLOW, {"step": 0, "values": {}})
        return Reply(ctx.t("Thêm sự kiện mới; gõ /huy để thôi.") + "\n" + _ask(ctx, 0).text)

    @router.flow(FORM_FLOW)
    async def form_answer(ctx: Context, text: str) -> Reply:
        data = dict(ctx.member.flow_data or {"step": 0, "values": {}})
        step = int(data.get("step", 0))
        if step >= len(STEPS):
            return _preview(ctx)
        field, required, _ = STEPS[step]
        text = text.strip()
        values = dict(data.get("values", {}))
        if not text or (fold(text) in SKIP_WORDS):
            if required:
                return Reply(ctx.t("Mục này bắt buộc.") + " " + _ask(ctx, step).text)
            values[field] = None
        else:
            value, problem = _take(ctx, field, text)
            if problem:
                return Reply(problem)
            values[field] = value
        data["values"], data["step"] = values, step + 1
        ctx.member.flow_data = data  # a new dict, so the change is saved
        if step + 1 < len(STEPS):
            return _ask(ctx, step + 1)
        return _preview(ctx)

    @router.action("evf", role="staff")
    async def form_button(ctx: Context, arg: str) -> Reply:
        if ctx.member.flow != FORM_FLOW or not ctx.member.flow_data:
            return Reply(ctx.t("Biểu mẫu này đã đóng. Gõ /themsukien để thêm sự kiện."))
        if arg == "drop":
            ctx.end_flow()
            return Reply(ctx.t("Đã huỷ, không lưu sự kiện."), edit=True)
        if arg != "save" or ctx.member.flow_data.get("step", 0) < len(STEPS):
            return _preview(ctx)
        now = ctx.clock()
        event = _draft_event(ctx.member.flow_data["values"])
        event.created_by = audit.actor_of(ctx.member)
        event.created_at = event.updated_at = now
        ctx.session.add(event)
        await ctx.session.flush()
        audit.record(ctx.session, event.created_by, "event_added", now, f"event:{event.id}")
        ctx.end_flow()
        return Reply(
            ctx.t(
                "Đã lưu sự kiện #{id}. Thành viên xem bằng /sukien; "
                "gõ /thongbao để gửi thông báo kèm sự kiện này.",
                id=event.id,
            ),
            edit=True,
        )


async def send_reminders(
    sessions: async_sessionmaker[AsyncSession],
    translations: Translations,
    settings: Settings,
    now: datetime,
) -> int:
    """Remind members of tomorrow's events they asked about (each reminder once); returns
    how many went to the outbox. Members who turned notices off or blocked the assistant are
    not reminded (the reminder is marked done all the same)."""
    count = 0
    async with sessions() as session:
        for reminder, event, member in await due_reminders(session, now, settings.tz):
            if not await claim_reminder(session, reminder.id, now):
                continue
            if member.opted_out or member.unreachable:
                continue
            t = translations.get(member.locale)
            text = t.t("Nhắc lịch: sự kiện anh/chị quan tâm sắp diễn ra.") + "\n\n"
            outbox.enqueue(session, member, Reply(text + event_card(t, event)), now)
            count += 1
        await session.commit()
    return count
