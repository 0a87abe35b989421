"""the sending budget every worker shares on PostgreSQL (bot/channels/budget.py)

Only PostgreSQL gets the table: SQLite runs one process, whose own limits are the global ones.
Adding a table keeps the old code working while the new one starts (it never reads it).

Revision ID: 0009_ops_run
Revises: 0008_web
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_ops_run"
down_revision = "0008_web"
branch_labels = None
depends_on = None


# One slot of the budget in one round trip: 0 when taken, else the seconds to wait. Serialised
# per channel by a transaction-level advisory lock (first key "coop", as bot/leader.py).
TAKE_SLOT = """
CREATE OR REPLACE FUNCTION coopbot_take_slot(
    p_channel text, p_chat text, p_bulk boolean, p_cap integer, p_window float8,
    p_per_chat float8, p_spacing float8
) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
    now_s float8;
    n integer;
    newest float8;
    edge float8;
    chat_last float8;
    wait float8 := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(1668247408, hashtext('budget:' || p_channel));
    now_s := extract(epoch FROM clock_timestamp());
    SELECT count(*), max(at) INTO n, newest
      FROM send_budget WHERE channel = p_channel AND at > now_s - p_window;
    IF n >= p_cap THEN
        SELECT at INTO edge FROM send_budget
          WHERE channel = p_channel AND at > now_s - p_window
          ORDER BY at OFFSET (n - p_cap) LIMIT 1;
        wait := greatest(wait, edge + p_window - now_s, 0.001);
    END IF;
    IF newest IS NOT NULL AND now_s - newest < p_spacing THEN
        wait := greatest(wait, newest + p_spacing - now_s);
    END IF;
    SELECT max(at) INTO chat_last FROM send_budget
      WHERE channel = p_channel AND at > now_s - p_per_chat AND chat = p_chat;
    IF chat_last IS NOT NULL THEN
        wait := greatest(wait, chat_last + p_per_chat - now_s);
    END IF;
    IF wait > 0 THEN
        RETURN wait;
    END IF;
    INSERT INTO send_budget (channel, chat, bulk, at) VALUES (p_channel, p_chat, p_bulk, now_s);
    IF random() < 0.005 THEN
        DELETE FROM send_budget WHERE channel = p_channel AND at < now_s - 60;
    END IF;
    RETURN 0;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_table(
        "send_budget",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("chat", sa.String(64), nullable=False),
        sa.Column("bulk", sa.Boolean(), nullable=False),
        # Seconds since the epoch, by the database's clock (every worker agrees on it).
        sa.Column("at", sa.Float(precision=53), nullable=False),
    )
    op.create_index("ix_send_budget_channel_at", "send_budget", ["channel", "at"])
    op.execute(TAKE_SLOT)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS coopbot_take_slot")
    op.drop_index("ix_send_budget_channel_at", table_name="send_budget")
    op.drop_table("send_budget")
