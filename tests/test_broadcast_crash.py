"""A broadcast survives ``kill -9`` (#16): a real process delivering a broadcast is killed with
SIGKILL at random moments and started again (past the lease of what the dead one had
claimed). At the end every recipient's row is final, nobody got the notice twice, everybody
either got it or is counted as "may not have arrived" (the one wave in flight), every row
marked sent was delivered, the broadcast is done and its author has the final report. Both
databases (on PostgreSQL the rows come back by lease, as with several workers)."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.app import App
from db.broadcasts import LEASE
from db.models import Broadcast, Member, OutboxMessage
from tests.test_broadcasts import _members, _send_to_all, _staff_outbox

LOOP = Path(__file__).parent / "broadcast_send_loop.py"
ROOT = LOOP.parent.parent
PEOPLE = 200
KILLS = 6


def _run_and_kill(url: str, delivered: Path, start: str, delay: float | None) -> int | None:
    proc = subprocess.Popen(
        [sys.executable, str(LOOP), url, str(delivered), start],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"ready"
    if delay is None:
        proc.communicate(timeout=300)
        return proc.returncode
    try:
        proc.wait(timeout=delay)
        return proc.returncode
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return None


async def _rows(app: App) -> list[tuple[str, str, str | None]]:
    async with app.conversation.sessions() as s:
        stmt = (
            select(Member.user_id, OutboxMessage.status, OutboxMessage.error)
            .join(Member, Member.id == OutboxMessage.member_id)
            .where(OutboxMessage.broadcast_id.is_not(None))
        )
        return [tuple(r) for r in (await s.execute(stmt)).all()]  # type: ignore[misc]


def _delivered(path: Path) -> Counter[str]:
    return Counter(path.read_text().split()) if path.exists() else Counter()


async def test_killing_the_delivery_process_loses_and_doubles_nobody(
    app: App, tmp_path: Path
) -> None:
    await _members(app, *(f"m{i:03d}" for i in range(PEOPLE)))
    await _send_to_all(app)
    url, delivered = app.settings.database_url, tmp_path / "delivered.txt"
    start = app.conversation.clock()
    rng = random.Random(16)
    killed = 0
    for run in range(KILLS + 1):
        # Each process starts past the lease of the rows the one before had claimed.
        begins = (start + run * (LEASE + timedelta(minutes=2))).isoformat()
        code = await asyncio.to_thread(
            _run_and_kill, url, delivered, begins, rng.uniform(0.05, 0.6) if run < KILLS else None
        )
        killed += code is None
        assert code in (None, 0)
        got = _delivered(delivered)
        assert max(got.values(), default=1) == 1, got.most_common(3)  # nobody twice, ever
        sent = {u for u, status, _ in await _rows(app) if status == "sent"}
        assert sent <= set(got)  # a row marked sent was delivered
    assert killed  # at least one kill landed while it was sending
    rows = await _rows(app)
    got = _delivered(delivered)
    assert len(rows) == PEOPLE and {status for _, status, _ in rows} <= {"sent", "failed"}
    uncertain = {u for u, status, error in rows if status == "failed"}
    assert all(error == "interrupted" for _, status, error in rows if status == "failed")
    assert set(got) | uncertain == {u for u, _, _ in rows}  # nobody lost
    assert len(uncertain) <= 10 * killed  # at most one wave in flight per kill
    async with app.conversation.sessions() as s:
        assert (await s.execute(select(Broadcast.status))).scalar_one() == "done"
    (report,) = await _staff_outbox(app)
    assert str(PEOPLE - len(uncertain)) in report
