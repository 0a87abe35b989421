"""How a broadcast reads: the notice as each member receives it, the audience as staff see
it, the progress message and the final report (sent, failed and skipped, by reason)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db import broadcasts as data
from db.broadcasts import REASON_INTERRUPTED, REASON_NO_CHANNEL, Tally
from db.models import BROADCAST_CANCELLED, Broadcast, Event
from ground.i18n import N_, Translator
from ground.messages import Reply
from operations.event_texts import event_card, remind_button
from operations.labels import KIND_NAMES, SECTOR_NAMES

REASONS = {
    "blocked": N_("đã chặn trợ lý"),
    REASON_INTERRUPTED: N_("gián đoạn khi đang gửi, có thể chưa nhận được"),
    "timeout": N_("quá thời gian chờ, có thể chưa nhận được"),
    "network": N_("lỗi mạng nhiều lần"),
    "cancelled": N_("đã huỷ"),
    "opted_out": N_("đã tắt thông báo"),
    "unreachable": N_("không liên lạc được"),
    REASON_NO_CHANNEL: N_("dùng console, mà console không mở khi gửi"),
}


def recipient_reply(t: Translator, text: str, event: Event | None) -> Reply:
    """The notice as one member receives it (the event card in their language)."""
    if event is None:
        return Reply(text)
    return Reply(text + "\n\n" + event_card(t, event), ((remind_button(t, event, False),),))


async def audience_label(
    session: AsyncSession, t: Translator, audience: str, value: str | None
) -> str:
    if audience == "sector":
        return t.t("lĩnh vực {name}", name=t.t(SECTOR_NAMES.get(value or "", value or "")))
    if audience == "kind":
        return t.t("loại hình {name}", name=t.t(KIND_NAMES.get(value or "", value or "")))
    if audience == "commune":
        v = value or ""
        code = int(v) if v.isascii() and v.isdigit() and len(v) <= 9 else -1
        name = await data.commune_name(session, code) or value
        return t.t("HTX ở {name}", name=name)
    if audience == "noreport":
        period = await data.latest_period(session)
        return t.t("HTX chưa nộp báo cáo tháng {period}", period=period.period if period else "–")
    return t.t("tất cả thành viên")


def reason_label(t: Translator, reason: str) -> str:
    return t.t(REASONS[reason]) if reason in REASONS else reason


def progress_text(t: Translator, broadcast: Broadcast, counts: Tally) -> str:
    text = t.t(
        "Thông báo #{id}: đã gửi {sent}/{total}",
        id=broadcast.id,
        sent=t.number(counts.sent),
        total=t.number(counts.total),
    )
    if counts.failed_count:
        text += t.t(", lỗi {n}", n=t.number(counts.failed_count))
    return text


def final_report(t: Translator, broadcast: Broadcast, counts: Tally) -> str:
    if broadcast.status == BROADCAST_CANCELLED:
        head = t.t("Thông báo #{id} đã dừng theo yêu cầu.", id=broadcast.id)
    else:
        head = t.t("Thông báo #{id} đã gửi xong.", id=broadcast.id)
    lines = [
        head,
        t.t(
            "Đã gửi: {sent}/{total}",
            sent=t.number(counts.sent),
            total=t.number(counts.total),
        ),
    ]
    for title, found in ((t.t("Lỗi"), counts.failed), (t.t("Bỏ qua"), counts.skipped)):
        if found:
            lines.append(f"{title}: {t.number(sum(found.values()))}")
            for reason, n in found.most_common():
                lines.append(f"  • {reason_label(t, reason)}: {t.number(n)}")
    return "\n".join(lines)
