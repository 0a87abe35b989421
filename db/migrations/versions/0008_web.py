"""the staff web console: one-time sign-in links and sessions (hashes only)

Revision ID: 0008_web
Revises: 0007
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision = "0008_web"
down_revision = "0007"
branch_labels = None
depends_on = None


def _token_table(name: str, *extra: sa.Column) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("members.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        *extra,
    )
    op.create_index(f"ix_{name}_member_id", name, ["member_id"])


def upgrade() -> None:
    _token_table("web_links", sa.Column("used_at", UTCDateTime(), nullable=True))
    _token_table("web_sessions", sa.Column("revoked_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    for name in ("web_sessions", "web_links"):
        op.drop_index(f"ix_{name}_member_id", table_name=name)
        op.drop_table(name)
