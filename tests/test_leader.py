"""Who runs the work that must happen once (bot/leader.py), and the shared send budget
(bot/channels/budget.py) on PostgreSQL; on SQLite everything runs in the one process."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import asyncpg
import pytest

from bot.app import App, build_app
from bot.channels.budget import Limit, SharedBudget, bulk_sending, is_bulk
from bot.leader import Leadership, LocalLeadership, asyncpg_dsn, leadership_for, lock_key
from ground.messages import Incoming
from ground.settings import Settings


class Recorder:
    def __init__(self) -> None:
        self.running: set[str] = set()
        self.started: list[str] = []

    def job(self, name: str):  # type: ignore[no-untyped-def]
        async def run(release: asyncio.Event) -> None:
            self.running.add(name)
            self.started.append(name)
            try:
                await release.wait()
            finally:
                self.running.discard(name)

        return run


async def _until(done, seconds: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    """Wait for ``done()``; the time-out is a safety net, not an assertion."""
    async with asyncio.timeout(seconds):
        while not done():  # noqa: ASYNC110 (state of another connection or task)
            await asyncio.sleep(0.02)


def test_lock_keys_are_stable_and_distinct() -> None:
    names = ["scheduler", "telegram.delivery", "telegram.polling", "zalo.delivery", "zalo.polling"]
    keys = [lock_key(n) for n in names]
    assert len(set(keys)) == len(keys)
    assert all(0 <= k < 2**31 for k in keys)
    assert lock_key("scheduler") == lock_key("scheduler")


def test_sqlite_runs_everything_here(sqlite_url: str) -> None:
    assert isinstance(leadership_for(sqlite_url, {}), LocalLeadership)


async def test_local_leadership_runs_every_job_until_stopped() -> None:
    rec = Recorder()
    changes: list[tuple[str, bool]] = []
    lead = LocalLeadership(
        {"a": rec.job("a"), "b": rec.job("b")}, on_change=lambda *c: changes.append(c)
    )
    stop = asyncio.Event()
    task = asyncio.create_task(lead.run(stop))
    await _until(lambda: rec.running == {"a", "b"})
    assert lead.held == ["a", "b"]
    stop.set()
    await task
    assert rec.running == set()
    assert ("a", False) in changes and ("b", False) in changes


async def test_one_worker_holds_each_lock_and_another_takes_over(postgresql_url: str) -> None:
    dsn = asyncpg_dsn(postgresql_url)
    first, second = Recorder(), Recorder()
    jobs = ["scheduler", "telegram.delivery"]
    a = Leadership(dsn, {n: first.job(n) for n in jobs}, poll=0.1)
    stop_a = asyncio.Event()
    task_a = asyncio.create_task(a.run(stop_a))
    await _until(lambda: first.running == set(jobs))
    b = Leadership(dsn, {n: second.job(n) for n in jobs}, poll=0.1)
    stop_b = asyncio.Event()
    task_b = asyncio.create_task(b.run(stop_b))
    await _until(lambda: b.ready.is_set())
    await asyncio.sleep(0.5)  # b keeps trying (every 0.1 s) and never gets a lock a holds
    assert second.running == set() and b.held == []

    # a's connection dies (as when its process is killed): PostgreSQL frees the locks.
    admin = await asyncpg.connect(dsn)
    try:
        pid = a._conn.get_server_pid()
        await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    await _until(lambda: second.running == set(jobs))
    # a noticed at its next check and stopped its jobs: they never ran in both.
    await _until(lambda: first.running == set())
    assert first.running.isdisjoint(second.running)
    assert sorted(b.held) == sorted(jobs)

    stop_b.set()
    await task_b
    assert second.running == set()
    # b released the locks when it stopped; a (still running) takes them back.
    await _until(lambda: first.running == set(jobs))
    stop_a.set()
    await task_a
    assert first.started.count("scheduler") == 2


async def test_a_stopped_worker_releases_its_locks_at_once(postgresql_url: str) -> None:
    dsn = asyncpg_dsn(postgresql_url)
    rec = Recorder()
    lead = Leadership(dsn, {"scheduler": rec.job("scheduler")}, poll=0.1)
    stop = asyncio.Event()
    task = asyncio.create_task(lead.run(stop))
    await _until(lambda: "scheduler" in rec.running)
    stop.set()
    await task
    conn = await asyncpg.connect(dsn)
    try:
        got = await conn.fetchval(
            "SELECT pg_try_advisory_lock($1, $2)", 0x636F6F70, lock_key("scheduler")
        )
        assert got is True
    finally:
        await conn.close()


async def test_bulk_sending_is_inherited_by_tasks_it_creates() -> None:
    seen: list[bool] = []

    async def probe() -> None:
        seen.append(is_bulk())

    with bulk_sending():
        task = asyncio.create_task(probe())
    await task
    await asyncio.create_task(probe())
    assert seen == [True, False]


async def _fresh_budget(postgresql_url: str, limit: Limit) -> SharedBudget:
    budget = SharedBudget(asyncpg_dsn(postgresql_url), {"telegram": limit})
    conn = await asyncpg.connect(budget.dsn)
    try:
        await conn.execute("DELETE FROM send_budget")
    finally:
        await conn.close()
    return budget


async def test_budget_is_shared_by_every_taker(postgresql_url: str) -> None:
    # Three "workers" with their own connections take slots for 40 chats at once: the database
    # grants at most per_second in any window, whoever asks.
    limit = Limit(per_second=10, per_chat_interval=1.0, reserve=2)
    budgets = [await _fresh_budget(postgresql_url, limit) for _ in range(3)]
    granted: list[float] = []

    async def send(budget: SharedBudget, chat: int) -> None:
        await budget.take("telegram", str(chat), bulk=False)
        granted.append(time.monotonic())

    try:
        await asyncio.gather(*(send(budgets[i % 3], i) for i in range(25)))
    finally:
        for b in budgets:
            await b.close()
    conn = await asyncpg.connect(budgets[0].dsn)
    try:
        ats = [r["at"] for r in await conn.fetch("SELECT at FROM send_budget ORDER BY at")]
    finally:
        await conn.close()
    assert len(ats) == 25
    # By the database's clock: never more than 10 slots within any window of 1.05 s.
    for i, at in enumerate(ats):
        assert sum(1 for x in ats[i:] if x < at + 1.05) <= 10


async def test_bulk_leaves_the_reserve_to_replies_and_chats_are_spaced(
    postgresql_url: str,
) -> None:
    limit = Limit(per_second=10, per_chat_interval=1.0, reserve=3)
    budget = await _fresh_budget(postgresql_url, limit)
    try:
        for chat in range(7):  # bulk may use 10 - 3 slots of a window
            assert await budget._try("telegram", f"b{chat}", True, 7, 1.0, 0.0) == 0
        assert await budget._try("telegram", "b8", True, 7, 1.0, 0.0) > 0
        assert await budget._try("telegram", "r1", False, 10, 1.0, 0.0) == 0  # a reply fits
        # one chat: a second message waits for the per-chat interval
        assert await budget._try("telegram", "r1", False, 10, 1.0, 0.0) > 0.5
    finally:
        await budget.close()


@pytest.mark.parametrize("name", ["telegram", "zalo"])
def test_default_limits_keep_a_reserve(name: str) -> None:
    from bot.channels.budget import LIMITS

    limit = LIMITS[name]
    assert 0 < limit.reserve < limit.per_second
    assert limit.per_chat_interval >= 1.0


async def test_an_update_delivered_to_two_workers_is_handled_once(
    small_app: App, settings: Settings
) -> None:
    # Two workers: two apps, two engines, one database. Telegram resends an update to the
    # second one (the first was slow to answer): the second sees it was handled.
    other = build_app(
        replace(settings, knowledge_dir=small_app.settings.knowledge_dir), small_app.kb
    )
    try:
        for app in (small_app, other):
            app.conversation.once_channels = frozenset({"telegram"})
        update = Incoming(channel="telegram", user_id="77", text="/help", update_id="4242")
        first = await small_app.conversation.handle(update)
        again = await other.conversation.handle(update)
        assert first.replies and first.handler != "duplicate"
        assert again.handler == "duplicate" and again.replies == []
        # Without the setting (one SQLite process) updates are not looked up.
        small_app.conversation.once_channels = frozenset()
        fresh = Incoming(channel="telegram", user_id="77", text="/help", update_id="4243")
        assert (await small_app.conversation.handle(fresh)).replies
    finally:
        await other.close()
