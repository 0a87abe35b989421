"""SQLAlchemy models. Times are stored in UTC; money in whole VND."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


ROLE_MEMBER = "member"
ROLE_STAFF = "staff"
ROLE_ADMIN = "admin"


class Member(Base):
    """One person on one channel."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("channel", "user_id", name="uq_members_channel_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(128))
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    role: Mapped[str] = mapped_column(String(16), default=ROLE_MEMBER)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    # The conversation step in progress (a form, a choice) and its data: survives restarts.
    flow: Mapped[str | None] = mapped_column(String(64))
    flow_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Actions of the last buttons shown, for channels that render buttons as numbers.
    pending_actions: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The person's link to their cooperative (one at most), asked for with /dangky.
    phone: Mapped[str | None] = mapped_column(String(16))
    cooperative_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("cooperatives.id", ondelete="SET NULL"), index=True
    )
    coop_role: Mapped[str | None] = mapped_column(String(16))  # manager, accountant, member
    link_status: Mapped[str | None] = mapped_column(String(16))  # pending, approved, refused


class Question(Base):
    """A question a member asked, how it was answered, and the member's vote."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    folded: Mapped[str] = mapped_column(Text)
    entry_id: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float, default=0.0)
    matched: Mapped[bool] = mapped_column(Boolean, default=False)
    vote: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


COOP_KINDS = ("htx", "tht", "lhhtx")
SECTORS = (
    "nong_lam_thuy_san",
    "cong_nghiep_ttcn",
    "thuong_mai_dich_vu",
    "xay_dung",
    "van_tai",
    "tin_dung",
    "khac",
)
COOP_STATUSES = ("active", "inactive", "dissolved")
COOP_ROLES = ("manager", "accountant", "member")
LINK_PENDING, LINK_APPROVED, LINK_REFUSED = "pending", "approved", "refused"


class Cooperative(Base):
    """A cooperative (HTX), cooperative group (THT) or union of cooperatives."""

    __tablename__ = "cooperatives"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # mã số đăng ký
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(8))  # one of COOP_KINDS
    sector: Mapped[str] = mapped_column(String(32))  # one of SECTORS
    commune: Mapped[str] = mapped_column(String(64))  # official name, e.g. "Xã Khao Mang"
    commune_code: Mapped[int] = mapped_column(Integer)
    address: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(16))  # digits, 0xxxxxxxxx
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AuditEntry(Base):
    """A staff or admin action: who, what, when, on what."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(String(96))  # channel:user_id, or "cli"
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class OutboxMessage(Base):
    """A message to a member other than the one being answered (staff notifications,
    outcomes, later broadcasts); channels deliver the pending ones."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16), index=True)
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[list[list[str]]] | None] = mapped_column(JSON)  # [[[label, action]]]
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Rows of a broadcast (db/broadcasts.py) start as "queued", not "pending", so the simple
    # delivery of notifications never picks them up; the engine claims them in batches.
    broadcast_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("broadcasts.id", ondelete="CASCADE"), index=True
    )
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


TICKET_OPEN, TICKET_CLAIMED, TICKET_ANSWERED, TICKET_CLOSED = (
    "open",
    "claimed",
    "answered",
    "closed",
)


class Ticket(Base):
    """A member's question handed to staff (/lienhe)."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=TICKET_OPEN, index=True)
    question: Mapped[str] = mapped_column(Text)
    claimed_by: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("members.id", ondelete="SET NULL")
    )
    suggest_kb: Mapped[bool] = mapped_column(Boolean, default=False)
    undeliverable: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    renotified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TicketMessage(Base):
    """Every message of a ticket, with who sent it and when."""

    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    sender: Mapped[str] = mapped_column(String(8))  # member or staff
    sender_member_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("members.id", ondelete="SET NULL")
    )
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- monthly status reports --------------------------------------------------------------

PERIOD_OPEN, PERIOD_CLOSED = "open", "closed"


class ReportPeriod(Base):
    """A month being reported, e.g. "2026-11"; opened on the 1st of the next month."""

    __tablename__ = "report_periods"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(7), unique=True)  # YYYY-MM
    status: Mapped[str] = mapped_column(String(16), default=PERIOD_OPEN)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_by: Mapped[str] = mapped_column(String(96))  # "schedule" or channel:user_id
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReportPrompt(Base):
    """One prompt or reminder sent to one representative: the schedule never sends the same
    one twice, and after downtime it knows what is still due."""

    __tablename__ = "report_prompts"
    __table_args__ = (
        UniqueConstraint("period", "member_id", "kind", name="uq_report_prompts_once"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    cooperative_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("cooperatives.id", ondelete="CASCADE")
    )
    member_id: Mapped[int] = mapped_column(Integer, ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # open, remind1, remind2, done
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Report(Base):
    """A cooperative's submitted report for a period (the latest version)."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("period", "cooperative_id", name="uq_reports_period_coop"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    cooperative_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("cooperatives.id", ondelete="CASCADE")
    )
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    submitted_by: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("members.id", ondelete="SET NULL")
    )
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReportVersion(Base):
    """Every submitted version of a report (corrections keep the earlier ones)."""

    __tablename__ = "report_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_by: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("members.id", ondelete="SET NULL")
    )
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- trade events and broadcasts ---------------------------------------------------------


class Event(Base):
    """A trade event (fair, training, conference) kept by staff and shown with /sukien.
    A start or end typed without a time is stored as local midnight and shown as a day."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    place: Mapped[str | None] = mapped_column(String(255))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    register_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contact: Mapped[str | None] = mapped_column(String(255))
    link: Mapped[str | None] = mapped_column(String(512))
    tags: Mapped[list[str] | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(96))  # channel:user_id, or "cli"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EventReminder(Base):
    """A member asked to be reminded of an event; ``sent_at`` is set once, when it goes out."""

    __tablename__ = "event_reminders"
    __table_args__ = (UniqueConstraint("event_id", "member_id", name="uq_event_reminders_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(Integer, ForeignKey("members.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


BROADCAST_SCHEDULED, BROADCAST_SENDING, BROADCAST_DONE, BROADCAST_CANCELLED = (
    "scheduled",
    "sending",
    "done",
    "cancelled",
)


class Broadcast(Base):
    """A notice from staff to an audience; its recipients are outbox rows with its id."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    event_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("events.id", ondelete="SET NULL")
    )
    audience: Mapped[str] = mapped_column(String(16))  # all, sector, commune, kind, noreport
    audience_value: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_by: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("members.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    total: Mapped[int] = mapped_column(Integer, default=0)
    # The staff member's progress message (edited as sending goes) and when it was last shown.
    progress_message_id: Mapped[str | None] = mapped_column(String(64))
    progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SeenUpdate(Base):
    """An update already handled, for channels that may deliver one twice (Zalo's getUpdates
    has no offset). Written in the transaction that handles it; pruned after a few days."""

    __tablename__ = "seen_updates"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    update_id: Mapped[str] = mapped_column(String(96), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


# --- the staff web console ---------------------------------------------------------------


class WebLink(Base):
    """A one-time sign-in link for the web console (``/dangnhap``). Only the SHA-256 of the
    token is stored; the link works once, before ``expires_at``."""

    __tablename__ = "web_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebSession(Base):
    """A signed-in browser. The cookie holds the token; only its SHA-256 is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --- the knowledge base kept by staff (db/knowledge.py) ------------------------------------


class KbEntry(Base):
    """One knowledge-base entry as published (``data``, the entry's export), a staff draft,
    and the last shipped YAML version seen (``shipped``, ``shipped_hash``). ``edited``: a
    person published a version, so shipped changes are flagged instead of applied."""

    __tablename__ = "kb_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(120), unique=True)
    file: Mapped[str] = mapped_column(String(120))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=0)
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    draft_by: Mapped[str | None] = mapped_column(String(80))
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    shipped: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    shipped_hash: Mapped[str | None] = mapped_column(String(64))
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KbVersion(Base):
    """Every published version of an entry: who, when, from where, which fields changed."""

    __tablename__ = "kb_versions"
    __table_args__ = (UniqueConstraint("entry_id", "number", name="uq_kb_versions_entry_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(120), index=True)
    number: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(16))  # shipped, staff, import, rollback
    actor: Mapped[str] = mapped_column(String(80))
    changed: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KbState(Base):
    """One row: a counter raised by every publish; running processes poll it."""

    __tablename__ = "kb_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counter: Mapped[int] = mapped_column(Integer, default=0)


class KbSavedQuestion(Base):
    """A question staff saved with the entry that must answer it (``None``: must not be
    answered); checked before every publish."""

    __tablename__ = "kb_saved_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    entry_id: Mapped[str | None] = mapped_column(String(120))
    actor: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
