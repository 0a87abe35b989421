"""Trade events: dates as staff type them, queries, reminders and the import of event files.

Dates are typed the Vietnamese way, ``20/11/2026`` or ``20/11/2026 08:00`` (ISO
``2026-11-20 08:00`` and Excel date cells are accepted too), in the province's time zone, and
stored in UTC. A date without a time is stored as local midnight and shown as a day.

Event files (CSV UTF-8 or XLSX, Vietnamese or English headers) are read in
``outputs/events.py``; here good rows are added or updated (same title and start), bad rows
are reported with their line number. Messages are in Vietnamese: staff read them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.audit import record
from db.models import Event, EventReminder, Member
from knowledge.normalize import fold

_DATE = re.compile(
    r"^\s*(?:(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})"
    r"|(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2}))"
    r"(?:[ T,]+(?:lúc\s*)?(?P<h>\d{1,2})\s*(?:[:h]\s*(?P<min>\d{2})?)?(?::\d{2})?)?\s*$",
    re.IGNORECASE,
)

# When the reminder of an event goes out: this hour (local), the day before it starts.
REMINDER_HOUR = 8


def parse_when(text: str, tz: ZoneInfo) -> datetime | None:
    """``"20/11/2026"`` → local midnight, ``"20/11/2026 08:00"`` → that time; in UTC.
    ``None`` when ``text`` is not such a date (or not a real day or time)."""
    m = _DATE.match(text or "")
    if not m:
        return None
    if m["d"]:
        y, mo, d = int(m["y"]), int(m["m"]), int(m["d"])
    else:
        y, mo, d = int(m["iy"]), int(m["im"]), int(m["id"])
    hour, minute = int(m["h"] or 0), int(m["min"] or 0)
    if not 1900 <= y <= 2200:  # "1/1/0001" is a slip, not a date anyone means
        return None
    try:
        local = datetime(y, mo, d, hour, minute, tzinfo=tz)
        return local.astimezone(UTC)
    except (ValueError, OverflowError):  # 31/02, or 1/1/0001 (before UTC's year 1)
        return None


def has_time(value: datetime, tz: ZoneInfo) -> bool:
    """False for a value typed as a day only (stored as local midnight)."""
    return value.astimezone(tz).time() != time(0, 0)


def split_tags(text: str) -> list[str] | None:
    tags = [t.strip().lower() for t in re.split(r"[,;]", text or "") if t.strip()]
    return tags or None


def check_dates(
    starts: datetime, ends: datetime | None, register_by: datetime | None
) -> str | None:
    """A reason the dates do not fit together (in Vietnamese), or ``None``."""
    if ends is not None and ends < starts:
        return "ngày kết thúc trước ngày bắt đầu"
    if register_by is not None and ends is not None and register_by > ends:
        return "hạn đăng ký sau ngày kết thúc"
    return None


def end_of(event: Event, tz: ZoneInfo) -> datetime:
    """When the event is over: its end time; the end of its last day when that was typed
    without a time, or of its first day when it has no end."""
    last = event.ends_at or event.starts_at
    if event.ends_at is not None and has_time(last, tz):
        return last
    day = last.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


async def upcoming(
    session: AsyncSession, now: datetime, tz: ZoneInfo, limit: int = 10
) -> list[Event]:
    """Events not over yet, soonest first."""
    stmt = (
        select(Event)
        .where(
            (Event.ends_at >= now - timedelta(days=1))
            | (Event.starts_at >= now - timedelta(days=1))
        )
        .order_by(Event.starts_at, Event.id)
        .limit(limit * 3)
    )
    events = [e for e in (await session.execute(stmt)).scalars() if end_of(e, tz) > now]
    return events[:limit]


async def reminder_of(session: AsyncSession, event_id: int, member_id: int) -> EventReminder | None:
    stmt = select(EventReminder).where(
        EventReminder.event_id == event_id, EventReminder.member_id == member_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def reminder_due_at(event: Event, tz: ZoneInfo) -> datetime:
    """``REMINDER_HOUR`` (local) on the day before the event starts."""
    day = event.starts_at.astimezone(tz).date() - timedelta(days=1)
    return datetime.combine(day, time(REMINDER_HOUR), tzinfo=tz).astimezone(UTC)


async def due_reminders(
    session: AsyncSession, now: datetime, tz: ZoneInfo
) -> list[tuple[EventReminder, Event, Member]]:
    """Reminders not sent whose time has come, for events that have not started."""
    stmt = (
        select(EventReminder, Event, Member)
        .join(Event, Event.id == EventReminder.event_id)
        .join(Member, Member.id == EventReminder.member_id)
        .where(EventReminder.sent_at.is_(None), Event.starts_at > now)
        .where(Event.starts_at <= now + timedelta(days=2))
        .order_by(EventReminder.id)
    )
    rows = (await session.execute(stmt)).all()
    return [(r, e, m) for r, e, m in rows if reminder_due_at(e, tz) <= now]


async def claim_reminder(session: AsyncSession, reminder_id: int, now: datetime) -> bool:
    """Mark a reminder sent; False when another worker already did (it is never sent twice)."""
    result = await session.execute(
        update(EventReminder)
        .where(EventReminder.id == reminder_id, EventReminder.sent_at.is_(None))
        .values(sent_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined, no-any-return]


# --- import ------------------------------------------------------------------------------

COLUMNS: dict[str, tuple[str, ...]] = {
    "title": ("Tên sự kiện", "Tiêu đề", "Tên", "title", "name", "event"),
    "starts_at": ("Bắt đầu", "Ngày bắt đầu", "Thời gian", "start", "starts", "start date", "date"),
    "ends_at": ("Kết thúc", "Ngày kết thúc", "end", "ends", "end date"),
    "register_by": (
        "Hạn đăng ký",
        "registration deadline",
        "deadline",
        "register by",
    ),
    "place": ("Địa điểm", "Nơi tổ chức", "place", "location", "venue"),
    "description": ("Mô tả", "Nội dung", "description", "details"),
    "contact": ("Liên hệ", "contact"),
    "link": ("Đường dẫn", "Liên kết", "link", "url", "website"),
    "tags": ("Thẻ", "Từ khoá", "Từ khóa", "tags", "keywords"),
}
REQUIRED = ("title", "starts_at")
MAX_LENGTHS = {"title": 255, "place": 255, "contact": 255, "link": 512}


def check_event_row(row: dict[str, str], tz: ZoneInfo) -> tuple[dict[str, Any] | None, list[str]]:
    """Validate one row: (values for :class:`Event`, []) or (None, reasons)."""
    errors: list[str] = []
    title = " ".join(row.get("title", "").split())
    if not title:
        errors.append("thiếu tên sự kiện")
    for key, limit in MAX_LENGTHS.items():
        if len(row.get(key, "").strip()) > limit:
            errors.append(f"{COLUMNS[key][0].lower()} dài quá {limit} ký tự")
    dates: dict[str, datetime | None] = {}
    for key in ("starts_at", "ends_at", "register_by"):
        text = row.get(key, "").strip()
        if not text:
            dates[key] = None
            if key == "starts_at":
                errors.append("thiếu ngày bắt đầu")
            continue
        dates[key] = parse_when(text, tz)
        if dates[key] is None:
            errors.append(
                f"{COLUMNS[key][0].lower()} “{text}” không đúng dạng ngày "
                "(ví dụ 20/11/2026 hoặc 20/11/2026 08:00)"
            )
    starts = dates["starts_at"]
    if starts is not None:
        problem = check_dates(starts, dates["ends_at"], dates["register_by"])
        if problem:
            errors.append(problem)
    link = row.get("link", "").strip()
    if link and not re.match(r"^https?://\S+$", link):
        errors.append(f"đường dẫn “{link}” phải bắt đầu bằng http:// hoặc https://")
    if errors:
        return None, errors
    values = {
        "title": title,
        "starts_at": starts,
        "ends_at": dates["ends_at"],
        "register_by": dates["register_by"],
        "place": " ".join(row.get("place", "").split()) or None,
        "description": row.get("description", "").strip() or None,
        "contact": row.get("contact", "").strip() or None,
        "link": link or None,
        "tags": split_tags(row.get("tags", "")),
    }
    return values, []


@dataclass
class EventImportReport:
    source: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    past: list[tuple[int, str]] = field(default_factory=list)  # (line, title): already over

    def render(self) -> str:
        lines = [
            f"Tệp {self.source}: đã nhập {self.created + self.updated + self.unchanged} sự kiện "
            f"({self.created} mới, {self.updated} cập nhật, {self.unchanged} không đổi)."
        ]
        if self.past:
            lines.append(
                f"Lưu ý: {len(self.past)} sự kiện đã qua (vẫn nhập, nhưng thành viên không thấy "
                "trong /sukien; kiểm tra lại năm):"
            )
            lines.extend(f"  Dòng {line}: {title}" for line, title in self.past[:20])
            if len(self.past) > 20:
                lines.append(f"  … và {len(self.past) - 20} dòng khác")
        if self.rejected:
            lines.append(f"Bỏ qua {len(self.rejected)} dòng có lỗi (sửa rồi nhập lại):")
            lines.extend(f"  Dòng {line}: {reason}" for line, reason in self.rejected)
        return "\n".join(lines)


def _same_key(title: str, starts_at: datetime) -> tuple[datetime, str]:
    """Two events are the same when they start together and their titles fold alike."""
    return starts_at.astimezone(UTC), fold(title)


async def _existing(
    session: AsyncSession, starts: list[datetime]
) -> dict[tuple[datetime, str], Event]:
    """The events that start within the span of ``starts``, by :func:`_same_key`: loaded
    once for a whole file, instead of one query per row."""
    if not starts:
        return {}
    stmt = select(Event).where(Event.starts_at >= min(starts), Event.starts_at <= max(starts))
    found: dict[tuple[datetime, str], Event] = {}
    for event in (await session.execute(stmt)).scalars():
        found.setdefault(_same_key(event.title, event.starts_at), event)
    return found


async def import_event_rows(
    session: AsyncSession,
    source: str,
    rows: Iterable[tuple[int, dict[str, str]]],
    now: datetime,
    tz: ZoneInfo,
    actor: str = "cli",
    rejected: Iterable[tuple[int, str]] = (),
    progress: Callable[[int, int], None] | None = None,
) -> EventImportReport:
    """Add or update events from ``rows`` of file ``source`` (same title and start: updated)
    and commit; ``rejected`` are rows refused while the file was read; ``progress(done,
    rejected)`` is called every thousand rows. Existing events are loaded once for the whole
    file. Events already over are imported and listed in the report (a wrong year is a
    common slip)."""
    report = EventImportReport(source, rejected=sorted(rejected))
    checked: list[tuple[int, dict[str, Any]]] = []
    for done, (line, row) in enumerate(rows, start=1):
        if progress is not None and done % 1000 == 0:
            progress(done, len(report.rejected))
        values, errors = check_event_row(row, tz)
        if values is None:
            report.rejected.append((line, "; ".join(errors)))
        else:
            checked.append((line, values))
    known = await _existing(session, [values["starts_at"] for _, values in checked])
    added: list[Event] = []
    for line, values in checked:
        key = _same_key(values["title"], values["starts_at"])
        existing = known.get(key)
        if existing is None:
            event = Event(**values, created_by=actor, created_at=now, updated_at=now)
            known[key] = event
            added.append(event)
            report.created += 1
        else:
            changed = False
            for name, value in values.items():
                if getattr(existing, name) != value:
                    setattr(existing, name, value)
                    changed = True
            if changed:
                existing.updated_at = now
                report.updated += 1
            else:
                report.unchanged += 1
        event = existing or known[key]
        if end_of(event, tz) <= now:
            report.past.append((line, values["title"]))
    session.add_all(added)
    report.rejected.sort()
    record(session, actor, "events_imported", now, source,
           {"created": report.created, "updated": report.updated,
            "rejected": len(report.rejected), "past": len(report.past)})  # fmt: skip
    await session.commit()
    return report
