"""The representative's side of the monthly report: /baocao starts or resumes the form, /quay
goes back, typed answers and buttons fill it in, "Gửi" submits it, and a submitted report can
be viewed and corrected until the period closes.

Every button (``rp:…``) checks, when it is pressed, what /baocao checks: the member is an
approved representative (manager or accountant) of the cooperative, and the period still
takes reports. Buttons are data the client sends: a pending member, another cooperative's
member or anyone who forged one gets the same answer as for /baocao, and nothing else.
"""

from __future__ import annotations

import copy
from typing import Any

from db import reports as db
from db.models import PERIOD_OPEN, Cooperative, Member, ReportPeriod
from ground.messages import Button, Reply
from handlers.context import Context
from handlers.reports.answers import answer_text, draft, press, save, step_reply
from handlers.reports.render import (
    FLOW,
    SUMMARY,
    closed_reply,
    coop_of,
    form,
    no_period_reply,
    not_representative,
    pick_field,
    question_reply,
    submitted_text,
    summary_reply,
)
from operations import reports as ops
from operations.reports import schedule_of
from operations.reports_text import month_label


async def period_open(ctx: Context, period: str) -> ReportPeriod | None:
    """The period's row when it still takes reports, else ``None``."""
    row = await db.get_period(ctx.session, period)
    if row is None or row.status != PERIOD_OPEN:
        return None
    cal = db.calendar_of(row, schedule_of(ctx.settings), ctx.translator.tz)
    return row if ctx.clock() < cal.close_at else None


async def in_flow(ctx: Context) -> tuple[dict[str, Any] | None, Reply | None]:
    """The draft of a member in the flow, or a reply explaining why there is none."""
    if ctx.member.flow != FLOW:
        return None, Reply(ctx.t("Phiếu báo cáo này đã kết thúc. Gõ /baocao để mở lại."))
    data = draft(ctx)
    if not db.is_representative(ctx.member) or ctx.member.cooperative_id != data.get("coop"):
        ctx.end_flow()
        return None, not_representative(ctx)
    if await period_open(ctx, data.get("period", "")) is None:
        ctx.end_flow()
        return None, closed_reply(ctx, data.get("period", ""))
    return data, None


# --- submitting ----------------------------------------------------------------------------


async def submit(ctx: Context, data: dict[str, Any]) -> Reply:
    answers = data.get("answers", {})
    fields = form().applicable(answers)
    missing = [f for f in fields if f.required and answers.get(f.key) in (None, [])]
    if missing:
        data["step"] = missing[0].key
        save(ctx, data)
        return question_reply(ctx, data, missing[0], ctx.t("Còn câu bắt buộc chưa trả lời."))
    clean = {f.key: answers.get(f.key) for f in fields}
    try:
        done = await ops.submit(
            ctx.session,
            ctx.member,
            data["period"],
            data.get("coop") or 0,
            clean,
            data.get("base", 0),
            ctx.clock(),
            ctx.settings,
            ctx.translations,
        )
    except ops.Refused:
        ctx.end_flow()
        return not_representative(ctx)
    except ops.PeriodProblem:
        ctx.end_flow()
        return closed_reply(ctx, data["period"])
    except db.SubmitConflict as exc:
        other = (
            await ctx.session.get(Member, exc.report.submitted_by)
            if exc.report.submitted_by
            else None
        )
        data["conflict"] = exc.report.version
        save(ctx, data)
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
    coop = await coop_of(ctx, data)
    ctx.end_flow()
    values = {
        "month": month_label(ctx.translator, data["period"]),
        "coop": coop.name if coop else "–",
        "deadline": ctx.translator.day(done.deadline),
    }
    if done.first:
        text = ctx.t(
            "Đã gửi báo cáo tháng {month} của {coop}. Cảm ơn anh/chị! Nếu cần sửa, gõ /baocao "
            "trước hết ngày {deadline}.",
            **values,
        )
    else:
        text = ctx.t(
            "Đã lưu bản sửa báo cáo tháng {month} của {coop} (phiên bản {version}). Vẫn sửa "
            "được đến hết ngày {deadline}.",
            version=done.report.version,
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


async def begin(ctx: Context, hint: str | None = None) -> Reply:
    """/baocao and the "Bắt đầu báo cáo" button: resume, start, or show what was sent."""
    if not db.is_representative(ctx.member):
        return not_representative(ctx)
    if ctx.member.flow == FLOW:
        data, problem = await in_flow(ctx)
        if data is not None and (hint is None or hint == data.get("period")):
            answered = sum(
                1 for f in form().applicable(data["answers"]) if f.key in data["answers"]
            )
            note = ctx.t(
                "Tiếp tục báo cáo tháng {month} (đã trả lời {n} câu).",
                month=month_label(ctx.translator, data["period"]),
                n=answered,
            )
            return await step_reply(ctx, data, note)
        if problem is not None and hint is None:
            return problem
    period = await _choose_period(ctx, hint)
    if period is None:
        if hint and await db.get_period(ctx.session, hint):
            return closed_reply(ctx, hint)
        return no_period_reply(ctx)
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
        month=month_label(ctx.translator, period),
        coop=coop.name,
        n=len(form().planned({})),
    )
    return question_reply(ctx, data, first, intro)


async def correct(ctx: Context, period: str) -> Reply:
    """Start correcting the submitted report: the member picks the question to change."""
    if not db.is_representative(ctx.member):
        return not_representative(ctx)
    if await period_open(ctx, period) is None:
        return closed_reply(ctx, period)
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


async def view(ctx: Context, period: str) -> Reply:
    """The cooperative's submitted report (during a conflict: with "send mine"): for its
    representatives only, as /baocao."""
    if not db.is_representative(ctx.member):
        return not_representative(ctx)
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


# --- the handlers (wired in handlers.reports.register) -------------------------------------


async def report_command(ctx: Context, arg: str) -> Reply:
    return await begin(ctx, db.parse_period(arg) if arg.strip() else None)


async def back(ctx: Context, _: str) -> Reply:
    if ctx.member.flow != FLOW:
        return Reply(ctx.t("Không có câu hỏi nào để quay lại."))
    data, problem = await in_flow(ctx)
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
    save(ctx, data)
    return question_reply(ctx, data, fields[pos - 1])


async def typed(ctx: Context, text: str) -> Reply:
    data, problem = await in_flow(ctx)
    if data is None:
        return problem or Reply("")
    if data.get("conflict"):
        data.pop("conflict")
        save(ctx, data)
    f = form().field(data.get("step", ""))
    if f is None:
        return await summary_reply(ctx, data)
    if data.get("pending"):  # a new answer instead of confirming the old one
        data.pop("pending")
    return await answer_text(ctx, data, f, text)


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
            month=month_label(ctx.translator, data.get("period", "")),
        ),
        (
            (Button(ctx.t("Làm tiếp báo cáo"), "rp:start:"),),
            (Button(ctx.t("Xoá bản nháp"), "rp:drop"),),
        ),
    )


async def button(ctx: Context, arg: str) -> Reply:
    """A ``rp:…`` button, checked as /baocao is (see the module's docstring)."""
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
        period = db.parse_period(rest)
        return await view(ctx, period) if period else await begin(ctx)
    data, problem = await in_flow(ctx)
    if data is None:
        return problem or Reply("")
    if kind == "send":
        return await submit(ctx, data)
    if kind == "force":
        if data.get("conflict"):
            data["base"] = data.pop("conflict")
            save(ctx, data)
        return await submit(ctx, data)
    if kind == "edit":
        return pick_field(ctx, data)
    if kind == "sum":
        data["step"] = SUMMARY
        save(ctx, data)
        return await summary_reply(ctx, data)
    if kind == "f":
        key = rest.partition(":")[0]
        f = form().field(key)
        if f is None or not form().applies(f, data["answers"]):
            return await press(ctx, data, kind, rest)
        data["step"] = key
        data.pop("pending", None)
        data.pop("sel", None)
        save(ctx, data)
        return question_reply(ctx, data, f)
    return await press(ctx, data, kind, rest)
