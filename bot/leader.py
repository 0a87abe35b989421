"""Work that must happen once, however many workers run: who does it.

Several ``coopbot run --webhook`` workers may share one PostgreSQL database. Webhook updates go
to whichever worker receives them, but some work must run in exactly one worker at a time: the
scheduler, the outbox and broadcast delivery of each channel, and long polling. Each such
*job* has its own PostgreSQL advisory lock (a session-level lock, taken on a connection of its
own that does nothing else). A worker runs a job while it holds its lock.

- Every ``poll`` seconds (1 s by default) a worker checks that its lock connection is alive and
  tries to take the locks it does not hold (``pg_try_advisory_lock`` never waits).
- A worker that dies (``kill -9``, a crash, a lost network) loses its connection, and
  PostgreSQL releases its locks at once; another worker takes them at its next try, within
  ``poll`` seconds (and a second or two for the job to start).
- A worker whose lock connection fails stops its jobs at once: it cannot know whether
  another worker took over. The overlap is at most one ``poll``; broadcast delivery is safe
  even then (rows are claimed with leases and marked before each send).

On SQLite there is one process: :class:`LocalLeadership` runs every job at once.

A job is ``async def job(release: asyncio.Event) -> None``: it starts its work, runs until
``release`` is set, then stops it and returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.engine import make_url

from ground.logs import log_event

log = logging.getLogger("coopbot.leader")

Job = Callable[[asyncio.Event], Awaitable[None]]
# The first key of every coopbot advisory lock ("coop"), so other applications sharing the
# database do not collide with ours; the second is derived from the job's name.
LOCK_CLASS = 0x636F6F70
STOP_TIMEOUT = 15.0


def lock_key(name: str) -> int:
    """The second advisory-lock key of job ``name`` (a stable 31-bit number)."""
    return zlib.crc32(f"coopbot:{name}".encode()) & 0x7FFFFFFF


def worker_name() -> str:
    """``host:pid``: how logs, metrics and ``/readyz`` name this worker."""
    return f"{socket.gethostname()}:{os.getpid()}"


def asyncpg_dsn(database_url: str) -> str:
    """The plain ``postgresql://`` DSN asyncpg wants, from a SQLAlchemy URL."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class _Running:
    def __init__(self, task: asyncio.Task[None], release: asyncio.Event) -> None:
        self.task = task
        self.release = release
        self.since = time.time()


class Leadership:
    """Runs ``jobs`` (name → job) while this worker holds each job's advisory lock.

    ``on_change(name, held)`` is called when a lock is taken or lost (metrics, logs).
    """

    def __init__(
        self,
        dsn: str,
        jobs: dict[str, Job],
        *,
        poll: float = 1.0,
        on_change: Callable[[str, bool], None] | None = None,
        connect: Callable[..., Awaitable[Any]] | None = None,
    ) -> None:
        self.dsn = dsn
        self.jobs = dict(jobs)
        self.poll = poll
        self.on_change = on_change
        self._connect = connect
        self._conn: Any = None
        self._running: dict[str, _Running] = {}
        self.ready = asyncio.Event()  # set after the first round of tries

    @property
    def held(self) -> list[str]:
        """The jobs this worker runs now."""
        return sorted(self._running)

    async def run(self, stop: asyncio.Event) -> None:
        """Try for the locks every ``poll`` seconds until ``stop``; then stop every job and
        release the locks (closing the connection)."""
        try:
            while not stop.is_set():
                await self.step()
                self.ready.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.poll)
        finally:
            await self._release_all("stopping")
            await self._close()

    async def step(self) -> None:
        """One round: check the connection, take what is free, notice jobs that ended."""
        for name, running in list(self._running.items()):
            if running.task.done():  # a job that ended by itself gives its turn back
                await self._release(name, "job ended")
                with contextlib.suppress(Exception):
                    await self._conn.execute(
                        "SELECT pg_advisory_unlock($1, $2)", LOCK_CLASS, lock_key(name)
                    )
        try:
            if self._conn is not None and self._conn.is_closed():
                # Its session, and every lock with it, is gone: another worker may run the jobs.
                raise ConnectionError("lock connection closed")
            if self._conn is None:
                self._conn = await self._open()
            await self._conn.fetchval("SELECT 1", timeout=max(1.0, self.poll))
            for name in self.jobs:
                if name in self._running:
                    continue
                got = await self._conn.fetchval(
                    "SELECT pg_try_advisory_lock($1, $2)",
                    LOCK_CLASS,
                    lock_key(name),
                    timeout=max(1.0, self.poll),
                )
                if got:
                    self._start(name)
        except Exception as exc:
            if self._running:
                log_event(
                    log,
                    "lock connection lost, stopping jobs",
                    logging.WARNING,
                    error=type(exc).__name__,
                    jobs=self.held,
                )
            else:
                log_event(log, "lock connection failed", logging.WARNING, error=type(exc).__name__)
            await self._release_all("connection lost")
            await self._close()

    async def _open(self) -> Any:
        if self._connect is not None:
            return await self._connect(self.dsn)
        import asyncpg

        conn = await asyncpg.connect(self.dsn, timeout=5)
        # Seen by pg_stat_activity and pg_locks: which worker holds which lock.
        await conn.execute(
            "SELECT set_config('application_name', $1, false)", f"coopbot {worker_name()}"[:63]
        )
        return conn

    def _start(self, name: str) -> None:
        release = asyncio.Event()
        task = asyncio.create_task(self._guarded(name, release), name=f"job:{name}")
        self._running[name] = _Running(task, release)
        log_event(log, "job started here", job=name, worker=worker_name())
        if self.on_change:
            self.on_change(name, True)

    async def _guarded(self, name: str, release: asyncio.Event) -> None:
        try:
            await self.jobs[name](release)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job %s failed", name)

    async def _release(self, name: str, why: str) -> None:
        running = self._running.pop(name, None)
        if running is None:
            return
        running.release.set()
        try:
            await asyncio.wait_for(asyncio.shield(running.task), timeout=STOP_TIMEOUT)
        except (TimeoutError, asyncio.CancelledError):
            running.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await running.task
        except Exception:
            pass
        log_event(log, "job stopped here", job=name, reason=why, worker=worker_name())
        if self.on_change:
            self.on_change(name, False)

    async def _release_all(self, why: str) -> None:
        for name in list(self._running):
            await self._release(name, why)

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await asyncio.wait_for(conn.close(), timeout=2)
        except Exception:
            with contextlib.suppress(Exception):
                conn.terminate()


class LocalLeadership:
    """One process (SQLite): every job runs here from the start."""

    def __init__(
        self, jobs: dict[str, Job], on_change: Callable[[str, bool], None] | None = None
    ) -> None:
        self.jobs = dict(jobs)
        self.on_change = on_change
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.ready = asyncio.Event()

    @property
    def held(self) -> list[str]:
        return sorted(name for name, task in self._tasks.items() if not task.done())

    async def run(self, stop: asyncio.Event) -> None:
        release = asyncio.Event()
        for name, job in self.jobs.items():
            self._tasks[name] = asyncio.create_task(job(release), name=f"job:{name}")
            if self.on_change:
                self.on_change(name, True)
        self.ready.set()
        try:
            await stop.wait()
        finally:
            release.set()
            for name, task in self._tasks.items():
                try:
                    await asyncio.wait_for(asyncio.shield(task), timeout=STOP_TIMEOUT)
                except (TimeoutError, asyncio.CancelledError):
                    task.cancel()
                except Exception:
                    log.exception("job %s failed", name)
                if self.on_change:
                    self.on_change(name, False)


def leadership_for(
    database_url: str,
    jobs: dict[str, Job],
    *,
    poll: float = 1.0,
    on_change: Callable[[str, bool], None] | None = None,
) -> Leadership | LocalLeadership:
    """Advisory locks on PostgreSQL; everything here on SQLite."""
    if make_url(database_url).get_backend_name() == "postgresql":
        return Leadership(asyncpg_dsn(database_url), jobs, poll=poll, on_change=on_change)
    return LocalLeadership(jobs, on_change=on_change)
