"""Draft knowledge-base entries from answered tickets that staff marked as worth adding.

``coopbot kb suggestions`` writes them to ``knowledge/drafts/`` (never loaded: only
``knowledge/data/`` is), clearly marked unreviewed, for staff to check, complete with sources
and move into ``knowledge/data/``.
"""

from __future__ import annotations

from pathlib import Path

import yaml

DRAFTS_DIR = Path(__file__).parent / "drafts"
HEADER = (
    "# CHƯA DUYỆT: bản nháp từ câu trả lời của cán bộ, KHÔNG được nạp vào trợ lý.\n"
    "# Kiểm tra nội dung, bổ sung nguồn (văn bản, điều khoản), viết thêm các cách hỏi,\n"
    "# đặt id chính thức rồi chuyển sang knowledge/data/ và chạy `coopbot kb check`.\n"
)


def draft_entry(ticket_id: int, question: str, answers: list[str]) -> dict[str, object] | None:
    """An unreviewed entry from a ticket's question and its staff answers; ``None`` without an
    answer. (Reading the tickets is ``operations.suggestions.draft_entries``.)"""
    answer = "\n\n".join(answers)
    if not answer:
        return None
    return {
        "id": f"draft.ticket_{ticket_id}",
        "title": question[:60],
        "questions": [question],
        "answer": answer,
        "tags": ["chưa duyệt"],
        "sources": [f"Trả lời của cán bộ, yêu cầu #{ticket_id} (chưa duyệt)"],
        "reviewed": None,
        "certainty": "uncertain",
    }


def write_drafts(drafts: list[dict[str, object]], folder: Path = DRAFTS_DIR) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "suggestions.yaml"
    body = yaml.safe_dump({"entries": drafts}, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(HEADER + body, encoding="utf-8")
    return path
