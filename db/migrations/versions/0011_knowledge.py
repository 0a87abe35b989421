"""the knowledge base in the database: entries, every version, a change counter, saved questions

Revision ID: 0011_knowledge
Revises: 0010_perf
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision = "0011_knowledge"
down_revision = "0010_perf"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("entry_id", sa.String(120), nullable=False, unique=True),
        sa.Column("file", sa.String(120), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("draft", sa.JSON(), nullable=True),
        sa.Column("draft_by", sa.String(80), nullable=True),
        sa.Column("edited", sa.Boolean(), nullable=False),
        sa.Column("shipped", sa.JSON(), nullable=True),
        sa.Column("shipped_hash", sa.String(64), nullable=True),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "kb_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("entry_id", sa.String(120), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("changed", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("entry_id", "number", name="uq_kb_versions_entry_number"),
    )
    op.create_index("ix_kb_versions_entry_id", "kb_versions", ["entry_id"])
    op.create_table(
        "kb_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("counter", sa.Integer(), nullable=False),
    )
    op.create_table(
        "kb_saved_questions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("entry_id", sa.String(120), nullable=True),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("kb_saved_questions")
    op.drop_table("kb_state")
    op.drop_index("ix_kb_versions_entry_id", table_name="kb_versions")
    op.drop_table("kb_versions")
    op.drop_table("kb_entries")
