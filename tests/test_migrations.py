from sqlalchemy import inspect

from db import migrate
from db.session import create_engine


async def test_schema_is_at_head_and_upgrade_is_idempotent(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert await migrate.current_revision(engine) == migrate.head_revision()
        before, after = await migrate.upgrade(engine)
        assert before == after == migrate.head_revision()
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert {
            "members",
            "questions",
            "cooperatives",
            "audit_log",
            "outbox",
            "alembic_version",
        } <= tables
    finally:
        await engine.dispose()


async def test_upgrade_from_empty(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'new' / 'x.db'}")
    try:
        before, after = await migrate.upgrade(engine)
        assert before is None and after == migrate.head_revision()
    finally:
        await engine.dispose()
