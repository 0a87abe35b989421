"""Draft knowledge-base entries from closed tickets whose answer staff marked as worth adding."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db.tickets import marked_for_knowledge
from knowledge.suggestions import draft_entry
from operations.rights import Actor


async def draft_entries(session: AsyncSession, actor: Actor) -> list[dict[str, object]]:
    """One unreviewed draft entry per marked ticket that has a staff answer (staff only)."""
    actor.require_staff()
    drafts = []
    for ticket, answers in await marked_for_knowledge(session):
        draft = draft_entry(ticket.id, ticket.question, answers)
        if draft is not None:
            drafts.append(draft)
    return drafts
