"""The monthly report: /baocao for a cooperative's representatives; /mobaocao, /tiendo, /xuat
and /bieudo for staff.

The form (knowledge/forms/monthly_report.yaml) is asked one question at a time, with buttons
for choices. Every answer goes into ``member.flow_data`` and is committed with the message, so
the member can leave and come back (or the bot restart) without losing anything; /baocao
resumes, /quay goes back one question, and /huy asks before it deletes answers already given.
A summary with "Gửi" / "Sửa" comes before submitting; after submitting, the report can be
corrected until the period closes (each version is kept).
A number that can be read two ways ("1.200") is repeated back with buttons.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import audit
from db import reports as db
from db.models import LINK_PENDING, PERIOD_OPEN, Cooperative, Member, ReportPeriod
from ground.i18n import N_, Translations
from ground.messages import Attachment, Button, Reply, rows
from handlers.context import Context
from handlers.router import Router
from knowledge import numbers
from knowledge.forms import CHOICE, MONEY, MULTI, NUMERIC, YESNO, Field, Form, monthly_report
from knowledge.normalize import fold
from outputs import charts
from outputs.reports import export_reports

FLOW = "report"
SUMMARY = "summary"
DONE_OPTION = "_done"
SKIP_WORDS = frozenset({"bo qua", "boqua", "skip", "bo", "khong tra loi"})
YES_WORDS = frozenset({"co", "yes", "y", "da co", "co a", "u", "dung"})
NO_WORDS = frozenset({"khong", "ko", "k", "no", "n", "chua", "khong co", "chua co"})
SECTOR_NAMES = {
    "nong_lam_thuy_san": N_("Nông – lâm – thủy sản"),
    "cong_nghiep_ttcn": N_("Công nghiệp – TTCN"),
    "thuong_mai_dich_vu": N_("Thương mại – dịch vụ"),
    "xay_dung": N_("Xây dựng"),
    "van_tai": N_("Vận tải"),
    "tin_dung": N_("Tín dụng"),
    "khac": N_("Khác"),
}


def form() -> Form:
    return monthly_report()


# --- what the member sees ------------------------------------------------------------------


def _example(f: Field) -> str:
    return "46 triệu" if f.type == MONEY else "12"


def question_reply(ctx: Context, data: dict[str, Any], f: Field, note: str = "") -> Reply:
    """The question for ``f``: its number, text, help, current value and buttons."""
    loc = ctx.member.locale
    answers = data.get("answers", {})
    fields = form().planned(answers)
    number = next((i for i, x in enumerate(fields, 1) if x.key == f.key), len(fields))
    lines = [note] if note else []
    head = ctx.t("Câu {n}/{total}:", n=number, total=len(fields)) + " " + f.text("question", loc)
    if not f.required:
        head += " " + ctx.t("(không bắt buộc)")
    lines.append(head)
    if f.text("help", loc):
        lines.append(f.text("help", loc))
    if f.key in answers:
        current = db.format_answer(ctx.translator, f, answers[f.key])
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


async def _coop(ctx: Context, data: dict[str, Any]) -> Cooperative | None:
    return await ctx.session.get(Cooperative, data.get("coop") or 0)


async def summary_reply(ctx: Context, data: dict[str, Any], note: str = "") -> Reply:
    coop = await _coop(ctx, data)
    t = ctx.translator
    answers = data.get("answers", {})
    lines = [note, ""] if note else []
    lines.append(
        ctx.t(
            "Báo cáo tháng {month} của {coop}:",
            month=db.month_label(t, data["period"]),
            coop=coop.name if coop else "–",
        )
    )
    for f in form().applicable(answers):
        value = db.format_answer(t, f, answers.get(f.key))
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
            month=db.month_label(t, report.period),
            coop=coop.name,
            name=(by.display_name if by else None) or ctx.t("người đại diện HTX"),
            time=t.datetime(report.submitted_at),
            version=report.version,
        )
    ]
    for f in form().applicable(report.answers):
        value = db.format_answer(t, f, report.answers.get(f.key))
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


# --- the flow's state ----------------------------------------------------------------------


def _data(ctx: Context) -> dict[str, Any]:
    # A deep copy: the JSON column is saved only when the new value differs from the old one.
    return copy.deepcopy(ctx.member.flow_data or {})


def _save(ctx: Context, data: dict[str, Any]) -> None:
    ctx.member.flow_data = data


def next_step(answers: dict[str, Any], after: str | None) -> str:
    """The first unanswered question after ``after`` (``None``: from the start), else the
    summary."""
    fields = form().applicable(answers)
    keys = [f.key for f in fields]
    start = keys.index(after) + 1 if after in keys else 0
    for f in fields[start:]:
        if f.key not in answers:
            return f.key
    for f in fields[:start]:  # e.g. a question added to the form meanwhile
        if f.key not in answers and f.required:
            return f.key
    return SUMMARY


async def step_reply(ctx: Context, data: dict[str, Any], note: str = "") -> Reply:
    f = form().field(data.get("step", ""))
    if f is None:
        data["step"] = SUMMARY
        _save(ctx, data)
        return await summary_reply(ctx, data, note)
    return question_reply(ctx, data, f, note)


async def _period_closed(ctx: Context, period: str) -> ReportPeriod | None:
    """The period's row when it still takes reports, else ``None``."""
    row = await db.get_period(ctx.session, period)
    if row is None or row.status != PERIOD_OPEN:
        return None
    cal = db.calendar_of(row, db.ReportSchedule.from_env(), ctx.translator.tz)
    return row if ctx.clock() < cal.close_at else None


def _closed_reply(ctx: Context, period: str) -> Reply:
    return Reply(
        ctx.t(
            "Kỳ báo cáo tháng {month} đã đóng, không nhận thêm hay sửa báo cáo nữa. Cần điều "
            "chỉnh, anh/chị gõ /lienhe để nhắn cán bộ.",
            month=db.month_label(ctx.translator, period),
        )
    )


async def _in_flow(ctx: Context) -> tuple[dict[str, Any] | None, Reply | None]:
    """The draft of a member in the flow, or a reply explaining why there is none."""
    if ctx.member.flow != FLOW:
        return None, Reply(ctx.t("Phiếu báo cáo này đã kết thúc. Gõ /baocao để mở lại."))
    data = _data(ctx)
    if not db.is_representative(ctx.member) or ctx.member.cooperative_id != data.get("coop"):
        ctx.end_flow()
        return None, not_representative(ctx)
    if await _period_closed(ctx, data.get("period", "")) is None:
        ctx.end_flow()
        return None, _closed_reply(ctx, data.get("period", ""))
    return data, None


async def store(ctx: Context, data: dict[str, Any], f: Field, value: Any) -> Reply:
    """Save one answer and ask the next question (or show the summary)."""
    data.setdefault("answers", {})[f.key] = value
    data.pop("pending", None)
    data.pop("sel", None)
    data["step"] = next_step(data["answers"], f.key)
    _save(ctx, data)
    return await step_reply(ctx, data)


# --- reading answers -----------------------------------------------------------------------


def _number_problem(ctx: Context, f: Field, text: str, problem: str | None) -> str:
    example = _example(f)
    if problem == numbers.NOT_WHOLE:
        if f.type == MONEY:
            return ctx.t("Số tiền tính bằng đồng, không có số lẻ. Ví dụ: 1,5 triệu hoặc 1.500.000.")
        return ctx.t("Cần một số nguyên, ví dụ: {example}.", example=example)
    if problem == numbers.NEGATIVE:
        return ctx.t("Số không được âm. Ví dụ: {example}.", example=example)
    return ctx.t(
        "Tôi chưa đọc được số trong “{text}”. Anh/chị gõ một số, ví dụ: {example}.",
        text=text.strip()[:40],
        example=example,
    )


def _show(ctx: Context, f: Field, value: int) -> str:
    return ctx.translator.money(value) if f.type == MONEY else ctx.translator.number(value)


def _check_bounds(ctx: Context, f: Field, value: int) -> str | None:
    lo, hi = f.min or 0, f.max
    if value < lo or (hi is not None and value > hi):
        return ctx.t(
            "{value} nằm ngoài khoảng hợp lệ (từ {min} đến {max}). Anh/chị kiểm tra lại.",
            value=_show(ctx, f, value),
            min=_show(ctx, f, lo),
            max=_show(ctx, f, hi) if hi is not None else "∞",
        )
    return None


async def answer_number(ctx: Context, data: dict[str, Any], f: Field, text: str) -> Reply:
    reading = numbers.parse_number(text)
    if not reading.candidates:
        return question_reply(ctx, data, f, _number_problem(ctx, f, text, reading.problem))
    if reading.value is not None:
        problem = _check_bounds(ctx, f, reading.value)
        if problem:
            return question_reply(ctx, data, f, problem)
        return await store(ctx, data, f, reading.value)
    data["pending"] = list(reading.candidates)
    _save(ctx, data)
    buttons = [Button(_show(ctx, f, v), f"rp:num:{f.key}:{v}") for v in reading.candidates]
    buttons.append(Button(ctx.t("Nhập lại"), f"rp:num:{f.key}:retry"))
    return Reply(
        ctx.t(
            "Anh/chị gõ “{text}”: số này có thể hiểu theo nhiều cách. Anh/chị xác nhận giúp:",
            text=text.strip()[:40],
        ),
        rows(*buttons),
    )


def _match_option(f: Field, text: str) -> str | None:
    folded = fold(text).strip(" .")
    for o in f.options:
        if folded in (o.key, *(fold(label) for label in o.label.values())):
            return o.key
    return None


async def answer_text(ctx: Context, data: dict[str, Any], f: Field, text: str) -> Reply:
    """A typed answer to question ``f``."""
    folded = fold(text).strip(" .!")
    if not f.required and folded in SKIP_WORDS:
        return await store(ctx, data, f, None)
    if f.type in NUMERIC:
        return await answer_number(ctx, data, f, text)
    if f.type == YESNO:
        if folded in YES_WORDS or folded.startswith("co "):
            return await store(ctx, data, f, True)
        if folded in NO_WORDS or folded.startswith("khong "):
            return await store(ctx, data, f, False)
        return question_reply(ctx, data, f, ctx.t("Anh/chị bấm “Có” hoặc “Không”."))
    if f.type == CHOICE:
        key = _match_option(f, text)
        if key:
            return await store(ctx, data, f, key)
        return question_reply(ctx, data, f, ctx.t("Anh/chị chọn một trong các nút bên dưới."))
    if f.type == MULTI:
        parts = [p for p in fold(text).replace(";", ",").replace(" va ", ",").split(",")]
        keys = [_match_option(f, p) for p in parts if p.strip()]
        if keys and all(keys):
            return await _store_multi(ctx, data, f, [k for k in keys if k])
        return question_reply(
            ctx, data, f, ctx.t("Anh/chị bấm các lựa chọn bên dưới, rồi bấm “Xong”.")
        )
    # text
    value = " ".join(text.split())
    if not value:
        return question_reply(ctx, data, f, ctx.t("Anh/chị gõ câu trả lời bằng chữ."))
    if len(value) > f.max_length:
        return question_reply(
            ctx,
            data,
            f,
            ctx.t("Câu trả lời dài quá {n} ký tự; anh/chị viết ngắn gọn lại giúp.", n=f.max_length),
        )
    return await store(ctx, data, f, value)


async def _store_multi(ctx: Context, data: dict[str, Any], f: Field, keys: list[str]) -> Reply:
    exclusive = [k for k in keys if (o := f.option(k)) and o.exclusive]
    chosen = exclusive[-1:] if exclusive else keys
    ordered = [o.key for o in f.options if o.key in chosen]
    return await store(ctx, data, f, ordered)


# --- submitting ----------------------------------------------------------------------------


async def submit(ctx: Context, data: dict[str, Any]) -> Reply:
    answers = data.get("answers", {})
    fields = form().applicable(answers)
    missing = [f for f in fields if f.required and answers.get(f.key) in (None, [])]
    if missing:
        data["step"] = missing[0].key
        _save(ctx, data)
        return question_reply(ctx, data, missing[0], ctx.t("Còn câu bắt buộc chưa trả lời."))
    row = await _period_closed(ctx, data["period"])
    coop = await _coop(ctx, data)
    if row is None or coop is None:
        ctx.end_flow()
        return _closed_reply(ctx, data["period"])
    clean = {f.key: answers.get(f.key) for f in fields}
    now = ctx.clock()
    try:
        report, first = await db.submit_report(
            ctx.session, data["period"], coop.id, ctx.member, clean, now, data.get("base", 0)
        )
    except db.SubmitConflict as exc:
        other = (
            await ctx.session.get(Member, exc.report.submitted_by)
            if exc.report.submitted_by
            else None
        )
        data["conflict"] = exc.report.version
        _save(ctx, data)
        return Reply(
            ctx.t(
                "Trong lúc anh/chị điền, {name} đã gửi báo cáo tháng này của HTX (phiên bản "
                "{version}). Anh/chị muốn gửi bản của mình thay thế, hay xem bản đã gửi?",
                name=(other.display_name if other else None) or ctx.t("người đại diện HTX"),
                version=exc.report.version,
            ),
            (
                (Button(ctx.t("Gửi bản của tôi"), "rp:force"),),
                (Button(ctx.t("Xem bản đã gửi"), f"rp:view:{data['period']}"),),
            ),
        )
    cal = db.calendar_of(row, db.ReportSchedule.from_env(), ctx.translator.tz)
    if first:
        await db.tell_colleagues(
            ctx.session, ctx.translations, data["period"], coop, ctx.member, cal.deadline, now
        )
    ctx.end_flow()
    values = {
        "month": db.month_label(ctx.translator, data["period"]),
        "coop": coop.name,
        "deadline": ctx.translator.day(cal.deadline),
    }
    if first:
        text = ctx.t(
            "Đã gửi báo cáo tháng {month} của {coop}. Cảm ơn anh/chị! Nếu cần sửa, gõ /baocao "
            "trước hết ngày {deadline}.",
            **values,
        )
    else:
        text = ctx.t(
            "Đã lưu bản sửa báo cáo tháng {month} của {coop} (phiên bản {version}). Vẫn sửa "
            "được đến hết ngày {deadline}.",
            version=report.version,
            **values,
        )
    return Reply(text)


# --- starting ------------------------------------------------------------------------------


async def _choose_period(ctx: Context, hint: str | None) -> str | None:
    periods = [p.period for p in await db.open_periods(ctx.session)]
    if hint:
        return hint if hint in periods else None
    coop_id = ctx.member.cooperative_id or 0
    for period in periods:
        if await db.get_report(ctx.session, period, coop_id) is None:
            return period
    return periods[-1] if periods else None


def _no_period_reply(ctx: Context) -> Reply:
    schedule = db.ReportSchedule.from_env()
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
            month=db.month_label(ctx.translator, period),
            day=ctx.translator.day(cal.open_at),
        )
    )


async def begin(ctx: Context, hint: str | None = None) -> Reply:
    """/baocao and the "Bắt đầu báo cáo" button: resume, start, or show what was sent."""
    if not db.is_representative(ctx.member):
        return not_representative(ctx)
    if ctx.member.flow == FLOW:
        data, problem = await _in_flow(ctx)
        if data is not None and (hint is None or hint == data.get("period")):
            answered = sum(
                1 for f in form().applicable(data["answers"]) if f.key in data["answers"]
            )
            note = ctx.t(
                "Tiếp tục báo cáo tháng {month} (đã trả lời {n} câu).",
                month=db.month_label(ctx.translator, data["period"]),
                n=answered,
            )
            return await step_reply(ctx, data, note)
        if problem is not None and hint is None:
            return problem
    period = await _choose_period(ctx, hint)
    if period is None:
        if hint and await db.get_period(ctx.session, hint):
            return _closed_reply(ctx, hint)
        return _no_period_reply(ctx)
    coop = await ctx.session.get(Cooperative, ctx.member.cooperative_id or 0)
    if coop is None:
        return not_representative(ctx)
    report = await db.get_report(ctx.session, period, coop.id)
    if report is not None:
        by = await ctx.session.get(Member, report.submitted_by) if report.submitted_by else None
        return Reply(
            submitted_text(ctx, report, coop, by)
            + "\n\n"
            + ctx.t("Cần sửa thì bấm “Sửa báo cáo”."),
            ((Button(ctx.t("Sửa báo cáo"), f"rp:fix:{period}"),),),
        )
    first = form().fields[0]
    data = {"period": period, "coop": coop.id, "answers": {}, "base": 0, "step": first.key}
    ctx.start_flow(FLOW, data)
    intro = ctx.t(
        "Báo cáo tháng {month} của {coop}: {n} câu hỏi ngắn. Mỗi câu trả lời được lưu ngay; "
        "anh/chị có thể dừng và gõ /baocao để làm tiếp, gõ /quay để quay lại câu trước.",
        month=db.month_label(ctx.translator, period),
        coop=coop.name,
        n=len(form().planned({})),
    )
    return question_reply(ctx, data, first, intro)


async def correct(ctx: Context, period: str) -> Reply:
    """Start correcting the submitted report: the member picks the question to change."""
    if not db.is_representative(ctx.member):
        return not_representative(ctx)
    if await _period_closed(ctx, period) is None:
        return _closed_reply(ctx, period)
    coop_id = ctx.member.cooperative_id or 0
    report = await db.get_report(ctx.session, period, coop_id)
    if report is None:
        return await begin(ctx, period)
    data = {
        "period": period,
        "coop": coop_id,
        "answers": copy.deepcopy(report.answers),
        "base": report.version,
        "step": SUMMARY,
    }
    ctx.start_flow(FLOW, data)
    return pick_field(ctx, data)


def pick_field(ctx: Context, data: dict[str, Any]) -> Reply:
    fields = form().applicable(data.get("answers", {}))
    buttons = [Button(f.text("label", ctx.member.locale), f"rp:f:{f.key}") for f in fields]
    buttons.append(Button(ctx.t("« Quay lại tóm tắt"), "rp:sum"))
    return Reply(ctx.t("Anh/chị muốn sửa câu nào?"), rows(*buttons, per_row=2))


async def view(ctx: Context, period: str) -> Reply:
    """The cooperative's submitted report (during a conflict: with "send mine")."""
    coop = await ctx.session.get(Cooperative, ctx.member.cooperative_id or 0)
    report = await db.get_report(ctx.session, period, coop.id) if coop else None
    if report is None or coop is None:
        return Reply(ctx.t("Chưa có báo cáo nào được gửi."))
    by = await ctx.session.get(Member, report.submitted_by) if report.submitted_by else None
    data = (ctx.member.flow_data or {}) if ctx.member.flow == FLOW else {}
    if data.get("conflict"):
        button = Button(ctx.t("Gửi bản của tôi"), "rp:force")
    else:
        button = Button(ctx.t("Sửa báo cáo"), f"rp:fix:{period}")
    return Reply(submitted_text(ctx, report, coop, by), ((button,),))


# --- staff ---------------------------------------------------------------------------------


def _sector(ctx: Context, key: str) -> str:
    return ctx.t(SECTOR_NAMES[key]) if key in SECTOR_NAMES else key


async def _period_arg(ctx: Context, arg: str) -> tuple[str | None, Reply | None]:
    if arg.strip():
        period = db.parse_period(arg)
        if period is None:
            return None, Reply(
                ctx.t("“{text}” không phải một tháng. Ví dụ: 2026-11.", text=arg.strip()[:20])
            )
        return period, None
    row = await db.latest_period(ctx.session)
    if row is None:
        return None, Reply(ctx.t("Chưa có kỳ báo cáo nào. Mở kỳ bằng /mobaocao 2026-11."))
    return row.period, None


EXPORTS = Path(tempfile.gettempdir()) / "coopbot-exports"
KEEP_EXPORTS = 2 * 24 * 3600  # seconds: longer than a Zalo download link lives (24 h)


def _export_dir() -> Path:
    """A fresh folder for one export; folders older than two days are removed."""
    EXPORTS.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - KEEP_EXPORTS
    for old in EXPORTS.iterdir():
        if old.is_dir() and old.stat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(dir=EXPORTS))


def register(router: Router) -> None:
    @router.command("baocao", "report", description=N_("Gửi báo cáo tháng của HTX"))
    async def report_command(ctx: Context, arg: str) -> Reply:
        return await begin(ctx, db.parse_period(arg) if arg.strip() else None)

    @router.command("quay", "back", description=N_("Quay lại câu hỏi trước"), in_menu=False)
    async def back(ctx: Context, _: str) -> Reply:
        if ctx.member.flow != FLOW:
            return Reply(ctx.t("Không có câu hỏi nào để quay lại."))
        data, problem = await _in_flow(ctx)
        if data is None:
            return problem or Reply("")
        fields = form().applicable(data["answers"])
        keys = [f.key for f in fields]
        step = data.get("step")
        pos = keys.index(step) if step in keys else len(keys)
        data.pop("pending", None)
        data.pop("sel", None)
        if pos == 0:
            return question_reply(ctx, data, fields[0], ctx.t("Đây là câu hỏi đầu tiên."))
        data["step"] = keys[pos - 1]
        _save(ctx, data)
        return question_reply(ctx, data, fields[pos - 1])

    @router.flow(FLOW)
    async def typed(ctx: Context, text: str) -> Reply:
        data, problem = await _in_flow(ctx)
        if data is None:
            return problem or Reply("")
        if data.get("conflict"):
            data.pop("conflict")
            _save(ctx, data)
        f = form().field(data.get("step", ""))
        if f is None:
            return await summary_reply(ctx, data)
        if data.get("pending"):  # a new answer instead of confirming the old one
            data.pop("pending")
        return await answer_text(ctx, data, f, text)

    @router.before_cancel(FLOW)
    async def before_cancel(ctx: Context, _: str) -> Reply | None:
        """/huy with answers already given asks first: they would be lost."""
        data = ctx.member.flow_data or {}
        answered = len(data.get("answers") or {})
        if not answered:
            return None
        return Reply(
            ctx.t(
                "Anh/chị đã trả lời {n} câu của báo cáo tháng {month}. Huỷ thì các câu trả lời "
                "này bị xoá. Nếu chỉ muốn tạm dừng, anh/chị cứ để đó và gõ /baocao khi muốn "
                "làm tiếp.",
                n=answered,
                month=db.month_label(ctx.translator, data.get("period", "")),
            ),
            (
                (Button(ctx.t("Làm tiếp báo cáo"), "rp:start:"),),
                (Button(ctx.t("Xoá bản nháp"), "rp:drop"),),
            ),
        )

    @router.action("rp")
    async def button(ctx: Context, arg: str) -> Reply:
        kind, _, rest = arg.partition(":")
        if kind == "drop":
            if ctx.member.flow != FLOW:
                return Reply(ctx.t("Không có việc gì đang làm dở để huỷ."))
            ctx.end_flow()
            return Reply(ctx.t("Đã xoá bản nháp báo cáo. Gõ /baocao khi muốn làm lại."))
        if kind == "start":
            return await begin(ctx, db.parse_period(rest))
        if kind == "fix":
            period = db.parse_period(rest)
            return await correct(ctx, period) if period else await begin(ctx)
        if kind == "view":
            return await view(ctx, rest)
        data, problem = await _in_flow(ctx)
        if data is None:
            return problem or Reply("")
        if kind == "send":
            return await submit(ctx, data)
        if kind == "force":
            if data.get("conflict"):
                data["base"] = data.pop("conflict")
                _save(ctx, data)
            return await submit(ctx, data)
        if kind == "edit":
            return pick_field(ctx, data)
        if kind == "sum":
            data["step"] = SUMMARY
            _save(ctx, data)
            return await summary_reply(ctx, data)
        key, _, value = rest.partition(":")
        f = form().field(key)
        if kind == "f" and f is not None and form().applies(f, data["answers"]):
            data["step"] = key
            data.pop("pending", None)
            data.pop("sel", None)
            _save(ctx, data)
            return question_reply(ctx, data, f)
        if f is None or data.get("step") != key:  # an old message's button
            return await step_reply(ctx, data, ctx.t("Câu hỏi đó đã qua."))
        if kind == "skip" and not f.required:
            return await store(ctx, data, f, None)
        if kind == "y" and f.type == YESNO:
            return await store(ctx, data, f, value == "1")
        if kind == "c" and f.type == CHOICE and f.option(value):
            return await store(ctx, data, f, value)
        if kind == "num" and f.type in NUMERIC:
            if value.isdigit() and int(value) in data.get("pending", []):
                problem_text = _check_bounds(ctx, f, int(value))
                if problem_text:
                    data.pop("pending", None)
                    _save(ctx, data)
                    return question_reply(ctx, data, f, problem_text)
                return await store(ctx, data, f, int(value))
            data.pop("pending", None)
            _save(ctx, data)
            return question_reply(ctx, data, f, ctx.t("Anh/chị gõ lại số giúp."))
        if kind == "m" and f.type == MULTI:
            chosen = list(data.get("sel", data["answers"].get(f.key) or []))
            if value == DONE_OPTION:
                if not chosen and f.required:
                    return question_reply(
                        ctx, data, f, ctx.t("Anh/chị chọn ít nhất một lựa chọn, rồi bấm “Xong”.")
                    )
                return await _store_multi(ctx, data, f, chosen)
            opt = f.option(value)
            if opt is not None:
                if value in chosen:
                    chosen.remove(value)
                elif opt.exclusive:
                    chosen = [value]
                else:
                    chosen = [k for k in chosen if not (o := f.option(k)) or not o.exclusive]
                    chosen.append(value)
                data["sel"] = [o.key for o in f.options if o.key in chosen]
                _save(ctx, data)
                reply = question_reply(ctx, data, f)
                return Reply(reply.text, reply.buttons, edit=True)
        return await step_reply(ctx, data)

    @router.command("mobaocao", "openreport", description=N_("Mở kỳ báo cáo tháng"), role="staff")
    async def open_command(ctx: Context, arg: str) -> Reply:
        tz = ctx.translator.tz
        today = ctx.clock().astimezone(tz).date()
        period = db.parse_period(arg) if arg.strip() else db.previous_period(today)
        if period is None:
            return Reply(ctx.t("Cách dùng: /mobaocao 2026-11 (tháng cần báo cáo)."))
        if period > db.period_of(today):
            return Reply(
                ctx.t(
                    "Chưa thể mở kỳ báo cáo tháng {month}: tháng đó chưa bắt đầu.",
                    month=db.month_label(ctx.translator, period),
                )
            )
        now = ctx.clock()
        row, changed = await db.open_period(ctx.session, period, now, audit.actor_of(ctx.member))
        schedule = db.ReportSchedule.from_env()
        cal = db.calendar_of(row, schedule, tz)
        sent = await db.send_due_prompts(
            ctx.session, ctx.translations, row, cal, now, len(form().planned({}))
        )
        if changed:
            audit.record(
                ctx.session,
                audit.actor_of(ctx.member),
                "open_report_period",
                now,
                period,
                {"prompts": sent},
            )
        month = db.month_label(ctx.translator, period)
        head = (
            ctx.t("Đã mở kỳ báo cáo tháng {month}.", month=month)
            if changed
            else ctx.t("Kỳ báo cáo tháng {month} đang mở.", month=month)
        )
        return Reply(
            head
            + " "
            + ctx.t(
                "Đã gửi lời mời tới {n} người đại diện HTX. Hạn gửi: hết ngày {deadline}.",
                n=sent,
                deadline=ctx.translator.day(cal.deadline),
            )
        )

    @router.command("tiendo", "progress", description=N_("Tiến độ báo cáo tháng"), role="staff")
    async def progress_command(ctx: Context, arg: str) -> Reply:
        period, problem = await _period_arg(ctx, arg)
        if period is None:
            return problem or Reply("")
        p = await db.progress(ctx.session, period)
        t = ctx.translator
        percent = round(100 * p.submitted / p.expected) if p.expected else 0
        lines = [
            ctx.t(
                "Báo cáo tháng {month}: {submitted}/{expected} HTX đã gửi ({percent}%).",
                month=db.month_label(t, period),
                submitted=p.submitted,
                expected=p.expected,
                percent=percent,
            )
        ]
        row = await db.get_period(ctx.session, period)
        if row is not None:
            cal = db.calendar_of(row, db.ReportSchedule.from_env(), t.tz)
            lines.append(
                ctx.t("Kỳ đang mở, hạn gửi: hết ngày {deadline}.", deadline=t.day(cal.deadline))
                if row.status == PERIOD_OPEN
                else ctx.t("Kỳ đã đóng.")
            )
        else:
            lines.append(ctx.t("Kỳ này chưa được mở."))
        lines += ["", ctx.t("Theo xã/phường:")]
        lines += [f"• {name}: {s}/{e}" for name, s, e in p.by_commune]
        lines += ["", ctx.t("Theo lĩnh vực:")]
        lines += [f"• {_sector(ctx, key)}: {s}/{e}" for key, s, e in p.by_sector]
        if p.without_representative:
            lines += [
                "",
                ctx.t(
                    "{n} HTX chưa gửi và chưa có Chủ tịch/Giám đốc hay Kế toán liên kết với "
                    "trợ lý (gọi điện nhắc trực tiếp).",
                    n=p.without_representative,
                ),
            ]
        return Reply("\n".join(lines))

    @router.command(
        "xuat", "exportreports", description=N_("Xuất báo cáo tháng ra Excel"), role="staff"
    )
    async def export_command(ctx: Context, arg: str) -> Reply:
        period, problem = await _period_arg(ctx, arg)
        if period is None:
            return problem or Reply("")
        path = _export_dir() / f"bao-cao-{period}.xlsx"
        count = await export_reports(ctx.session, form(), period, path, "xlsx", ctx.translator)
        p = await db.progress(ctx.session, period)
        audit.record(
            ctx.session,
            audit.actor_of(ctx.member),
            "export_reports",
            ctx.clock(),
            period,
            {"rows": count},
        )
        return Reply(
            ctx.t(
                "Báo cáo tháng {month}: {n} HTX, {submitted} đã gửi.",
                month=db.month_label(ctx.translator, period),
                n=count,
                submitted=p.submitted,
            ),
            attachment=Attachment(path, path.name),
        )

    @router.command("bieudo", "chart", description=N_("Biểu đồ báo cáo 12 tháng"), role="staff")
    async def chart_command(ctx: Context, arg: str) -> Reply:
        last, problem = await _period_arg(ctx, arg)
        if last is None:
            return problem or Reply("")
        periods = [db.shift_period(last, -i) for i in range(11, -1, -1)]
        series = await db.monthly_series(ctx.session, periods)
        path = _export_dir() / f"bieu-do-{last}.png"
        charts.draw_chart(series, ctx.translator, path)
        return Reply(
            ctx.t(
                "Các chỉ số chính từ tháng {first} đến tháng {last}.",
                first=db.month_label(ctx.translator, periods[0]),
                last=db.month_label(ctx.translator, last),
            ),
            attachment=Attachment(path, path.name, is_image=True),
        )


async def run_report_cycle(
    sessions: async_sessionmaker[AsyncSession], translations: Translations, now: datetime
) -> db.CycleResult:
    """One pass of the monthly report schedule (the scheduler calls it every minute)."""
    async with sessions() as session:
        return await db.run_cycle(session, translations, now, len(form().planned({})))
