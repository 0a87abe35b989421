"""The answer to one question as a plain record (``coopbot ask --json``, eval, benchmarks)."""

from __future__ import annotations

from typing import Any

from knowledge.base import KnowledgeStore


def answer_record(store: KnowledgeStore, question: str) -> dict[str, Any]:
    result = store.index.search(question)
    best = result.best
    matched = bool(result.matched and best)
    return {
        "question": question,
        "matched": matched,
        "entry_id": best.entry.id if matched and best else None,
        "score": best.score if best else 0.0,
        "answer": best.entry.answer if matched and best else None,
        "ambiguous": result.ambiguous,
        "alternatives": [
            {"entry_id": h.entry.id, "title": h.entry.title, "score": h.score}
            for h in result.hits[(1 if matched else 0) :]
        ],
    }
