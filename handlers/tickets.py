"""Talk to staff: /lienhe hands a member's question to a person and brings the answer back.

A ticket holds the question and every message after it. Staff are notified (each staff member,
or one staff group chat when ``COOPBOT_STAFF_CHAT`` is set) with "Trả lời" / "Đóng" buttons;
the first to press "Trả lời" claims the ticket (an atomic update, so two people never answer
the same question) and the others are told. The answer reaches the member on their channel
through the outbox; the member can write back until the ticket is closed. Closing can mark the
answer for the knowledge base (``coopbot kb suggestions``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import audit, outbox
from db.models import (
    TICKET_ANSWERED,
    TICKET_CLAIMED,
    TICKET_CLOSED,
    TICKET_OPEN,
    Cooperative,
    Member,
    Question,
    Ticket,
    TicketMessage,
)
from db.queries import get_or_create_member
from ground.i18n import N_, Translator
from ground.messages import Button, Reply
from ground.settings import Settings
from handlers.context import Context
from handlers.members import staff_members
from handlers.router import Router

NEW_FLOW, MEMBER_FLOW, STAFF_FLOW = "ticket_new", "ticket_member", "ticket_staff"
RECENT_QUESTION = timedelta(hours=1)
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


async def recipients_of_tickets(
    session: AsyncSession, settings: Settings, now: datetime
) -> list[Member]:
    """Who is notified of tickets: the staff group chat when set, else every staff member."""
    if settings.staff_chat:
        channel, chat_id = settings.staff_chat
        chat, _ = await get_or_create_member(
            session, channel, chat_id, locale=settings.locale, now=now, display_name="Nhóm cán bộ"
        )
        return [chat]
    return await staff_members(session)


async def staff_recipients(ctx: Context) -> list[Member]:
    return await recipients_of_tickets(ctx.session, ctx.settings, ctx.clock())


def ticket_card(t: Translator, ticket: Ticket, member: Member | None, coop: str | None) -> Reply:
    who = (member.display_name or "–") if member else t.t("(đã xoá dữ liệu)")
    where = ", ".join(x for x in (member.channel if member else None, coop) if x) or "–"
    text = t.t(
        "Yêu cầu #{id} từ {who} ({where}):\n{question}",
        id=ticket.id,
        who=who,
        where=where,
        question=ticket.question,
    )
    return Reply(
        text,
        (
            (
                Button(t.t("Trả lời"), f"tk:ans:{ticket.id}"),
                Button(t.t("Đóng"), f"tk:close:{ticket.id}"),
            ),
        ),
    )


async def _coop_name(session: AsyncSession, member: Member | None) -> str | None:
    if member is None or not member.cooperative_id:
        return None
    coop = await session.get(Cooperative, member.cooperative_id)
    return coop.name if coop else None


async def notify_staff(ctx: Context, ticket: Ticket, member: Member | None) -> None:
    coop = await _coop_name(ctx.session, member)
    for person in await staff_recipients(ctx):
        if member is not None and person.id == member.id:
            continue
        card = ticket_card(ctx.translations.get(person.locale), ticket, member, coop)
        outbox.enqueue(ctx.session, person, card, ctx.clock())


def _media_note(ctx: Context) -> str | None:
    media = ctx.incoming.media
    return ctx.t(MEDIA_NOTES.get(media, MEDIA_NOTES["other"])) if media else None


async def open_ticket(ctx: Context, question: str) -> Reply:
    now = ctx.clock()
    ticket = Ticket(
        member_id=ctx.member.id,
        status=TICKET_OPEN,
        question=question,
        suggest_kb=False,
        undeliverable=False,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(ticket)
    await ctx.session.flush()
    ctx.session.add(
        TicketMessage(
            ticket_id=ticket.id,
            sender="member",
            sender_member_id=ctx.member.id,
            text=question,
            created_at=now,
        )
    )
    await notify_staff(ctx, ticket, ctx.member)
    ctx.start_flow(MEMBER_FLOW, {"ticket": ticket.id})
    return Reply(
        ctx.t("Đã chuyển câu hỏi cho cán bộ Liên minh HTX (yêu cầu #{id}).", id=ticket.id)
        + " "
        + when_answered(ctx)
        + " "
        + ctx.t("Muốn bổ sung, anh/chị cứ nhắn tiếp; gõ /huy để quay lại hỏi đáp.")
        + "\n"
        + contact_details(ctx)
    )


async def _open_ticket_of(session: AsyncSession, member: Member) -> Ticket | None:
    stmt = (
        select(Ticket)
        .where(Ticket.member_id == member.id, Ticket.status != TICKET_CLOSED)
        .order_by(Ticket.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def register(router: Router) -> None:
    @router.command("lienhe", "contact", description=N_("Nhắn cán bộ Liên minh HTX"))
    async def contact(ctx: Context, arg: str) -> Reply:
        if arg.strip():
            return await open_ticket(ctx, arg.strip())
        existing = await _open_ticket_of(ctx.session, ctx.member)
        if existing is not None:
            ctx.start_flow(MEMBER_FLOW, {"ticket": existing.id})
            return Reply(
                ctx.t(
                    "Anh/chị đang có yêu cầu #{id} chờ cán bộ. Nhắn tiếp ở đây để bổ sung; "
                    "gõ /huy để quay lại hỏi đáp.",
                    id=existing.id,
                )
                + "\n"
                + contact_details(ctx)
            )
        since = ctx.clock() - RECENT_QUESTION
        stmt = (
            select(Question)
            .where(Question.member_id == ctx.member.id, Question.created_at >= since)
            .where(Question.matched.is_(False))
            .order_by(Question.id.desc())
            .limit(1)
        )
        refused = (await ctx.session.execute(stmt)).scalar_one_or_none()
        if refused is not None:
            return await open_ticket(ctx, refused.text)
        ctx.start_flow(NEW_FLOW)
        return Reply(
            ctx.t("Anh/chị nhắn câu hỏi cần gửi cán bộ (gõ /huy để thôi):")
            + "\n"
            + contact_details(ctx)
        )

    @router.action("contact")
    async def contact_button(ctx: Context, _: str) -> Reply:
        return await contact(ctx, "")

    @router.flow(NEW_FLOW)
    async def new_question(ctx: Context, text: str) -> Reply:
        text = text.strip() or (_media_note(ctx) or "")
        if not text:
            return Reply(ctx.t("Anh/chị nhắn nội dung cần hỏi cán bộ (gõ /huy để thôi)."))
        return await open_ticket(ctx, text)

    @router.flow(MEMBER_FLOW)
    async def member_writes(ctx: Context, text: str) -> Reply:
        text = text.strip() or (_media_note(ctx) or "")
        if not text:
            return Reply(ctx.t("Anh/chị nhắn nội dung cần gửi cán bộ (gõ /huy để thôi)."))
        ticket = await ctx.session.get(Ticket, (ctx.member.flow_data or {}).get("ticket", 0))
        if ticket is None or ticket.status == TICKET_CLOSED:
            ctx.end_flow()
            return await open_ticket(ctx, text)
        now = ctx.clock()
        ctx.session.add(
            TicketMessage(
                ticket_id=ticket.id,
                sender="member",
                sender_member_id=ctx.member.id,
                text=text,
                created_at=now,
            )
        )
        ticket.updated_at = now
        claimer = await ctx.session.get(Member, ticket.claimed_by) if ticket.claimed_by else None
        recipients = [claimer] if claimer else await staff_recipients(ctx)
        for person in recipients:
            t = ctx.translations.get(person.locale)
            outbox.enqueue(
                ctx.session,
                person,
                Reply(
                    t.t("Yêu cầu #{id}, thành viên nhắn thêm:\n{text}", id=ticket.id, text=text),
                    ((Button(t.t("Trả lời"), f"tk:ans:{ticket.id}"),),),
                ),
                now,
            )
        return Reply(ctx.t("Đã chuyển cho cán bộ (yêu cầu #{id}).", id=ticket.id))

    @router.action("tk")
    async def ticket_button(ctx: Context, arg: str) -> Reply:
        kind, _, rest = arg.partition(":")
        tid, _, option = rest.partition(":")
        ticket = await ctx.session.get(Ticket, int(tid)) if tid.isdigit() else None
        if ticket is None:
            return Reply(ctx.t("Không tìm thấy yêu cầu này."))
        if kind == "rep":  # the member answers back
            if ticket.status == TICKET_CLOSED or ticket.member_id != ctx.member.id:
                return Reply(ctx.t("Yêu cầu này đã đóng. Gõ /lienhe để gửi câu hỏi mới."))
            ctx.start_flow(MEMBER_FLOW, {"ticket": ticket.id})
            return Reply(ctx.t("Anh/chị nhắn nội dung trả lời cán bộ:"))
        if not ctx.is_staff:
            return Reply(ctx.t("Nút này chỉ dành cho cán bộ Liên minh HTX."))
        if kind == "ans":
            return await claim(ctx, ticket)
        if kind == "close":
            return Reply(
                ctx.t(
                    "Đóng yêu cầu #{id}. Câu trả lời có nên thêm vào cơ sở tri thức?", id=ticket.id
                ),
                (
                    (Button(ctx.t("Đóng, đề xuất thêm"), f"tk:cls:{ticket.id}:kb"),),
                    (Button(ctx.t("Chỉ đóng"), f"tk:cls:{ticket.id}"),),
                ),
                edit=True,
            )
        if kind == "cls":
            return await close(ctx, ticket, suggest=option == "kb")
        return Reply(ctx.t("Không tìm thấy yêu cầu này."))

    async def claim(ctx: Context, ticket: Ticket) -> Reply:
        if ticket.status == TICKET_CLOSED:
            return Reply(ctx.t("Yêu cầu #{id} đã đóng.", id=ticket.id))
        if ticket.claimed_by not in (None, ctx.member.id):
            other = await ctx.session.get(Member, ticket.claimed_by)
            return Reply(
                ctx.t(
                    "{name} đang trả lời yêu cầu #{id}.",
                    name=(other.display_name if other else None) or "–",
                    id=ticket.id,
                )
            )
        if ticket.claimed_by is None:
            # Atomic: of two staff pressing at once, exactly one wins.
            won = await ctx.session.execute(
                update(Ticket)
                .where(Ticket.id == ticket.id, Ticket.claimed_by.is_(None))
                .values(claimed_by=ctx.member.id, status=TICKET_CLAIMED, updated_at=ctx.clock())
                .execution_options(synchronize_session=False)
            )
            if won.rowcount != 1:
                await ctx.session.refresh(ticket)
                return await claim(ctx, ticket)
            await ctx.session.refresh(ticket)
            for person in await staff_recipients(ctx):
                if person.id == ctx.member.id:
                    continue
                t = ctx.translations.get(person.locale)
                outbox.enqueue(ctx.session, person, Reply(t.t(
                    "{name} đã nhận trả lời yêu cầu #{id}.",
                    name=ctx.member.display_name or "–", id=ticket.id,
                )), ctx.clock())  # fmt: skip
        ctx.start_flow(STAFF_FLOW, {"ticket": ticket.id})
        return Reply(
            ctx.t(
                "Anh/chị gõ câu trả lời cho yêu cầu #{id}:\n{question}",
                id=ticket.id,
                question=ticket.question,
            )
        )

    @router.flow(STAFF_FLOW)
    async def staff_answers(ctx: Context, text: str) -> Reply:
        text = text.strip()
        ticket = await ctx.session.get(Ticket, (ctx.member.flow_data or {}).get("ticket", 0))
        if ticket is None or ticket.status == TICKET_CLOSED:
            ctx.end_flow()
            return Reply(ctx.t("Yêu cầu này đã đóng."))
        if not text:
            return Reply(ctx.t("Anh/chị gõ câu trả lời bằng chữ (gõ /huy để thôi)."))
        now = ctx.clock()
        ctx.session.add(
            TicketMessage(
                ticket_id=ticket.id,
                sender="staff",
                sender_member_id=ctx.member.id,
                text=text,
                created_at=now,
            )
        )
        ticket.status, ticket.updated_at = TICKET_ANSWERED, now
        ctx.end_flow()
        member = await ctx.session.get(Member, ticket.member_id) if ticket.member_id else None
        if member is None or member.unreachable:
            ticket.undeliverable = True
            return Reply(
                ctx.t(
                    "Đã lưu câu trả lời cho yêu cầu #{id}, nhưng không gửi được: thành viên đã "
                    "chặn trợ lý hoặc đã xoá dữ liệu.",
                    id=ticket.id,
                )
            )
        t = ctx.translations.get(member.locale)
        outbox.enqueue(
            ctx.session,
            member,
            Reply(
                t.t(
                    "Cán bộ Liên minh HTX trả lời (yêu cầu #{id}):\n{text}", id=ticket.id, text=text
                ),
                ((Button(t.t("Trả lời cán bộ"), f"tk:rep:{ticket.id}"),),),
            ),
            now,
        )
        audit.record(ctx.session, audit.actor_of(ctx.member), "ticket_answered", now,
                     f"ticket:{ticket.id}")  # fmt: skip
        return Reply(ctx.t("Đã gửi câu trả lời cho yêu cầu #{id}.", id=ticket.id))

    async def close(ctx: Context, ticket: Ticket, suggest: bool) -> Reply:
        if ticket.status == TICKET_CLOSED:
            return Reply(ctx.t("Yêu cầu #{id} đã đóng.", id=ticket.id), edit=True)
        now = ctx.clock()
        ticket.status, ticket.closed_at, ticket.updated_at = TICKET_CLOSED, now, now
        ticket.suggest_kb = suggest
        audit.record(ctx.session, audit.actor_of(ctx.member), "ticket_closed", now,
                     f"ticket:{ticket.id}", {"suggest_kb": suggest})  # fmt: skip
        member = await ctx.session.get(Member, ticket.member_id) if ticket.member_id else None
        if member is not None and not member.unreachable:
            if member.flow == MEMBER_FLOW and (member.flow_data or {}).get("ticket") == ticket.id:
                member.flow, member.flow_data = None, None
            t = ctx.translations.get(member.locale)
            outbox.enqueue(ctx.session, member, Reply(t.t(
                "Yêu cầu #{id} đã được cán bộ đóng. Cần hỏi thêm, anh/chị gõ /lienhe.", id=ticket.id
            )), now)  # fmt: skip
        return Reply(
            ctx.t("Đã đóng yêu cầu #{id}.", id=ticket.id)
            + (" " + ctx.t("Câu trả lời sẽ có trong “coopbot kb suggestions”.") if suggest else ""),
            edit=True,
        )

    @router.command("vecho", "tickets", description=N_("Yêu cầu đang chờ cán bộ"), role="staff")
    async def open_tickets(ctx: Context, _: str) -> Reply | list[Reply]:
        stmt = (
            select(Ticket)
            .where(Ticket.status != TICKET_CLOSED)
            .order_by(Ticket.created_at, Ticket.id)
            .limit(20)
        )
        tickets = list((await ctx.session.execute(stmt)).scalars())
        if not tickets:
            return Reply(ctx.t("Không có yêu cầu nào đang chờ."))
        replies = [Reply(ctx.tn("{n} yêu cầu chưa đóng, cũ nhất trước:",
                                "{n} yêu cầu chưa đóng, cũ nhất trước:", len(tickets)))]  # fmt: skip
        for ticket in tickets:
            member = await ctx.session.get(Member, ticket.member_id) if ticket.member_id else None
            card = ticket_card(
                ctx.translator, ticket, member, await _coop_name(ctx.session, member)
            )
            status = {
                TICKET_OPEN: ctx.t("chưa ai nhận"),
                TICKET_CLAIMED: ctx.t("đang trả lời"),
                TICKET_ANSWERED: ctx.t("đã trả lời"),
            }[ticket.status]
            replies.append(Reply(f"{card.text}\n({status}, {ctx.translator.datetime(ticket.created_at)})",
                                 card.buttons))  # fmt: skip
        return replies


async def renotify_stale(sessions, translations, settings: Settings, now: datetime) -> int:  # type: ignore[no-untyped-def]
    """Notify staff once more of tickets nobody has taken for a while; returns how many."""
    cutoff = now - timedelta(minutes=settings.ticket_renotify_minutes)
    count = 0
    async with sessions() as session:
        stmt = select(Ticket).where(
            Ticket.status == TICKET_OPEN,
            Ticket.created_at <= cutoff,
            Ticket.renotified_at.is_(None),
        )
        for ticket in (await session.execute(stmt)).scalars():
            member = await session.get(Member, ticket.member_id) if ticket.member_id else None
            coop = await _coop_name(session, member)
            for person in await recipients_of_tickets(session, settings, now):
                t = translations.get(person.locale)
                card = ticket_card(t, ticket, member, coop)
                reminder = t.t("Nhắc lại: chưa có cán bộ nhận yêu cầu này.")
                outbox.enqueue(
                    session, person, Reply(reminder + "\n" + card.text, card.buttons), now
                )
            ticket.renotified_at = now
            count += 1
        await session.commit()
    return count
