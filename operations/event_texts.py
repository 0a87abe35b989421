"""How an event reads to members, in their language and time zone: the card shown by
/sukien, in a notice and in a reminder, and its "remind me" button."""

from __future__ import annotations

from datetime import datetime

from db.events import has_time
from db.models import Event
from ground.i18n import Translator
from ground.messages import Button


def when_text(t: Translator, value: datetime) -> str:
    """A day (typed without a time) or a date and time, with Babel, in local time."""
    if not has_time(value, t.tz):
        return t.day(value)
    return f"{t.day(value)}, {t.datetime(value, 'HH:mm')}"


def event_card(t: Translator, event: Event) -> str:
    """An event as members read it, in ``t``'s locale and time zone."""
    when = when_text(t, event.starts_at)
    if event.ends_at is not None and event.ends_at != event.starts_at:
        when = t.t("{start} đến {end}", start=when, end=when_text(t, event.ends_at))
    lines = [f"📅 {event.title}", t.t("Thời gian: {when}", when=when)]
    if event.place:
        lines.append(t.t("Địa điểm: {place}", place=event.place))
    if event.register_by is not None:
        lines.append(t.t("Hạn đăng ký: {date}", date=when_text(t, event.register_by)))
    if event.contact:
        lines.append(t.t("Liên hệ: {contact}", contact=event.contact))
    if event.link:
        lines.append(event.link)
    if event.description:
        lines.append(event.description)
    return "\n".join(lines)


def remind_button(t: Translator, event: Event, reminded: bool) -> Button:
    if reminded:
        return Button(t.t("Bỏ nhắc"), f"ev:unrem:{event.id}")
    return Button(t.t("Nhắc tôi trước 1 ngày"), f"ev:rem:{event.id}")


def reminder_text(t: Translator, event: Event) -> str:
    return t.t("Nhắc lịch: sự kiện anh/chị quan tâm sắp diễn ra.") + "\n\n" + event_card(t, event)
