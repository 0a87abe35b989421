"""Questions about trade events are answered from the events staff entered.

"hội chợ lào cai khi nào", "sắp tới có hội chợ nào", "tuần lễ OCOP năm nay": when search
finds an entry about events, and the question asks when or which, the upcoming events in the
database that fit the question are shown (dates in the member's time zone, as /sukien shows
them). The entry's static background answers only when no such event is known.

An event fits when every specific word of the question (not "hội chợ", "khi nào", "Lào Cai"…)
is in its title, place, tags or description; a year must be the year it starts.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from db.events import reminder_of, upcoming
from db.models import Event
from ground.i18n import Translator
from ground.messages import Button, Reply
from handlers.context import Context
from handlers.events import event_card, remind_button
from knowledge.entries import Entry
from knowledge.normalize import fold, tokenize

MAX_EVENTS = 3
# Entries whose answer is background to the events table: "see events" and the known fairs.
EVENT_ENTRY_PREFIX = "event."
EVENTS_ENTRY = "bot.events"
# Entries about how to take part, not about when: they keep their own answer.
NOT_ABOUT_DATES = frozenset({"event.how_to_join"})

# Words that ask when or which (folded, phrases).
_WHEN = (
    "khi nao", "bao gio", "ngay nao", "thang nao", "luc nao", "hom nao", "sap toi", "lich",
    "nam nay", "thoi gian", "dien ra", "to chuc", "tuan nay", "thang nay", "thang toi",
    "nam sau", "o dau", "nao", "when", "upcoming", "next", "schedule", "this year", "which",
)  # fmt: skip
# Words that say nothing about which event (folded syllables).
_GENERIC = frozenset(
    """hoi cho su kien trien lam tuan le khi nao bao gio ngay thang nam nay sap toi lich dien ra
    to chuc o dau tinh lao cai co nao gi hop tac xa xuc tien thuong mai cho em hoi anh chi a
    the la thi khong duoc minh ben dang se tiep theo luc hom tham gia cac nhung mot va cua
    when is the are fair fairs event events trade upcoming next this year which what any
    there in of for week show exhibition""".split()
)
# Kinds of event, each a few folded names: a question about fairs is not answered with a
# training course.
_KINDS = (
    ("hoi cho", "trien lam", "tuan le", "fair", "exhibition"),
    ("tap huan", "lop hoc", "dao tao", "training", "course"),
    ("hoi nghi", "hoi thao", "conference", "workshop"),
)


def is_event_entry(entry: Entry) -> bool:
    return entry.id == EVENTS_ENTRY or entry.id.startswith(EVENT_ENTRY_PREFIX)


def _event_text(event: Event) -> str:
    parts = [event.title, event.place or "", event.description or "", *(event.tags or [])]
    return " " + " ".join(t.folded for t in tokenize(" ".join(parts))) + " "


def fitting_events(question: str, events: list[Event], tz: ZoneInfo) -> list[Event]:
    """The events that fit the question; all of them when it names nothing specific."""
    folded = [t.folded for t in tokenize(question)]
    text = " " + " ".join(folded) + " "
    specific = [w for w in folded if w not in _GENERIC]
    years = [w for w in specific if w.isdigit() and 2000 <= int(w) <= 2100]
    words = [w for w in specific if w not in years]
    kinds = [names for names in _KINDS if any(f" {k} " in text for k in names)]
    found = []
    for event in events:
        body = _event_text(event)
        if years and str(event.starts_at.astimezone(tz).year) not in years:
            continue
        if kinds and not any(f" {k} " in body for names in kinds for k in names):
            continue
        if all(f" {w} " in body for w in words):
            found.append(event)
    return found


def asks_when(question: str) -> bool:
    """Whether the question asks when or which (a year named counts: "hội chợ 2026")."""
    folded = [t.folded for t in tokenize(question)]
    if any(w.isdigit() and 2000 <= int(w) <= 2100 for w in folded):
        return True
    text = " " + fold(" ".join(folded)) + " "
    return any(f" {w} " in text for w in _WHEN)


def answered_by_events(question: str, entry: Entry) -> bool:
    """Whether the events table, not ``entry``, should answer ``question``."""
    if not is_event_entry(entry) or entry.id in NOT_ABOUT_DATES:
        return False
    return entry.id == EVENTS_ENTRY or asks_when(question)


async def events_for(
    session: AsyncSession, question: str, now: datetime, tz: ZoneInfo
) -> list[Event]:
    """The upcoming events that fit ``question``, soonest first."""
    return fitting_events(question, await upcoming(session, now, tz), tz)[:MAX_EVENTS]


def events_text(t: Translator, events: list[Event]) -> str:
    cards = "\n\n".join(event_card(t, e) for e in events)
    return t.t("Sự kiện sắp tới:") + "\n\n" + cards


async def event_answer(ctx: Context, question: str, entry: Entry) -> Reply | None:
    """Upcoming events that answer ``question``; ``None`` when the entry should answer."""
    if not answered_by_events(question, entry):
        return None
    events = await events_for(ctx.session, question, ctx.clock(), ctx.translator.tz)
    if not events:
        return None
    t = ctx.translator
    text = events_text(t, events)
    buttons: list[tuple[Button, ...]] = []
    if len(events) == 1:
        reminded = await reminder_of(ctx.session, events[0].id, ctx.member.id) is not None
        buttons.append((remind_button(t, events[0], reminded),))
    buttons.append((Button(ctx.t("Xem sự kiện sắp tới"), "ev:list"),))
    return Reply(text, tuple(buttons))
