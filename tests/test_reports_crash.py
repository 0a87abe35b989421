"""Submitting a report is one transaction (#16): a real process that submits and corrects
reports in a loop is killed with SIGKILL at random moments; after every kill, each report has
exactly its versions 1…N, and every open draft starts from the report's current version (so
its member is never told their own report "conflicts"). Both databases."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot.app import App
from db.models import Cooperative, Member, Report, ReportPeriod, ReportVersion

LOOP = Path(__file__).parent / "report_submit_loop.py"
ROOT = LOOP.parent.parent
PEOPLE = 40
KILLS = 10
ANSWERS = {
    "members_official": 12,
    "members_joined": 2,
    "members_left": 0,
    "workers_regular": 15,
    "revenue": 46_000_000,
    "main_products": "Chè",
    "certifications": ["vietgap"],
    "trade_fairs": 1,
    "support_received": False,
    "difficulties": None,
}


async def _seed(app: App) -> None:
    """Representatives with a draft at its summary, who wrote a moment ago (so pressing
    "Gửi" writes nothing before the report itself)."""
    now = datetime.now(UTC)
    async with app.conversation.sessions() as s:
        s.add(ReportPeriod(period="2026-11", status="open", opened_at=now, opened_by="test"))
        for i in range(PEOPLE):
            coop = Cooperative(code=f"K{i:03d}", name=f"HTX {i}", kind="htx", sector="khac",
                               commune="Xã Bắc Hà", commune_code=1, status="active",
                               created_at=now, updated_at=now)  # fmt: skip
            s.add(coop)
            await s.flush()
            draft = {"period": "2026-11", "coop": coop.id, "answers": ANSWERS, "base": 0,
                     "step": "summary"}  # fmt: skip
            s.add(Member(channel="console", user_id=f"rep{i:03d}", display_name=f"Rep {i}",
                         locale="vi", role="member", opted_out=False, unreachable=False,
                         created_at=now, last_seen_at=now, cooperative_id=coop.id,
                         coop_role="manager",
                         link_status="approved", flow="report", flow_data=draft))  # fmt: skip
        await s.commit()


def _run_and_kill(url: str, delay: float | None) -> int | None:
    """Start the loop; SIGKILL it ``delay`` seconds after it is ready (``None``: let it
    finish). Returns its exit code (``None`` when killed)."""
    proc = subprocess.Popen(
        [sys.executable, str(LOOP), url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"ready"
    if delay is None:
        out, _ = proc.communicate(timeout=300)
        assert b"conflict" not in out, out
        return proc.returncode
    try:
        proc.wait(timeout=delay)
        return proc.returncode  # finished before the kill
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return None


async def _check_invariants(app: App) -> int:
    """Every report has exactly versions 1..N; every open draft starts from its report's
    current version. Returns how many versions exist."""
    async with app.conversation.sessions() as s:
        reports = {r.cooperative_id: r for r in (await s.execute(select(Report))).scalars()}
        versions: dict[int, list[int]] = {}
        for v in (await s.execute(select(ReportVersion).order_by(ReportVersion.version))).scalars():
            versions.setdefault(v.report_id, []).append(v.version)
        members = (await s.execute(select(Member).where(Member.user_id.like("rep%")))).scalars()
        for r in reports.values():
            assert versions.get(r.id) == list(range(1, r.version + 1)), (r.id, r.version)
        assert set(versions) <= {r.id for r in reports.values()}
        for m in members:
            if m.flow == "report":
                report = reports.get(m.cooperative_id or 0)
                assert m.flow_data["base"] == (report.version if report else 0), m.user_id
        return sum(len(v) for v in versions.values())


async def test_killing_the_process_never_leaves_half_a_submission(app: App) -> None:
    await _seed(app)
    url = app.settings.database_url
    rng = random.Random(16)
    killed = 0
    for _ in range(KILLS):
        code = await asyncio.to_thread(_run_and_kill, url, rng.uniform(0.0, 0.4))
        killed += code is None
        assert code in (None, 0)
        await _check_invariants(app)
    assert killed  # at least one kill landed while it was submitting
    # Let it finish: every member gets through without being told of a conflict.
    assert await asyncio.to_thread(_run_and_kill, url, None) == 0
    assert await _check_invariants(app) == 2 * PEOPLE
