"""The SQLite driver (one thread hop per statement) and member creation under concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from db.models import Member
from db.queries import get_or_create_member
from db.session import create_engine, session_factory
from db.sqlite_onehop import OneHopConnection

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


@pytest.fixture
async def engine(tmp_path):  # type: ignore[no-untyped-def]
    eng = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    yield eng
    await eng.dispose()


async def test_sqlite_engine_uses_one_trip_per_statement(engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    trips: list[str] = []
    original = OneHopConnection._execute

    async def counting(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        trips.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    monkeypatch.setattr(OneHopConnection, "_execute", counting)
    async with engine.begin() as conn:
        trips.clear()
        inserted = await conn.execute(
            text("INSERT INTO t (name) VALUES (:n) RETURNING id"), {"n": "a"}
        )
        assert inserted.scalar_one() == 1
        assert trips == ["_run"]  # execute, fetch and close in one trip
        await conn.execute(text("INSERT INTO t (name) VALUES (:n)"), [{"n": "b"}, {"n": "c"}])
        rows = (await conn.execute(text("SELECT name FROM t ORDER BY id"))).scalars().all()
        assert rows == ["a", "b", "c"]
        updated = await conn.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
        assert updated.rowcount == 2
        assert trips == ["_run"] * 4
    assert trips[-1] == "commit"


async def test_sqlite_driver_keeps_errors_and_rollback(engine) -> None:  # type: ignore[no-untyped-def]
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
        await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (name) VALUES ('b')"))
            await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
    async with engine.connect() as conn:
        names = (await conn.execute(text("SELECT name FROM t"))).scalars().all()
    assert names == ["a"]  # the whole transaction was rolled back


async def test_sqlite_driver_fetches_in_parts(engine) -> None:  # type: ignore[no-untyped-def]
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        await conn.execute(text("INSERT INTO t (id) VALUES (:i)"), [{"i": i} for i in range(10)])
        result = await conn.execute(text("SELECT id FROM t ORDER BY id"))
        assert result.fetchone() == (0,)
        assert result.fetchmany(3) == [(1,), (2,), (3,)]
        assert [r[0] for r in result.fetchall()] == list(range(4, 10))


async def test_same_member_created_by_two_workers_at_once(database_url: str) -> None:
    """Two first messages from one person, handled at the same time, make one member."""
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    try:
        async with sessions() as first, sessions() as second:
            one, created_one = await get_or_create_member(
                first, "telegram", "race", locale="vi", now=NOW
            )
            # the second worker's INSERT waits for the first transaction
            waiting = asyncio.create_task(
                get_or_create_member(second, "telegram", "race", locale="vi", now=NOW)
            )
            await asyncio.sleep(0.2)
            await first.commit()
            two, created_two = await waiting
            await second.commit()
        assert created_one and not created_two
        assert one.id == two.id
        assert two.last_seen_at is not None
        async with sessions() as check:
            count = len((await check.execute(select(Member).where(Member.user_id == "race"))).all())
        assert count == 1
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM members WHERE user_id = 'race'"))
        await engine.dispose()
