"""Talk to staff, the chat door: /lienhe, the member's messages into their ticket, staff's
"Trả lời" / "Đóng" buttons and /vecho. What changes is done by operations/tickets.py, which
checks rights when each step runs.

While a member writes into a ticket they are told so on every reply, with a button back to
questions and answers (or /huy); a message the knowledge base can answer is answered at once
too. When no staff member is configured, the member is told so and how to reach the office.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from db import tickets as tq
from db.models import TICKET_ANSWERED, TICKET_CLAIMED, TICKET_CLOSED, TICKET_OPEN, Ticket
from ground.i18n import N_, Translator
from ground.messages import Button, Reply
from ground.settings import Settings
from handlers.context import Context
from handlers.qa import answer_reply
from handlers.router import Router, id_of
from operations import Actor, NotPossible, OperationError
from operations import tickets as ops
from operations.tickets import MEMBER_FLOW, renotify_stale, ticket_card

__all__ = ["next_opening", "register", "renotify_stale"]

NEW_FLOW, STAFF_FLOW = "ticket_new", "ticket_staff"
RECENT_QUESTION = timedelta(hours=1)
# Inside a ticket most messages are details for staff ("thêm chi tiết", "đã nhận được chưa"),
# which the search may match weakly: only a clear match is answered from the knowledge base.
KNOWN_IN_TICKET = 0.75
MEDIA_NOTES = {
    "image": N_("[Thành viên gửi một ảnh]"),
    "sticker": N_("[Thành viên gửi một nhãn dán]"),
    "voice": N_("[Thành viên gửi một tin nhắn thoại]"),
    "file": N_("[Thành viên gửi một tệp]"),
    "other": N_("[Thành viên gửi một nội dung không phải chữ]"),
}


def next_opening(now: datetime, settings: Settings) -> datetime | None:
    """When the office next opens, in local time; ``None`` while it is open."""
    local = now.astimezone(settings.tz)
    if local.isoweekday() in settings.office_days and (
        settings.office_open <= local.time() < settings.office_close
    ):
        return None
    day = local.date()
    if local.time() >= settings.office_open:
        day += timedelta(days=1)
    while day.isoweekday() not in settings.office_days:
        day += timedelta(days=1)
    return datetime.combine(day, settings.office_open, tzinfo=settings.tz)


def contact_details(ctx: Context) -> str:
    s = ctx.settings
    hours = ctx.t(
        "Giờ làm việc: {open}–{close}, {first} đến {last}.",
        open=s.office_open.strftime("%H:%M"),
        close=s.office_close.strftime("%H:%M"),
        first=_weekday(ctx.translator, min(s.office_days)),
        last=_weekday(ctx.translator, max(s.office_days)),
    )
    if s.contact:
        return ctx.t("Liên hệ Liên minh HTX tỉnh: {contact}", contact=s.contact) + "\n" + hours
    return hours


def _weekday(t: Translator, iso: int) -> str:
    names = {
        1: N_("thứ Hai"),
        2: N_("thứ Ba"),
        3: N_("thứ Tư"),
        4: N_("thứ Năm"),
        5: N_("thứ Sáu"),
        6: N_("thứ Bảy"),
    }
    return t.t(names[iso]) if iso in names else t.t("Chủ nhật")


def when_answered(ctx: Context) -> str:
    opening = next_opening(ctx.clock(), ctx.settings)
    if opening is None:
        return ctx.t("Cán bộ sẽ trả lời anh/chị ngay tại đây, thường trong giờ làm việc hôm nay.")
    return ctx.t(
        "Bây giờ ngoài giờ làm việc; cán bộ sẽ trả lời tại đây khi văn phòng mở cửa, "
        "lúc {time} ngày {day}.",
        time=opening.strftime("%H:%M"),
        day=ctx.translator.day(opening),
    )


def no_staff(ctx: Context, ticket_id: int) -> str:
    return ctx.t(
        "Hiện chưa có cán bộ nào nhận tin qua trợ lý, nên chưa ai được báo; tin nhắn đã được "
        "lưu trong yêu cầu #{id} để cán bộ xem sau. Cần gấp, anh/chị liên hệ trực tiếp Liên "
        "minh HTX tỉnh.",
        id=ticket_id,
    )


def in_ticket(ctx: Context, ticket_id: int) -> tuple[str, tuple[tuple[Button, ...], ...]]:
    """The reminder that the member is writing into a ticket, and the button out of it."""
    text = ctx.t(
        "Anh/chị đang nhắn trong yêu cầu #{id}: mọi tin nhắn ở đây được chuyển cho cán bộ. "
        "Muốn hỏi trợ lý, bấm “Quay lại hỏi đáp” hoặc gõ /huy.",
        id=ticket_id,
    )
    return text, ((Button(ctx.t("Quay lại hỏi đáp"), f"tk:leave:{ticket_id}"),),)


def _media_note(ctx: Context) -> str | None:
    media = ctx.incoming.media
    return ctx.t(MEDIA_NOTES.get(media, MEDIA_NOTES["other"])) if media else None


async def open_ticket(ctx: Context, question: str) -> Reply:
    sent = await ops.open_ticket(ctx.session, Actor.of(ctx.member), question,
                                 translations=ctx.translations, settings=ctx.settings,
                                 now=ctx.clock())  # fmt: skip
    tid = sent.ticket.id
    ctx.start_flow(MEMBER_FLOW, {"ticket": tid})
    banner, buttons = in_ticket(ctx, tid)
    head = ctx.t("Đã chuyển câu hỏi cho cán bộ Liên minh HTX (yêu cầu #{id}).", id=tid)
    status = when_answered(ctx) if sent.staff_told else no_staff(ctx, tid)
    return Reply(f"{head} {status}\n{banner}\n{contact_details(ctx)}", buttons)


async def contact(ctx: Context, arg: str) -> Reply:
    if arg.strip():
        return await open_ticket(ctx, arg.strip())
    existing = await tq.open_ticket_of(ctx.session, ctx.member)
    if existing is not None:
        ctx.start_flow(MEMBER_FLOW, {"ticket": existing.id})
        banner, buttons = in_ticket(ctx, existing.id)
        return Reply(
            ctx.t("Anh/chị đang có yêu cầu #{id} chờ cán bộ.", id=existing.id)
            + f"\n{banner}\n{contact_details(ctx)}",
            buttons,
        )
    since = ctx.clock() - RECENT_QUESTION
    refused = await tq.last_unanswered_question(ctx.session, ctx.member, since)
    if refused is not None:
        return await open_ticket(ctx, refused.text)
    ctx.start_flow(NEW_FLOW)
    return Reply(
        ctx.t("Anh/chị nhắn câu hỏi cần gửi cán bộ (gõ /huy để thôi):")
        + "\n"
        + contact_details(ctx)
    )


async def contact_button(ctx: Context, _: str) -> Reply:
    return await contact(ctx, "")


async def new_question(ctx: Context, text: str) -> Reply:
    text = text.strip() or (_media_note(ctx) or "")
    if not text:
        return Reply(ctx.t("Anh/chị nhắn nội dung cần hỏi cán bộ (gõ /huy để thôi)."))
    return await open_ticket(ctx, text)


async def member_writes(ctx: Context, text: str) -> Reply | list[Reply]:
    text = text.strip() or (_media_note(ctx) or "")
    if not text:
        return Reply(ctx.t("Anh/chị nhắn nội dung cần gửi cán bộ (gõ /huy để thôi)."))
    tid = int((ctx.member.flow_data or {}).get("ticket", 0))
    try:
        sent = await ops.add_member_message(ctx.session, Actor.of(ctx.member), tid, text,
                                            translations=ctx.translations,
                                            settings=ctx.settings, now=ctx.clock())  # fmt: skip
    except OperationError:  # closed, or gone: the message starts a new ticket
        ctx.end_flow()
        return await open_ticket(ctx, text)
    banner, buttons = in_ticket(ctx, tid)
    head = ctx.t("Đã chuyển cho cán bộ (yêu cầu #{id}).", id=tid)
    if not sent.staff_told:
        head = no_staff(ctx, tid)
    replies = [Reply(f"{head}\n{banner}", buttons)]
    known = _known_answer(ctx, text)
    if known is not None:  # answered now too; staff still see the message
        replies.append(known)
    return replies


def _known_answer(ctx: Context, text: str) -> Reply | None:
    result = ctx.kb.index.search(text[:1000])
    best = result.best
    if not result.matched or result.ambiguous or best is None or best.score < KNOWN_IN_TICKET:
        return None
    if best.entry.scope != "in" or best.entry.id.startswith("chitchat."):
        return None
    found = answer_reply(ctx, best.entry, None)
    lead = ctx.t("Trong lúc chờ cán bộ, trợ lý có sẵn câu trả lời này:")
    return Reply(f"{lead}\n\n{found.text}", found.buttons)


async def leave_ticket(ctx: Context, tid: int) -> Reply:
    if ctx.member.flow == MEMBER_FLOW and (ctx.member.flow_data or {}).get("ticket") == tid:
        ctx.end_flow()
    return Reply(
        ctx.t(
            "Đã quay lại hỏi đáp: anh/chị cứ gõ câu hỏi cho trợ lý. Yêu cầu #{id} vẫn chờ cán "
            "bộ; câu trả lời sẽ đến tại đây. Gõ /lienhe để nhắn tiếp cho cán bộ.",
            id=tid,
        )
    )


async def cancel_in_ticket(ctx: Context, _: str) -> Reply:
    """/huy while writing into a ticket: back to questions, the ticket stays open."""
    return await leave_ticket(ctx, int((ctx.member.flow_data or {}).get("ticket", 0)))


async def ticket_button(ctx: Context, arg: str) -> Reply:
    kind, _, rest = arg.partition(":")
    tid_text, _, option = rest.partition(":")
    tid = id_of(tid_text) or 0
    actor = Actor.of(ctx.member)
    if kind in ("rep", "leave"):  # the member's own ticket
        ticket = await ctx.session.get(Ticket, tid)
        if ticket is None or ticket.member_id != ctx.member.id:
            return Reply(ctx.t(ops.NOT_FOUND))
        if kind == "leave":
            return await leave_ticket(ctx, tid)
        if ticket.status == TICKET_CLOSED:
            return Reply(ctx.t("Yêu cầu #{id} đã đóng. Gõ /lienhe để gửi câu hỏi mới.", id=tid))
        ctx.start_flow(MEMBER_FLOW, {"ticket": tid})
        return Reply(ctx.t("Anh/chị nhắn nội dung trả lời cán bộ:"))
    if kind == "ans":
        return await claim(ctx, tid)
    if kind == "close":  # asks first; the same rights as closing
        actor.require_staff()
        return Reply(
            ctx.t("Đóng yêu cầu #{id}. Câu trả lời có nên thêm vào cơ sở tri thức?", id=tid),
            (
                (Button(ctx.t("Đóng, đề xuất thêm"), f"tk:cls:{tid}:kb"),),
                (Button(ctx.t("Chỉ đóng"), f"tk:cls:{tid}"),),
            ),
            edit=True,
        )
    if kind == "cls":
        return await close(ctx, tid, suggest=option == "kb")
    return Reply(ctx.t(ops.NOT_FOUND))


async def claim(ctx: Context, tid: int) -> Reply:
    ticket = await ops.claim_ticket(ctx.session, Actor.of(ctx.member), tid,
                                    translations=ctx.translations, settings=ctx.settings,
                                    now=ctx.clock())  # fmt: skip
    ctx.start_flow(STAFF_FLOW, {"ticket": ticket.id})
    return Reply(
        ctx.t(
            "Anh/chị gõ câu trả lời cho yêu cầu #{id}:\n{question}",
            id=ticket.id,
            question=ticket.question,
        )
    )


async def staff_answers(ctx: Context, text: str) -> Reply:
    text = text.strip()
    if not text:
        return Reply(ctx.t("Anh/chị gõ câu trả lời bằng chữ (gõ /huy để thôi)."))
    tid = int((ctx.member.flow_data or {}).get("ticket", 0))
    ctx.end_flow()  # whatever happens, this answer ends the flow (a refusal included)
    done = await ops.answer_ticket(ctx.session, Actor.of(ctx.member), tid, text,
                                   translations=ctx.translations, now=ctx.clock())  # fmt: skip
    if not done.delivered:
        return Reply(
            ctx.t(
                "Đã lưu câu trả lời cho yêu cầu #{id}, nhưng không gửi được: thành viên đã "
                "chặn trợ lý hoặc đã xoá dữ liệu.",
                id=tid,
            )
        )
    return Reply(ctx.t("Đã gửi câu trả lời cho yêu cầu #{id}.", id=tid))


async def close(ctx: Context, tid: int, suggest: bool) -> Reply:
    try:
        await ops.close_ticket(ctx.session, Actor.of(ctx.member), tid, suggest,
                               translations=ctx.translations,
                               now=ctx.clock())  # fmt: skip
    except NotPossible as exc:
        return Reply(ctx.t(exc.message, **exc.values), edit=True)
    return Reply(
        ctx.t("Đã đóng yêu cầu #{id}.", id=tid)
        + (" " + ctx.t("Câu trả lời sẽ có trong “coopbot kb suggestions”.") if suggest else ""),
        edit=True,
    )


async def open_tickets(ctx: Context, _: str) -> Reply | list[Reply]:
    found = await ops.open_tickets(ctx.session, Actor.of(ctx.member))
    if not found:
        return Reply(ctx.t("Không có yêu cầu nào đang chờ."))
    replies = [Reply(ctx.tn("{n} yêu cầu chưa đóng, cũ nhất trước:",
                            "{n} yêu cầu chưa đóng, cũ nhất trước:", len(found)))]  # fmt: skip
    status = {
        TICKET_OPEN: ctx.t("chưa ai nhận"),
        TICKET_CLAIMED: ctx.t("đang trả lời"),
        TICKET_ANSWERED: ctx.t("đã trả lời"),
    }
    for item in found:
        card = ticket_card(ctx.translator, item.ticket, item.member, item.coop, item.thread)
        when = ctx.translator.datetime(item.ticket.created_at)
        text = f"{card.text}\n({status[item.ticket.status]}, {when})"
        replies.append(Reply(text, card.buttons))
    return replies


def register(router: Router) -> None:
    router.command("lienhe", "contact", description=N_("Nhắn cán bộ Liên minh HTX"))(contact)
    router.action("contact")(contact_button)  # opens the presser's own ticket
    router.flow(NEW_FLOW)(new_question)
    router.flow(MEMBER_FLOW)(member_writes)
    router.before_cancel(MEMBER_FLOW)(cancel_in_ticket)
    # tk:rep / tk:leave the member's own ticket; tk:ans / tk:close / tk:cls staff (checked
    # when pressed, by the operation).
    router.action("tk")(ticket_button)
    router.flow(STAFF_FLOW)(staff_answers)
    router.command("vecho", "tickets", description=N_("Yêu cầu đang chờ cán bộ"), role="staff")(
        open_tickets
    )
