"""`coopbot backup` and `coopbot restore`: every table round-trips, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    insert,
    select,
)
from sqlalchemy.types import TypeDecorator

from bot import cli
from db import migrate
from db.backup import BackupError, backup, restore, row_count
from db.models import Base
from db.session import create_engine
from tests.conftest import PG_SERVER, _pg_admin

NOW = datetime(2026, 11, 29, 8, 30, tzinfo=UTC)


def _value(column: Any, n: int) -> Any:
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, Boolean):
        return True
    if isinstance(kind, DateTime):
        return NOW
    if isinstance(kind, Date):
        return date(2026, 11, n)
    if isinstance(kind, Integer | BigInteger):
        return n
    if isinstance(kind, Float | Numeric):
        return n + 0.5
    if isinstance(kind, JSON):
        return {"k": ["v", n], "chữ": "có dấu"}
    if isinstance(kind, LargeBinary):
        return b"\x00\x01"
    if isinstance(kind, String | Text):
        length = getattr(kind, "length", None) or 40
        return f"v{n}-{column.name}-Việt"[:length]
    raise AssertionError(f"no sample value for {column.table.name}.{column.name}: {kind!r}")


async def _fill(url: str) -> dict[str, list[tuple]]:
    """Two rows in every table, foreign keys pointing at the rows just made."""
    engine = create_engine(url)
    made: dict[str, list[dict[str, Any]]] = {}
    try:
        async with engine.begin() as conn:
            for table in Base.metadata.sorted_tables:
                made[table.name] = []
                for n in (1, 2):
                    row: dict[str, Any] = {}
                    for column in table.columns:
                        fks = list(column.foreign_keys)
                        if fks:
                            parent = made[fks[0].column.table.name][n - 1]
                            row[column.name] = parent[fks[0].column.name]
                        elif column.primary_key and isinstance(column.type, Integer):
                            row[column.name] = n
                        else:
                            row[column.name] = _value(column, n)
                    await conn.execute(insert(table).values(**row))
                    made[table.name].append(row)
        return await _dump(engine)
    finally:
        await engine.dispose()


async def _dump(engine) -> dict[str, list[tuple]]:  # type: ignore[no-untyped-def]
    out = {}
    async with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = (await conn.execute(select(table))).all()
            out[table.name] = sorted(tuple(map(repr, r)) for r in rows)
    return out


async def _fresh(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


async def _state(url: str) -> tuple[dict[str, list[tuple]], int]:
    engine = create_engine(url)
    try:
        return await _dump(engine), await row_count(engine)
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def two_databases(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield (
            f"sqlite+aiosqlite:///{tmp_path / 'a.db'}",
            f"sqlite+aiosqlite:///{tmp_path / 'b.db'}",
        )
        return
    names = [f"coopbot_bak_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    try:
        for name in names:
            asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    base = PG_SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    yield tuple(f"{base}/{name}" for name in names)
    for name in names:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_every_table_round_trips_and_a_full_database_is_not_overwritten(
    two_databases: tuple[str, str], tmp_path: Path
) -> None:
    source, target = two_databases
    asyncio.run(_fresh(source))
    written = asyncio.run(_fill(source))
    assert all(len(rows) == 2 for rows in written.values()), "every table holds rows"

    copy = tmp_path / "coopbot.backup"
    made = backup(source, copy)
    assert made.size > 0 and not list(tmp_path.glob(".*partial"))

    asyncio.run(_fresh(target))
    restore(target, copy, not_empty=False, force=False)
    restored, rows = asyncio.run(_state(target))
    assert restored == written
    assert rows == 2 * len(Base.metadata.sorted_tables)

    with pytest.raises(BackupError) as refused:
        restore(target, copy, not_empty=rows > 0, force=False)
    assert refused.value.reason == "not_empty"
    restore(target, copy, not_empty=True, force=True)
    assert asyncio.run(_state(target))[0] == written


def test_a_copy_of_the_other_kind_or_a_stranger_file_is_refused(tmp_path: Path) -> None:
    stranger = tmp_path / "notes.txt"
    stranger.write_text("không phải bản sao", encoding="utf-8")
    with pytest.raises(BackupError) as wrong:
        restore(f"sqlite:///{tmp_path / 'x.db'}", stranger, not_empty=False, force=False)
    assert wrong.value.reason == "wrong_kind"
    with pytest.raises(BackupError) as missing:
        restore(f"sqlite:///{tmp_path / 'x.db'}", tmp_path / "nope", not_empty=False, force=False)
    assert missing.value.reason == "missing"


def test_the_commands_say_what_they_did_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'live.db'}")
    asyncio.run(_fresh(f"sqlite+aiosqlite:///{tmp_path / 'live.db'}"))
    asyncio.run(_fill(f"sqlite+aiosqlite:///{tmp_path / 'live.db'}"))
    assert cli.main(["backup", str(tmp_path / "copy.db")]) == 0
    assert "Đã sao lưu" in capsys.readouterr().out
    assert cli.main(["restore", str(tmp_path / "copy.db")]) == 2
    err = capsys.readouterr().err
    assert "--force" in err and "Traceback" not in err
    assert cli.main(["restore", "--force", str(tmp_path / "copy.db")]) == 0
    assert "Đã khôi phục" in capsys.readouterr().out
