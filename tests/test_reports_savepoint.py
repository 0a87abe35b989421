"""On SQLite a savepoint that holds a session's first write must not commit it: a failed
command changes nothing (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from db.models import ReportPeriod
from db.session import create_engine, session_factory

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


async def test_a_rolled_back_session_keeps_nothing_written_in_a_savepoint(app) -> None:  # type: ignore[no-untyped-def]
    engine = create_engine(app.settings.database_url)
    try:
        sessions = session_factory(engine)
        async with sessions() as session:
            await session.execute(select(ReportPeriod))  # a read first, as a handler does
            async with session.begin_nested():
                session.add(ReportPeriod(period="2026-10", status="open", opened_at=NOW,
                                         opened_by="test"))  # fmt: skip
            await session.rollback()  # the command failed after the savepoint
        async with sessions() as session:
            count = await session.scalar(select(func.count()).select_from(ReportPeriod))
        assert count == 0
        async with sessions() as session:  # and a savepoint still commits with its session
            async with session.begin_nested():
                session.add(ReportPeriod(period="2026-10", status="open", opened_at=NOW,
                                         opened_by="test"))  # fmt: skip
            await session.commit()
        async with sessions() as session:
            count = await session.scalar(select(func.count()).select_from(ReportPeriod))
        assert count == 1
    finally:
        await engine.dispose()
