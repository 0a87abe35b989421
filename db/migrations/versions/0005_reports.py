"""monthly reports: periods, prompts, reports and their versions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_periods",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("period", sa.String(7), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("opened_by", sa.String(96), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
    )
    op.create_table(
        "report_prompts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column(
            "cooperative_id",
            sa.Integer(),
            sa.ForeignKey("cooperatives.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("members.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("period", "member_id", "kind", name="uq_report_prompts_once"),
    )
    op.create_index("ix_report_prompts_period", "report_prompts", ["period"])
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column(
            "cooperative_id",
            sa.Integer(),
            sa.ForeignKey("cooperatives.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "submitted_by",
            sa.Integer(),
            sa.ForeignKey("members.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("period", "cooperative_id", name="uq_reports_period_coop"),
    )
    op.create_index("ix_reports_period", "reports", ["period"])
    op.create_table(
        "report_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "report_id",
            sa.Integer(),
            sa.ForeignKey("reports.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column(
            "submitted_by",
            sa.Integer(),
            sa.ForeignKey("members.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_report_versions_report_id", "report_versions", ["report_id"])


def downgrade() -> None:
    op.drop_table("report_versions")
    op.drop_table("reports")
    op.drop_table("report_prompts")
    op.drop_table("report_periods")
