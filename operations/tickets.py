"""Tickets: a member's question handed to staff, and everything said about it after.

A member opens a ticket and writes more into it; staff are notified (each staff member, or one
staff group chat when ``COOPBOT_STAFF_CHAT`` is set). The first staff member to claim it answers
(an atomic update, so two people never answer the same question); staff close it, marking the
answer for the knowledge base if it is worth keeping. Staff rights are read when each step runs:
staff removed while answering can no longer answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import audit, outbox
from db import tickets as q
from db.members import staff_members
from db.models import (
    ROLE_ADMIN,
    ROLE_STAFF,
    TICKET_ANSWERED,
    TICKET_CLOSED,
    TICKET_OPEN,
    Member,
    Ticket,
    TicketMessage,
)
from db.queries import get_or_create_member
from ground.i18n import N_, Translations, Translator
from ground.messages import Button, Reply
from ground.settings import Settings
from operations.members import member_label
from operations.rights import Actor, NotPossible, Refused

STAFF_ROLES = (ROLE_STAFF, ROLE_ADMIN)
MEMBER_FLOW = "ticket_member"  # the member is writing into their ticket (flow data: its id)
NOT_FOUND = N_("Không tìm thấy yêu cầu này.")
THREAD_SHOWN = 10  # the latest messages shown on a staff card
MESSAGE_SHOWN = 500  # characters of each


@dataclass(frozen=True)
class Sent:
    ticket: Ticket
    staff_told: int  # how many staff (or staff chats) were notified


async def ticket_recipients(
    session: AsyncSession, settings: Settings, now: datetime
) -> list[Member]:
    """Who is notified of tickets: the staff group chat when set, else every staff member."""
    if settings.staff_chat:
        channel, chat_id = settings.staff_chat
        chat, _ = await get_or_create_member(
            session, channel, chat_id, locale=settings.locale, now=now, display_name="Nhóm cán bộ"
        )
        return [chat]
    return await staff_members(session, settings.admins)


def ticket_card(
    t: Translator,
    ticket: Ticket,
    member: Member | None,
    coop: str | None,
    thread: Sequence[TicketMessage] = (),
) -> Reply:
    """The card staff see: who asked, the question, what was said after it, and buttons."""
    who = member_label(member) if member else t.t("(đã xoá dữ liệu)")
    where = ", ".join(x for x in (member.channel if member else None, coop) if x) or "–"
    text = t.t(
        "Yêu cầu #{id} từ {who} ({where}):\n{question}",
        id=ticket.id,
        who=who,
        where=where,
        question=ticket.question,
    )
    later = list(thread)[1:][-THREAD_SHOWN:]
    for m in later:
        said = m.text if len(m.text) <= MESSAGE_SHOWN else m.text[:MESSAGE_SHOWN] + "…"
        head = t.t("Cán bộ") if m.sender == "staff" else t.t("Thành viên")
        text += f"\n• {head}: {said}"
    buttons = (
        (
            Button(t.t("Trả lời"), f"tk:ans:{ticket.id}"),
            Button(t.t("Đóng"), f"tk:close:{ticket.id}"),
        ),
    )
    return Reply(text, buttons)


def _notify(
    session: AsyncSession,
    people: list[Member],
    make: Callable[[Translator], Reply],
    translations: Translations,
    now: datetime,
    skip: Member | None = None,
) -> int:
    told = 0
    for person in people:
        if skip is not None and person.id == skip.id:
            continue
        outbox.enqueue(session, person, make(translations.get(person.locale)), now)
        told += 1
    return told


async def open_ticket(
    session: AsyncSession,
    actor: Actor,
    question: str,
    *,
    translations: Translations,
    settings: Settings,
    now: datetime,
) -> Sent:
    """The actor (a member) hands ``question`` to staff."""
    member = actor.member
    if member is None:
        raise Refused(N_("Chỉ thành viên nhắn qua trợ lý mới gửi được yêu cầu."))
    ticket = Ticket(member_id=member.id, status=TICKET_OPEN, question=question, suggest_kb=False,
                    undeliverable=False, created_at=now, updated_at=now)  # fmt: skip
    session.add(ticket)
    await session.flush()
    q.add_message(session, ticket, "member", member, question, now)
    coop = await q.coop_name(session, member)
    told = _notify(session, await ticket_recipients(session, settings, now),
                         lambda t: ticket_card(t, ticket, member, coop), translations, now,
                         skip=member)  # fmt: skip
    return Sent(ticket, told)


async def add_member_message(
    session: AsyncSession,
    actor: Actor,
    ticket_id: int,
    text: str,
    *,
    translations: Translations,
    settings: Settings,
    now: datetime,
) -> Sent:
    """The member who opened the ticket writes more; the claimer (or all staff) is told."""
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None or actor.member is None or ticket.member_id != actor.member.id:
        raise NotPossible(NOT_FOUND)
    if ticket.status == TICKET_CLOSED:
        raise NotPossible(N_("Yêu cầu #{id} đã đóng. Gõ /lienhe để gửi câu hỏi mới."), id=ticket.id)
    q.add_message(session, ticket, "member", actor.member, text, now)
    claimer = await session.get(Member, ticket.claimed_by) if ticket.claimed_by else None
    if claimer is not None and claimer.role not in STAFF_ROLES:
        claimer = None  # removed from staff: everyone who is staff now hears it
    people = [claimer] if claimer else await ticket_recipients(session, settings, now)

    def note(t: Translator) -> Reply:
        return Reply(
            t.t("Yêu cầu #{id}, thành viên nhắn thêm:\n{text}", id=ticket.id, text=text),
            ((Button(t.t("Trả lời"), f"tk:ans:{ticket.id}"),),),
        )

    told = _notify(session, people, note, translations, now, skip=actor.member)
    return Sent(ticket, told)


async def _staff_ticket(session: AsyncSession, actor: Actor, ticket_id: int) -> Ticket:
    actor.require_staff()
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotPossible(NOT_FOUND)
    return ticket


async def claim_ticket(
    session: AsyncSession,
    actor: Actor,
    ticket_id: int,
    *,
    translations: Translations,
    settings: Settings,
    now: datetime,
) -> Ticket:
    """Staff take a ticket to answer it; the other staff are told who did."""
    ticket = await _staff_ticket(session, actor, ticket_id)
    if ticket.status == TICKET_CLOSED:
        raise NotPossible(N_("Yêu cầu #{id} đã đóng."), id=ticket.id)
    me = actor.member.id if actor.member else None
    if me is None:
        raise Refused(N_("Trả lời yêu cầu trong trò chuyện với trợ lý."))
    won = ticket.claimed_by is None and await q.claim(session, ticket, me, now)
    if ticket.claimed_by != me:
        other = await session.get(Member, ticket.claimed_by) if ticket.claimed_by else None
        if other is not None and other.role in STAFF_ROLES:
            raise NotPossible(N_("{name} đang trả lời yêu cầu #{id}."), name=member_label(other),
                              id=ticket.id)  # fmt: skip
        ticket.claimed_by, won = me, True  # the claimer is no longer staff: the ticket is free
    if won:
        name = member_label(actor.member)  # type: ignore[arg-type]
        _notify(session, await ticket_recipients(session, settings, now),
                      lambda t: Reply(t.t("{name} đã nhận trả lời yêu cầu #{id}.", name=name,
                                          id=ticket.id)),
                      translations, now, skip=actor.member)  # fmt: skip
    return ticket


@dataclass(frozen=True)
class Answered:
    ticket: Ticket
    delivered: bool  # False: the member erased their data or blocked the assistant


async def answer_ticket(
    session: AsyncSession,
    actor: Actor,
    ticket_id: int,
    text: str,
    *,
    translations: Translations,
    now: datetime,
) -> Answered:
    """Staff answer a ticket they claimed; the answer goes to the member's channel."""
    ticket = await _staff_ticket(session, actor, ticket_id)
    if ticket.status == TICKET_CLOSED:
        raise NotPossible(N_("Yêu cầu này đã đóng."))
    if actor.member is not None and ticket.claimed_by not in (None, actor.member.id):
        raise NotPossible(N_("Yêu cầu #{id} đang do cán bộ khác trả lời."), id=ticket.id)
    if not text.strip():
        raise NotPossible(N_("Anh/chị gõ câu trả lời bằng chữ (gõ /huy để thôi)."))
    q.add_message(session, ticket, "staff", actor.member, text, now)
    ticket.status = TICKET_ANSWERED
    member = await session.get(Member, ticket.member_id) if ticket.member_id else None
    if member is None or member.unreachable:
        ticket.undeliverable = True
        return Answered(ticket, False)
    t = translations.get(member.locale)
    outbox.enqueue(session, member, Reply(
        t.t("Cán bộ Liên minh HTX trả lời (yêu cầu #{id}):\n{text}", id=ticket.id, text=text),
        ((Button(t.t("Trả lời cán bộ"), f"tk:rep:{ticket.id}"),),),
    ), now)  # fmt: skip
    audit.record(session, actor.name, "ticket_answered", now, f"ticket:{ticket.id}")
    return Answered(ticket, True)


async def close_ticket(
    session: AsyncSession,
    actor: Actor,
    ticket_id: int,
    suggest: bool,
    *,
    translations: Translations,
    now: datetime,
) -> Ticket:
    """Staff close a ticket (``suggest``: its answer is worth adding to the knowledge base).
    The member is told, and stops writing into it if they were."""
    ticket = await _staff_ticket(session, actor, ticket_id)
    if ticket.status == TICKET_CLOSED:
        raise NotPossible(N_("Yêu cầu #{id} đã đóng."), id=ticket.id)
    ticket.status, ticket.closed_at, ticket.updated_at = TICKET_CLOSED, now, now
    ticket.suggest_kb = suggest
    audit.record(session, actor.name, "ticket_closed", now, f"ticket:{ticket.id}",
                 {"suggest_kb": suggest})  # fmt: skip
    member = await session.get(Member, ticket.member_id) if ticket.member_id else None
    if member is not None and not member.unreachable:
        if member.flow == MEMBER_FLOW and (member.flow_data or {}).get("ticket") == ticket.id:
            member.flow, member.flow_data = None, None
        t = translations.get(member.locale)
        outbox.enqueue(session, member, Reply(t.t(
            "Yêu cầu #{id} đã được cán bộ đóng. Cần hỏi thêm, anh/chị gõ /lienhe.", id=ticket.id
        )), now)  # fmt: skip
    return ticket


@dataclass(frozen=True)
class OpenTicket:
    ticket: Ticket
    member: Member | None
    coop: str | None
    thread: list[TicketMessage]


async def open_tickets(
    session: AsyncSession, actor: Actor, offset: int = 0, limit: int = 20
) -> list[OpenTicket]:
    """Tickets not closed, oldest first, with every message said in them (staff only)."""
    actor.require_staff()
    out = []
    for ticket in await q.unclosed(session, limit, offset):
        member = await session.get(Member, ticket.member_id) if ticket.member_id else None
        thread = await q.messages_of(session, ticket.id)
        out.append(OpenTicket(ticket, member, await q.coop_name(session, member), thread))
    return out


async def renotify_stale(
    sessions: async_sessionmaker[AsyncSession],
    translations: Translations,
    settings: Settings,
    now: datetime,
) -> int:
    """Notify staff once more of tickets nobody has taken for a while; returns how many."""
    cutoff = now - timedelta(minutes=settings.ticket_renotify_minutes)
    count = 0
    async with sessions() as session:
        for ticket in await q.stale_unclaimed(session, cutoff):
            member = await session.get(Member, ticket.member_id) if ticket.member_id else None
            coop = await q.coop_name(session, member)
            thread = await q.messages_of(session, ticket.id)
            for person in await ticket_recipients(session, settings, now):
                t = translations.get(person.locale)
                card = ticket_card(t, ticket, member, coop, thread)
                reminder = t.t("Nhắc lại: chưa có cán bộ nhận yêu cầu này.")
                outbox.enqueue(
                    session, person, Reply(reminder + "\n" + card.text, card.buttons), now
                )
            ticket.renotified_at = now
            count += 1
        await session.commit()
    return count
