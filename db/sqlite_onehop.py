"""aiosqlite with one thread hop per statement instead of four.

aiosqlite runs every sqlite3 call in the connection's own thread, and SQLAlchemy's adapter
makes four such calls per statement: open a cursor, execute, fetch all rows, close. Each call
is a round trip between the event loop and the thread (queue, wake-up, GIL hand-over), and on
this bot's hot path — find the member, log the question, commit — the round trips cost more
than SQLite itself.

:class:`OneHopConnection` is an aiosqlite connection whose cursors do the whole statement in a
single call to the thread: execute, read every row (SQLAlchemy's adapter reads them all
anyway), note ``description``/``rowcount``/``lastrowid`` and close the sqlite3 cursor. Commits,
rollbacks, ``create_function`` and closing are aiosqlite's own. Same sqlite3 connection, same
transactions, same errors: only the number of trips changes.

:func:`install` makes an engine open its connections this way; ``db.session`` calls it for
every SQLite engine.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

_Result = tuple[Any, int, int | None, list[Any]]


def _run(
    conn: sqlite3.Connection, sql: str, parameters: Any, many: bool
) -> _Result:  # runs in the connection's thread
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, () if parameters is None else parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneHopCursor:
    """The part of aiosqlite's ``Cursor`` that SQLAlchemy's adapter uses, one trip each."""

    def __init__(self, connection: OneHopConnection) -> None:
        self._connection = connection
        self._rows: list[Any] = []
        self._next = 0
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    async def __aenter__(self) -> OneHopCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _do(self, sql: str, parameters: Any, many: bool) -> OneHopCursor:
        conn = self._connection._conn
        result = await self._connection._execute(_run, conn, sql, parameters, many)
        self.description, self.rowcount, self.lastrowid, self._rows = result
        self._next = 0
        return self

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> OneHopCursor:
        return await self._do(sql, parameters, False)

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> OneHopCursor:
        return await self._do(sql, parameters, True)

    async def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        end = self._next + (size or self.arraysize)
        rows = self._rows[self._next : end]
        self._next += len(rows)
        return rows

    async def fetchall(self) -> Sequence[Any]:
        rows = self._rows[self._next :]
        self._next = len(self._rows)
        return rows

    async def close(self) -> None:
        self._rows = []
        self._next = 0

    async def nextset(self) -> None:
        return None

    async def setinputsizes(self, *sizes: Any) -> None:
        return None

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        return None


class OneHopConnection(aiosqlite.Connection):
    def cursor(self) -> OneHopCursor:  # type: ignore[override]
        return OneHopCursor(self)


def connect(database: str, **kwargs: Any) -> OneHopConnection:
    """Like ``aiosqlite.connect``: an awaitable connection to ``database``."""

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(database, **kwargs)

    connection = OneHopConnection(connector, iter_chunk_size=64)
    connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite's thread
    return connection


def install(engine: AsyncEngine) -> None:
    """Open ``engine``'s SQLite connections as :class:`OneHopConnection` (same URL, same args)."""

    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect, _record, cargs, cparams):  # type: ignore[no-untyped-def]
        return dialect.loaded_dbapi.connect(*cargs, async_creator_fn=connect, **cparams)
