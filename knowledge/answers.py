"""The answer to one question as a plain record (``coopbot ask --json``, eval, benchmarks).

It says what the chat would do: answer (``matched``), ask which of a few topics the member
meant (``ambiguous``, with ``choices``), or say it does not know (with ``alternatives``, the
closest topics).
"""

from __future__ import annotations

from typing import Any

from knowledge.base import KnowledgeStore

MAX_CHOICES = 3


def answer_record(store: KnowledgeStore, question: str, locale: str = "vi") -> dict[str, Any]:
    result = store.search(question, locale)
    best = result.best
    matched = bool(result.matched and best)
    choices = (
        [
            {"entry_id": h.entry.id, "title": h.entry.title_in(locale), "score": h.score}
            for h in result.hits[:MAX_CHOICES]
            if h.entry.scope == "in"
        ]
        if matched and result.ambiguous
        else []
    )
    return {
        "question": question,
        "locale": locale,
        "matched": matched,
        "entry_id": best.entry.id if matched and best else None,
        "score": best.score if best else 0.0,
        "title": best.entry.title_in(locale) if matched and best else None,
        "answer": best.entry.answer_in(locale) if matched and best else None,
        "sources": list(best.entry.sources) if matched and best else [],
        "ambiguous": bool(matched and result.ambiguous),
        "choices": choices,
        "alternatives": [
            {
                "entry_id": h.entry.id,
                "title": h.entry.title_in(locale),
                "score": h.score,
                "scope": h.entry.scope,
            }
            for h in result.hits[(1 if matched else 0) :]
        ],
    }
