"""Consistent copies of the database, and putting one back.

SQLite uses SQLite's own online backup API, so a copy taken while the assistant runs is a
consistent snapshot (WAL included). PostgreSQL uses ``pg_dump`` in its custom format and
``pg_restore``; both must be installed where the command runs. A copy is written to a
temporary file beside the target and renamed into place, so a copy interrupted half way never
looks like a finished one.

Restoring refuses to overwrite a database that holds data unless asked to (``force``), and
refuses a file of the other kind (a SQLite file into PostgreSQL or the reverse). Errors are
``BackupError`` with a ``reason`` code; the door that called says it in words.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import AuditEntry, Base, KbEntry, KbState, KbVersion

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


class BackupError(Exception):
    """``reason`` is one of: missing, wrong_kind, not_empty, no_tool, failed."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Copied:
    path: Path
    size: int
    kind: str


def kind_of(url: str) -> str:
    return "sqlite" if make_url(url).get_backend_name() == "sqlite" else "postgresql"


def file_kind(path: Path) -> str | None:
    with path.open("rb") as fh:
        head = fh.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_MAGIC):
        return "postgresql"
    return None


async def row_count(engine: AsyncEngine) -> int:
    """Rows in the assistant's tables (tables not created yet count as empty)."""

    def names(conn) -> set[str]:  # type: ignore[no-untyped-def]
        return set(inspect(conn).get_table_names())

    total = 0
    async with engine.connect() as conn:
        present = await conn.run_sync(names)
        for table in Base.metadata.sorted_tables:
            if table.name in present:
                total += (await conn.execute(select(func.count()).select_from(table))).scalar_one()
    return total


SHIPPED_KNOWLEDGE = ("kb_entries", "kb_versions", "kb_state")


async def data_rows(engine: AsyncEngine) -> int:
    """:func:`row_count` without what ``coopbot db upgrade`` writes by itself: the shipped
    knowledge entries, their shipped versions, the change counter and the audit line of that
    load. A draft, a person's version or anything else counts."""
    total = await row_count(engine)
    if total == 0:
        return 0

    def names(conn) -> set[str]:  # type: ignore[no-untyped-def]
        return set(inspect(conn).get_table_names())

    async with engine.connect() as conn:
        if "kb_versions" not in await conn.run_sync(names):
            return total
        for stmt in (
            select(func.count()).select_from(KbEntry).where(KbEntry.draft_by.is_(None)),
            select(func.count()).select_from(KbVersion).where(KbVersion.source == "shipped"),
            select(func.count()).select_from(KbState),
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "kb.sync"),
        ):
            total -= (await conn.execute(stmt)).scalar_one()
    return total


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("failed", "an in-memory SQLite database has nothing to copy")
    return Path(database)


def _pg_env(url: str) -> tuple[dict[str, str], str]:
    """libpq variables for ``url`` (the password stays out of the process list)."""
    parsed: URL = make_url(url)
    env = dict(os.environ)
    for key, value in (
        ("PGHOST", parsed.host),
        ("PGPORT", parsed.port),
        ("PGUSER", parsed.username),
        ("PGPASSWORD", parsed.password),
    ):
        if value is not None:
            env[key] = str(value)
    return env, parsed.database or ""


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError("no_tool", name)
    return found


def _last_line(stderr: str, default: str) -> str:
    lines = stderr.strip().splitlines()
    return lines[-1] if lines else default


def _replace(tmp: Path, dest: Path) -> Copied:
    os.replace(tmp, dest)
    return Copied(dest, dest.stat().st_size, file_kind(dest) or "")


def backup(url: str, dest: Path) -> Copied:
    """Write a consistent copy of the database at ``url`` to ``dest``."""
    dest = dest.expanduser()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.partial")
    try:
        if kind_of(url) == "sqlite":
            source = _sqlite_path(url)
            if not source.exists():
                raise BackupError("missing", str(source))
            src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            out = sqlite3.connect(tmp)
            try:
                src.backup(out)
            finally:
                out.close()
                src.close()
        else:
            env, database = _pg_env(url)
            done = subprocess.run(
                [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(tmp), database],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                raise BackupError("failed", _last_line(done.stderr, "pg_dump failed"))
        return _replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def restore(url: str, source: Path, *, not_empty: bool, force: bool) -> None:
    """Put the copy ``source`` back into the database at ``url``.

    ``not_empty`` says whether the target holds data now (see ``row_count``); without
    ``force`` such a target is left alone.
    """
    source = source.expanduser()
    if not source.is_file():
        raise BackupError("missing", str(source))
    kind = kind_of(url)
    found = file_kind(source)
    if found != kind:
        raise BackupError("wrong_kind", found or "unknown")
    if not_empty and not force:
        raise BackupError("not_empty")
    if kind == "sqlite":
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        out = sqlite3.connect(target)
        try:
            src.backup(out)
        finally:
            out.close()
            src.close()
        return
    env, database = _pg_env(url)
    done = subprocess.run(
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--dbname",
            database,
            str(source),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError("failed", _last_line(done.stderr, "pg_restore failed"))
