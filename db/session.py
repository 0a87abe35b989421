"""The one place that builds the async engine and the session factory.

SQLite and savepoints: Python's sqlite3 module (under aiosqlite) opens a transaction only
before an INSERT, UPDATE or DELETE. A ``SAVEPOINT`` sent outside a transaction starts one of
SQLite's own, and ``RELEASE`` of that outermost savepoint *commits* it: a session whose first
write sat in ``session.begin_nested()`` kept that write even when the session was rolled back
afterwards. :func:`_begin_before_savepoint` sends ``BEGIN`` first whenever no transaction is
open, so a savepoint is always nested in the session's transaction and a rollback undoes it.
(SQLAlchemy's other recipe, ``BEGIN`` at the start of every transaction, would also hold a
read snapshot from the first SELECT, and a later write of a busy worker would then fail with
SQLITE_BUSY instead of waiting; this keeps reads as they were and fixes the savepoint alone.)
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from db import sqlite_onehop


def create_engine(url: str) -> AsyncEngine:
    """Create the engine for ``url``; for SQLite, create the folder and enable WAL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Sessions always end with a commit or a rollback, so the pool need not roll back
        # again when a connection comes back (one thread hop less per message on aiosqlite).
        engine = create_async_engine(url, connect_args={"timeout": 30}, pool_reset_on_return=None)
        sqlite_onehop.install(engine)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine.sync_engine, "savepoint")
        def _begin_before_savepoint(conn, _name):  # type: ignore[no-untyped-def]
            if not _in_transaction(conn.connection.dbapi_connection):
                conn.exec_driver_sql("BEGIN")

        return engine
    return create_async_engine(url, pool_pre_ping=True)


def _in_transaction(adapted: object) -> bool:
    """Whether the sqlite3 connection under SQLAlchemy's aiosqlite adapter is in a
    transaction (aiosqlite's ``in_transaction`` reads sqlite3's flag; no thread trip)."""
    return bool(adapted._connection.in_transaction)  # type: ignore[attr-defined]


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
