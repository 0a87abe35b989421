"""Queries about tickets (a member's question handed to staff) and their messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    TICKET_CLAIMED,
    TICKET_CLOSED,
    TICKET_OPEN,
    Cooperative,
    Member,
    Question,
    Ticket,
    TicketMessage,
)


async def open_ticket_of(session: AsyncSession, member: Member) -> Ticket | None:
    """The member's latest ticket that is not closed."""
    stmt = (
        select(Ticket)
        .where(Ticket.member_id == member.id, Ticket.status != TICKET_CLOSED)
        .order_by(Ticket.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def last_unanswered_question(
    session: AsyncSession, member: Member, since: datetime
) -> Question | None:
    """The member's latest question the knowledge base could not answer, asked after ``since``."""
    stmt = (
        select(Question)
        .where(Question.member_id == member.id, Question.created_at >= since)
        .where(Question.matched.is_(False))
        .order_by(Question.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def add_message(
    session: AsyncSession,
    ticket: Ticket,
    sender: str,
    member: Member | None,
    text: str,
    now: datetime,
) -> TicketMessage:
    message = TicketMessage(
        ticket_id=ticket.id,
        sender=sender,
        sender_member_id=member.id if member else None,
        text=text,
        created_at=now,
    )
    session.add(message)
    ticket.updated_at = now
    return message


async def messages_of(
    session: AsyncSession, ticket_id: int, sender: str | None = None
) -> list[TicketMessage]:
    stmt = select(TicketMessage).where(TicketMessage.ticket_id == ticket_id)
    if sender is not None:
        stmt = stmt.where(TicketMessage.sender == sender)
    return list((await session.execute(stmt.order_by(TicketMessage.id))).scalars())


async def claim(session: AsyncSession, ticket: Ticket, member_id: int, now: datetime) -> bool:
    """Claim an unclaimed ticket for ``member_id``; of two at once, exactly one wins."""
    won = await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.claimed_by.is_(None))
        .values(claimed_by=member_id, status=TICKET_CLAIMED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(ticket)
    return won.rowcount == 1


async def unclosed(session: AsyncSession, limit: int = 20, offset: int = 0) -> list[Ticket]:
    stmt = (
        select(Ticket)
        .where(Ticket.status != TICKET_CLOSED)
        .order_by(Ticket.created_at, Ticket.id)
        .offset(offset)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def stale_unclaimed(session: AsyncSession, cutoff: datetime) -> list[Ticket]:
    """Open tickets created before ``cutoff`` that were never renotified."""
    stmt = select(Ticket).where(
        Ticket.status == TICKET_OPEN,
        Ticket.created_at <= cutoff,
        Ticket.renotified_at.is_(None),
    )
    return list((await session.execute(stmt)).scalars())


async def marked_for_knowledge(session: AsyncSession) -> list[tuple[Ticket, list[str]]]:
    """Closed tickets staff marked for the knowledge base, with their staff answers."""
    stmt = (
        select(Ticket)
        .where(Ticket.status == TICKET_CLOSED, Ticket.suggest_kb.is_(True))
        .order_by(Ticket.id)
    )
    out = []
    for ticket in list((await session.execute(stmt)).scalars()):
        answers = [m.text for m in await messages_of(session, ticket.id, "staff")]
        out.append((ticket, answers))
    return out


async def coop_name(session: AsyncSession, member: Member | None) -> str | None:
    if member is None or not member.cooperative_id:
        return None
    coop = await session.get(Cooperative, member.cooperative_id)
    return coop.name if coop else None
