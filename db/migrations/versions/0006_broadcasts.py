"""trade events, event reminders, broadcasts; outbox rows of a broadcast and their claims

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("place", sa.String(255), nullable=True),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=True),
        sa.Column("register_by", UTCDateTime(), nullable=True),
        sa.Column("contact", sa.String(255), nullable=True),
        sa.Column("link", sa.String(512), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=True),
        sa.Column("created_by", sa.String(96), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_events_starts_at", "events", ["starts_at"])
    op.create_table(
        "event_reminders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "event_id",
            sa.Integer(),
            sa.ForeignKey("events.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("members.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("event_id", "member_id", name="uq_event_reminders_once"),
    )
    op.create_index("ix_event_reminders_event_id", "event_reminders", ["event_id"])
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "event_id",
            sa.Integer(),
            sa.ForeignKey("events.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("audience", sa.String(16), nullable=False),
        sa.Column("audience_value", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column(
            "created_by",
            sa.Integer(),
            sa.ForeignKey("members.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("scheduled_at", UTCDateTime(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("progress_message_id", sa.String(64), nullable=True),
        sa.Column("progress_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_broadcasts_status", "broadcasts", ["status"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("broadcast_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("claim_token", sa.String(32), nullable=True))
        batch.add_column(sa.Column("claimed_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("next_attempt_at", UTCDateTime(), nullable=True))
        batch.create_foreign_key(
            "fk_outbox_broadcast_id", "broadcasts", ["broadcast_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_index("ix_outbox_broadcast_id", ["broadcast_id"])


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_broadcast_id")
        batch.drop_constraint("fk_outbox_broadcast_id", type_="foreignkey")
        batch.drop_column("next_attempt_at")
        batch.drop_column("claimed_at")
        batch.drop_column("claim_token")
        batch.drop_column("broadcast_id")
    op.drop_table("broadcasts")
    op.drop_table("event_reminders")
    op.drop_table("events")
