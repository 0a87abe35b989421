"""an index on cooperatives.updated_at (the name index's staleness check reads its max)

Revision ID: 0010_perf
Revises: 0009_ops_run
Create Date: 2026-11-29
"""

from alembic import op

revision = "0010_perf"
down_revision = "0009_ops_run"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cooperatives_updated_at", "cooperatives", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_cooperatives_updated_at", table_name="cooperatives")
