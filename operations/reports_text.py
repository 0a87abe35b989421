"""The monthly report's wording that several doors share: the month as members read it, an
answer as text, the prompts and notices queued for representatives.

The data floor (``db.reports``) decides *who* is prompted and *when*; the words are here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from db.models import PERIOD_OPEN, Cooperative, Member
from db.report_calendar import Calendar, period_start
from db.reports import Progress
from ground.i18n import Translator
from ground.messages import Button, Reply
from knowledge.forms import CHOICE, MONEY, MULTI, NUMERIC, YESNO, Field
from operations.labels import SECTOR_NAMES

OPEN = "open"


def month_label(t: Translator, period: str) -> str:
    """11/2026 in Vietnamese, November 2026 in English."""
    return t.date(period_start(period), "MM/yyyy" if t.locale == "vi" else "MMMM yyyy")


def sector_name(t: Translator, key: str) -> str:
    return t.t(SECTOR_NAMES[key]) if key in SECTOR_NAMES else key


def format_answer(t: Translator, f: Field, value: Any) -> str:
    """An answer as a member reads it; "—" when skipped."""
    if value is None or value == []:
        return "—"
    if f.type == MONEY:
        return t.money(int(value))
    if f.type in NUMERIC:
        return t.number(int(value))
    if f.type == YESNO:
        return t.t("Có") if value else t.t("Không")
    if f.type == CHOICE:
        opt = f.option(str(value))
        return opt.text(t.locale) if opt else str(value)
    if f.type == MULTI:
        labels = [f.option(k).text(t.locale) for k in value if f.option(k)]  # type: ignore[union-attr]
        return ", ".join(labels) or "—"
    return str(value)


def prompt_reply(
    t: Translator, kind: str, period: str, coop: Cooperative, cal: Calendar, n: int
) -> Reply:
    """The opening prompt (``kind`` "open") or a reminder, with "Bắt đầu báo cáo"."""
    values = {"month": month_label(t, period), "coop": coop.name, "deadline": t.day(cal.deadline)}
    if kind == OPEN:
        text = t.t(
            "Đã đến kỳ báo cáo tháng {month} của {coop}. Anh/chị bấm “Bắt đầu báo cáo” để "
            "trả lời {n} câu hỏi ngắn; mỗi câu trả lời được lưu ngay. Hạn gửi: hết ngày "
            "{deadline}.",
            n=n,
            **values,
        )
    else:
        text = t.t(
            "Nhắc: {coop} chưa gửi báo cáo tháng {month}. Hạn gửi: hết ngày {deadline}. "
            "Anh/chị bấm “Bắt đầu báo cáo” (hoặc gõ /baocao), chỉ mất vài phút.",
            **values,
        )
    return Reply(text, ((Button(t.t("Bắt đầu báo cáo"), f"rp:start:{period}"),),))


def colleague_notice(
    t: Translator, period: str, coop: Cooperative, by: Member, cal: Calendar
) -> Reply:
    """To the other representatives: the report is in, no need to send it again."""
    return Reply(
        t.t(
            "{name} đã gửi báo cáo tháng {month} của {coop}. Anh/chị không cần gửi nữa; "
            "gõ /baocao để xem hoặc sửa đến hết ngày {deadline}.",
            name=by.display_name or t.t("Người đại diện HTX"),
            month=month_label(t, period),
            coop=coop.name,
            deadline=t.day(cal.deadline),
        )
    )


# --- what staff are told (chat and command line) -----------------------------------------


def period_problem(t: Translator, reason: str, text: str, period: str | None, oldest: int) -> str:
    """Why a period given by staff cannot be used (see ``operations.reports.PeriodProblem``)."""
    month = month_label(t, period) if period else text
    if reason == "future":
        return t.t("Chưa thể mở kỳ báo cáo tháng {month}: tháng đó chưa bắt đầu.", month=month)
    if reason == "too_old":
        return t.t(
            "Tháng {month} đã qua hơn {n} tháng: chỉ mở hoặc nhắc được kỳ báo cáo của {n} "
            "tháng gần đây.",
            month=month,
            n=oldest,
        )
    if reason == "not_open":
        return t.t(
            "Kỳ báo cáo tháng {month} không còn mở (hoặc chưa mở), nên không nhắc được.",
            month=month,
        )
    if reason == "unknown":
        return t.t("Kỳ báo cáo tháng {month} chưa từng được mở.", month=month)
    if reason == "none_yet":
        return t.t("Chưa có kỳ báo cáo nào. Mở kỳ bằng /mobaocao 2026-11.")
    return t.t("“{text}” không phải một tháng. Ví dụ: 2026-11.", text=text)


def open_question(t: Translator, period: str, was_open: bool, n: int, deadline: date) -> str:
    """Asked before prompting many representatives."""
    values = {"month": month_label(t, period), "n": n, "deadline": t.day(deadline)}
    if was_open:
        return t.t(
            "Kỳ báo cáo tháng {month} đang mở. Gửi lời mời tới {n} người đại diện HTX chưa "
            "nhận được? Hạn gửi: hết ngày {deadline}.",
            **values,
        )
    return t.t(
        "Mở kỳ báo cáo tháng {month} và gửi lời mời tới {n} người đại diện HTX? Hạn gửi: "
        "hết ngày {deadline}.",
        **values,
    )


def opened_text(t: Translator, period: str, changed: bool, n: int, deadline: date) -> str:
    month = month_label(t, period)
    head = (
        t.t("Đã mở kỳ báo cáo tháng {month}.", month=month)
        if changed
        else t.t("Kỳ báo cáo tháng {month} đang mở.", month=month)
    )
    return (
        head
        + " "
        + t.t(
            "Đã gửi lời mời tới {n} người đại diện HTX. Hạn gửi: hết ngày {deadline}.",
            n=n,
            deadline=t.day(deadline),
        )
    )


def remind_question(t: Translator, period: str, n: int) -> str:
    if not n:
        return t.t(
            "Không còn ai cần nhắc báo cáo tháng {month}: các HTX đã gửi, hoặc đã được nhắc "
            "hôm nay.",
            month=month_label(t, period),
        )
    return t.t(
        "Gửi lời nhắc báo cáo tháng {month} tới {n} người đại diện của các HTX chưa gửi?",
        month=month_label(t, period),
        n=n,
    )


def reminded_text(t: Translator, period: str, n: int) -> str:
    return t.t(
        "Đã gửi lời nhắc báo cáo tháng {month} tới {n} người đại diện HTX.",
        month=month_label(t, period),
        n=n,
    )


def closed_text(t: Translator, period: str, changed: bool) -> str:
    month = month_label(t, period)
    if changed:
        return t.t("Đã đóng kỳ báo cáo tháng {month}: không nhận thêm báo cáo.", month=month)
    return t.t("Kỳ báo cáo tháng {month} đã đóng từ trước.", month=month)


def progress_text(t: Translator, p: Progress, status: str | None, deadline: date | None) -> str:
    """Submitted / expected, by commune and by sector."""
    percent = round(100 * p.submitted / p.expected) if p.expected else 0
    lines = [
        t.t(
            "Báo cáo tháng {month}: {submitted}/{expected} HTX đã gửi ({percent}%).",
            month=month_label(t, p.period),
            submitted=p.submitted,
            expected=p.expected,
            percent=percent,
        )
    ]
    if status is None:
        lines.append(t.t("Kỳ này chưa được mở."))
    elif status == PERIOD_OPEN and deadline is not None:
        lines.append(t.t("Kỳ đang mở, hạn gửi: hết ngày {deadline}.", deadline=t.day(deadline)))
    else:
        lines.append(t.t("Kỳ đã đóng."))
    lines += ["", t.t("Theo xã/phường:")]
    lines += [f"• {name}: {s}/{e}" for name, s, e in p.by_commune]
    lines += ["", t.t("Theo lĩnh vực:")]
    lines += [f"• {sector_name(t, key)}: {s}/{e}" for key, s, e in p.by_sector]
    if p.without_representative:
        lines += [
            "",
            t.t(
                "{n} HTX chưa gửi và chưa có Chủ tịch/Giám đốc hay Kế toán liên kết với "
                "trợ lý (gọi điện nhắc trực tiếp).",
                n=p.without_representative,
            ),
        ]
    return "\n".join(lines)
