"""Draft knowledge-base entries from answered tickets that staff marked as worth adding.

``coopbot kb suggestions`` writes them to ``knowledge/drafts/`` (never loaded: only
``knowledge/data/`` is), clearly marked unreviewed, for staff to check, complete with sources
and move into ``knowledge/data/``.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import TICKET_CLOSED, Ticket, TicketMessage

DRAFTS_DIR = Path(__file__).parent / "drafts"
HEADER = (
    "# CHƯA DUYỆT: bản nháp từ câu trả lời của cán bộ, KHÔNG được nạp vào trợ lý.\n"
    "# Kiểm tra nội dung, bổ sung nguồn (văn bản, điều khoản), viết thêm các cách hỏi,\n"
    "# đặt id chính thức rồi chuyển sang knowledge/data/ và chạy `coopbot kb check`.\n"
)


async def draft_entries(session: AsyncSession) -> list[dict[str, object]]:
    stmt = (
        select(Ticket)
        .where(Ticket.status == TICKET_CLOSED, Ticket.suggest_kb.is_(True))
        .order_by(Ticket.id)
    )
    drafts = []
    for ticket in (await session.execute(stmt)).scalars():
        answers = (
            await session.execute(
                select(TicketMessage.text)
                .where(TicketMessage.ticket_id == ticket.id, TicketMessage.sender == "staff")
                .order_by(TicketMessage.id)
            )
        ).scalars()
        answer = "\n\n".join(answers)
        if not answer:
            continue
        drafts.append(
            {
                "id": f"draft.ticket_{ticket.id}",
                "title": ticket.question[:60],
                "questions": [ticket.question],
                "answer": answer,
                "tags": ["chưa duyệt"],
                "sources": [f"Trả lời của cán bộ, yêu cầu #{ticket.id} (chưa duyệt)"],
                "reviewed": None,
                "certainty": "uncertain",
            }
        )
    return drafts


def write_drafts(drafts: list[dict[str, object]], folder: Path = DRAFTS_DIR) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "suggestions.yaml"
    body = yaml.safe_dump({"entries": drafts}, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(HEADER + body, encoding="utf-8")
    return path
