"""What a representative sees of the monthly report form: a question with its number and
buttons, the summary before sending, a submitted report, and why there is nothing to do."""

from __future__ import annotations

from typing import Any

from db import reports as db
from db.models import LINK_PENDING, Cooperative, Member
from ground.messages import Button, Reply, rows
from handlers.context import Context
from knowledge.forms import CHOICE, MONEY, MULTI, YESNO, Field, Form, monthly_report
from operations.reports import schedule_of
from operations.reports_text import format_answer, month_label

FLOW = "report"
SUMMARY = "summary"
DONE_OPTION = "_done"


def form() -> Form:
    return monthly_report()


def example(f: Field) -> str:
    return "46 triệu" if f.type == MONEY else "12"


def question_reply(ctx: Context, data: dict[str, Any], f: Field, note: str = "") -> Reply:
    """The question for ``f``: its number, text, help, current value and buttons."""
    loc = ctx.member.locale
    answers = data.get("answers", {})
    # Each question keeps its place in the form: skipping one that does not apply (details
    # of support when there was none) moves on past its number, the total stays the same.
    fields = form().fields
    number = next((i for i, x in enumerate(fields, 1) if x.key == f.key), len(fields))
    lines = [note] if note else []
    head = ctx.t("Câu {n}/{total}:", n=number, total=len(fields)) + " " + f.text("question", loc)
    if not f.required:
        head += " " + ctx.t("(không bắt buộc)")
    lines.append(head)
    if f.text("help", loc):
        lines.append(f.text("help", loc))
    if f.key in answers:
        current = format_answer(ctx.translator, f, answers[f.key])
        lines.append(ctx.t("Câu trả lời hiện tại: {value}", value=current))
    buttons: list[Button] = []
    per_row = 1
    if f.type == CHOICE:
        buttons = [Button(o.text(loc), f"rp:c:{f.key}:{o.key}") for o in f.options]
        per_row = 2
    elif f.type == MULTI:
        chosen = data.get("sel", answers.get(f.key) or [])
        buttons = [
            Button(("✓ " if o.key in chosen else "") + o.text(loc), f"rp:m:{f.key}:{o.key}")
            for o in f.options
        ]
        buttons.append(Button(ctx.t("Xong"), f"rp:m:{f.key}:{DONE_OPTION}"))
        per_row = 2
    elif f.type == YESNO:
        buttons = [
            Button(ctx.t("Có"), f"rp:y:{f.key}:1"),
            Button(ctx.t("Không"), f"rp:y:{f.key}:0"),
        ]
        per_row = 2
    if not f.required:
        buttons.append(Button(ctx.t("Bỏ qua"), f"rp:skip:{f.key}"))
    typed = f.type not in (CHOICE, MULTI, YESNO)
    return Reply("\n".join(lines), rows(*buttons, per_row=per_row), numbers_are_text=typed)


async def coop_of(ctx: Context, data: dict[str, Any]) -> Cooperative | None:
    return await ctx.session.get(Cooperative, data.get("coop") or 0)


async def summary_reply(ctx: Context, data: dict[str, Any], note: str = "") -> Reply:
    coop = await coop_of(ctx, data)
    t = ctx.translator
    answers = data.get("answers", {})
    lines = [note, ""] if note else []
    lines.append(
        ctx.t(
            "Báo cáo tháng {month} của {coop}:",
            month=month_label(t, data["period"]),
            coop=coop.name if coop else "–",
        )
    )
    for f in form().applicable(answers):
        value = format_answer(t, f, answers.get(f.key))
        lines.append(f"• {f.text('label', ctx.member.locale)}: {value}")
    lines.append("")
    lines.append(ctx.t("Anh/chị kiểm tra lại rồi bấm “Gửi”, hoặc “Sửa” để chọn câu cần sửa."))
    return Reply(
        "\n".join(lines),
        ((Button(ctx.t("Gửi"), "rp:send"), Button(ctx.t("Sửa"), "rp:edit")),),
    )


def submitted_text(ctx: Context, report: Any, coop: Cooperative, by: Member | None) -> str:
    t = ctx.translator
    lines = [
        ctx.t(
            "Báo cáo tháng {month} của {coop} đã được {name} gửi lúc {time} (phiên bản {version}).",
            month=month_label(t, report.period),
            coop=coop.name,
            name=(by.display_name if by else None) or ctx.t("người đại diện HTX"),
            time=t.datetime(report.submitted_at),
            version=report.version,
        )
    ]
    for f in form().applicable(report.answers):
        value = format_answer(t, f, report.answers.get(f.key))
        lines.append(f"• {f.text('label', ctx.member.locale)}: {value}")
    return "\n".join(lines)


def not_representative(ctx: Context) -> Reply:
    m = ctx.member
    if m.cooperative_id and m.link_status == LINK_PENDING:
        text = ctx.t(
            "Yêu cầu liên kết của anh/chị với HTX đang chờ cán bộ duyệt. Khi được duyệt, "
            "anh/chị gửi được báo cáo tháng bằng lệnh /baocao."
        )
    elif m.cooperative_id and m.coop_role == "member":
        text = ctx.t(
            "Báo cáo tháng do Chủ tịch/Giám đốc hoặc Kế toán của HTX gửi. Nếu anh/chị giữ vai "
            "trò đó, gõ /dangky để cập nhật liên kết."
        )
    else:
        text = ctx.t(
            "Báo cáo tháng do Chủ tịch/Giám đốc hoặc Kế toán của HTX gửi qua trợ lý. Anh/chị "
            "gõ /dangky để liên kết tài khoản với HTX của mình trước."
        )
    return Reply(text)


def closed_reply(ctx: Context, period: str) -> Reply:
    return Reply(
        ctx.t(
            "Kỳ báo cáo tháng {month} đã đóng, không nhận thêm hay sửa báo cáo nữa. Cần điều "
            "chỉnh, anh/chị gõ /lienhe để nhắn cán bộ.",
            month=month_label(ctx.translator, period),
        )
    )


def no_period_reply(ctx: Context) -> Reply:
    schedule = schedule_of(ctx.settings)
    tz = ctx.translator.tz
    today = ctx.clock().astimezone(tz).date()
    period = db.previous_period(today)
    cal = db.nominal_calendar(period, schedule, tz)
    if cal.open_at <= ctx.clock():
        period = db.period_of(today)
        cal = db.nominal_calendar(period, schedule, tz)
    return Reply(
        ctx.t(
            "Hiện chưa có kỳ báo cáo nào đang mở. Kỳ báo cáo tháng {month} sẽ mở ngày {day}; "
            "trợ lý sẽ nhắn anh/chị khi đến kỳ.",
            month=month_label(ctx.translator, period),
            day=ctx.translator.day(cal.open_at),
        )
    )


def pick_field(ctx: Context, data: dict[str, Any]) -> Reply:
    fields = form().applicable(data.get("answers", {}))
    buttons = [Button(f.text("label", ctx.member.locale), f"rp:f:{f.key}") for f in fields]
    buttons.append(Button(ctx.t("« Quay lại tóm tắt"), "rp:sum"))
    return Reply(ctx.t("Anh/chị muốn sửa câu nào?"), rows(*buttons, per_row=2))
