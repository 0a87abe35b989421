"""Questions the assistant could not answer, or answered with a 👎: the /chuahoi queue,
shared by chat and the staff console. Staff only."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from rapidfuzz import fuzz
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Question
from knowledge.normalize import has_diacritics
from operations.rights import Actor, require_staff

DAYS = 30
MOST = 2000  # the newest questions looked at


def group_similar(
    keys: list[str], texts: list[str], entries: list[str | None], cutoff: float = 85
) -> list[tuple[str, int, str | None]]:
    """Group near-identical questions, most frequent first, each with the entry that came
    closest most often. A group is shown by a wording with diacritics when one was typed."""
    groups: list[tuple[str, str]] = []  # (key, shown text)
    counts: Counter[int] = Counter()
    closest: dict[int, Counter[str]] = {}
    seen: dict[str, int] = {}  # a key met before goes to the group it went to (same scan)
    for key, text, entry in zip(keys, texts, entries, strict=True):
        i = seen.get(key, -1)
        if i < 0:
            i = next((n for n, (gkey, _) in enumerate(groups)
                      if fuzz.token_set_ratio(key, gkey) >= cutoff), -1)  # fmt: skip
            seen[key] = i if i >= 0 else len(groups)
        if i < 0:
            groups.append((key, text))
            i = len(groups) - 1
        else:
            gkey, shown = groups[i]
            if not has_diacritics(shown) and has_diacritics(text):
                groups[i] = (gkey, text)
        counts[i] += 1
        if entry:
            closest.setdefault(i, Counter())[entry] += 1
    return [
        (groups[i][1], c, closest[i].most_common(1)[0][0] if i in closest else None)
        for i, c in counts.most_common()
    ]


@dataclass(frozen=True)
class Unanswered:
    text: str  # how the group reads
    count: int
    entry_id: str | None  # the knowledge entry that came closest most often


async def unanswered(
    session: AsyncSession, actor: Actor, now: datetime, days: int = DAYS
) -> list[Unanswered]:
    """Questions of the last ``days`` with no answer or a 👎, similar ones grouped, most
    asked first."""
    await require_staff(session, actor)
    stmt = (
        select(Question.folded, Question.text, Question.entry_id)
        .where(Question.created_at >= now - timedelta(days=days))
        .where(or_(Question.matched.is_(False), Question.vote == -1))
        .order_by(Question.created_at.desc())
        .limit(MOST)
    )
    found = (await session.execute(stmt)).all()
    groups = group_similar([q.folded for q in found], [q.text for q in found],
                     [q.entry_id for q in found])  # fmt: skip
    return [Unanswered(text, n, entry) for text, n, entry in groups]
