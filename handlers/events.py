"""Trade events in chat: /sukien lists the upcoming ones (with a "remind me" button), staff
add one with /themsukien (a guided form); the day before an event the members who asked are
reminded (operations/events.py, run by the scheduler).

The form asks one question at a time and keeps the answers in ``member.flow_data``, so a
restart loses nothing; optional questions take "bỏ qua"; a preview ends with "Lưu" / "Huỷ".
Staff rights are checked at every answer and when "Lưu" is pressed, not only at /themsukien.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from db.events import check_dates, parse_when, reminder_of, split_tags, upcoming
from db.models import Event, EventReminder
from ground.i18n import N_
from ground.messages import Button, Reply
from handlers.context import Context
from handlers.router import Router, id_of
from knowledge.normalize import fold
from operations import events as ops
from operations.event_texts import event_card, remind_button
from operations.rights import Actor, OperationError, Refused, require_staff

FORM_FLOW = "event_form"
SKIP_WORDS = ("bo qua", "skip", "-")
DATE_FIELDS = ops.DATE_FIELDS
GONE = N_("Sự kiện này không còn trong danh sách. Gõ /sukien để xem.")

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
assert tuple(field for field, _, _ in STEPS) == ops.FIELDS


# --- /sukien and its buttons (every member) ------------------------------------------------


async def list_events(ctx: Context, _: str = "") -> list[Reply]:
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


async def event_button(ctx: Context, arg: str) -> Reply | list[Reply]:
    """``ev:list``, ``ev:rem:<id>``, ``ev:unrem:<id>``: events are public, so any member may
    press them (as /sukien, which shows them); a reminder is the member's own."""
    kind, _, eid = arg.partition(":")
    if kind == "list":
        return await list_events(ctx)
    event = await ctx.session.get(Event, id_of(eid)) if id_of(eid) else None
    if event is None or kind not in ("rem", "unrem"):
        return Reply(ctx.t(GONE))
    existing = await reminder_of(ctx.session, event.id, ctx.member.id)
    if kind == "rem":
        if existing is None:
            ctx.session.add(
                EventReminder(event_id=event.id, member_id=ctx.member.id, created_at=ctx.clock())
            )
        text = ctx.t(
            "Đã hẹn: trợ lý sẽ nhắc anh/chị về “{title}” một ngày trước khi diễn ra.",
            title=event.title,
        )
        return Reply(text, ((remind_button(ctx.translator, event, True),),))
    if existing is not None:
        await ctx.session.delete(existing)
    text = ctx.t("Đã bỏ nhắc sự kiện “{title}”.", title=event.title)
    return Reply(text, ((remind_button(ctx.translator, event, False),),))


# --- /themsukien (staff) -----------------------------------------------------------------


def _ask(ctx: Context, step: int) -> Reply:
    _, required, question = STEPS[step]
    text = f"({step + 1}/{len(STEPS)}) " + ctx.t(question)
    if not required:
        text += " " + ctx.t("Gõ “bỏ qua” nếu không có.")
    return Reply(text)


def _preview(ctx: Context) -> Reply:
    event = ops.draft_event((ctx.member.flow_data or {}).get("values", {}))
    text = ctx.t("Xem lại sự kiện:") + "\n\n" + event_card(ctx.translator, event)
    if event.starts_at is not None and ops.is_past(event, ctx.clock(), ctx.translator.tz):
        text += "\n\n" + ctx.t(
            "Lưu ý: sự kiện này đã qua; thành viên sẽ không thấy nó trong /sukien."
        )
    return Reply(text, ((Button(ctx.t("Lưu"), "evf:save"), Button(ctx.t("Huỷ"), "evf:drop")),))


def _refused(ctx: Context) -> Reply:
    ctx.end_flow()
    return Reply(ctx.t("Anh/chị không còn quyền cán bộ nên không thêm được sự kiện."))


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


async def add_event(ctx: Context, _: str) -> Reply:
    ctx.start_flow(FORM_FLOW, {"step": 0, "values": {}})
    return Reply(ctx.t("Thêm sự kiện mới; gõ /huy để thôi.") + "\n" + _ask(ctx, 0).text)


async def form_answer(ctx: Context, text: str) -> Reply:
    try:
        await require_staff(ctx.session, Actor.of(ctx.member))
    except Refused:
        return _refused(ctx)
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


async def form_button(ctx: Context, arg: str) -> Reply:
    if ctx.member.flow != FORM_FLOW or not ctx.member.flow_data:
        return Reply(ctx.t("Biểu mẫu này đã đóng. Gõ /themsukien để thêm sự kiện."))
    if arg == "drop":
        ctx.end_flow()
        return Reply(ctx.t("Đã huỷ, không lưu sự kiện."), edit=True)
    if arg != "save" or ctx.member.flow_data.get("step", 0) < len(STEPS):
        return _preview(ctx)
    try:
        event = await ops.add_event(
            ctx.session, Actor.of(ctx.member), ctx.member.flow_data["values"], ctx.clock()
        )
    except Refused:
        return _refused(ctx)
    except OperationError as exc:
        return Reply(ctx.t(exc.message, **exc.values))
    ctx.end_flow()
    return Reply(
        ctx.t(
            "Đã lưu sự kiện #{id}. Thành viên xem bằng /sukien; "
            "gõ /thongbao để gửi thông báo kèm sự kiện này.",
            id=event.id,
        ),
        edit=True,
    )


def register(router: Router) -> None:
    router.command("sukien", "events", description=N_("Hội chợ, sự kiện sắp tới"))(list_events)
    router.action("ev")(event_button)
    router.command("themsukien", "addevent", description=N_("Thêm sự kiện (cán bộ)"),
                   role="staff")(add_event)  # fmt: skip
    router.flow(FORM_FLOW)(form_answer)
    router.action("evf", role="staff")(form_button)
