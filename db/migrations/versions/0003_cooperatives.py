"""cooperatives, member links, audit log, outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cooperatives",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("sector", sa.String(32), nullable=False),
        sa.Column("commune", sa.String(64), nullable=False),
        sa.Column("commune_code", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(255), nullable=True),
        sa.Column("phone", sa.String(16), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("phone", sa.String(16), nullable=True))
        batch.add_column(sa.Column("cooperative_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("coop_role", sa.String(16), nullable=True))
        batch.add_column(sa.Column("link_status", sa.String(16), nullable=True))
        batch.create_foreign_key(
            "fk_members_cooperative",
            "cooperatives",
            ["cooperative_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_members_cooperative_id", ["cooperative_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("actor", sa.String(96), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(255), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_audit_log_created_at", "audit_log", ["created_at"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("members.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("buttons", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(255), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_outbox_member_id", "outbox", ["member_id"])
    op.create_index("ix_outbox_channel", "outbox", ["channel"])
    op.create_index("ix_outbox_status", "outbox", ["status"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_index("ix_audit_log_created_at", "audit_log")
    op.drop_table("audit_log")
    with op.batch_alter_table("members") as batch:
        batch.drop_index("ix_members_cooperative_id")
        batch.drop_constraint("fk_members_cooperative", type_="foreignkey")
        for col in ("link_status", "coop_role", "cooperative_id", "phone"):
            batch.drop_column(col)
    op.drop_table("cooperatives")
