"""Staff console render time: p50 and p99 per page with 1,400 cooperatives and 40,000 members.

The data are made here, at run time, in a fresh database: 1,400 cooperatives over 60
communes, 40,000 members (one in ten linked to a cooperative), a report period with three
cooperatives in five submitted, 5,000 questions, 300 open tickets, 40 events, 5,000 audit
entries and a broadcast to every member (40,000 outbox rows, half sent). Each page is then
requested ``--runs`` times through the ASGI app (no network, the cost of Starlette, the
operations, the queries and Jinja2) by a signed-in admin, after one warm-up request.

    .venv/bin/python bench/web.py [--runs 50] [--database-url URL]

Without ``--database-url`` a new SQLite file is used; a PostgreSQL database must be empty.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from bot.app import build_app  # noqa: E402
from bot.pages import routes  # noqa: E402
from bot.pages.base import COOKIE  # noqa: E402
from bot.web import create_web_app  # noqa: E402
from db import web_access  # noqa: E402
from db.models import (  # noqa: E402
    SECTORS,
    AuditEntry,
    Broadcast,
    Cooperative,
    Event,
    Member,
    OutboxMessage,
    Question,
    Report,
    ReportPeriod,
    Ticket,
    TicketMessage,
)
from ground.settings import Settings  # noqa: E402

NOW = datetime.now(UTC)
COOPS, MEMBERS = 1_400, 40_000
PAGES = [
    "/console/",
    "/console/tickets",
    "/console/coops",
    "/console/coops?q=htx+5&nganh=van_tai&trang=2",
    "/console/reports",
    "/console/reports?loc=missing&trang=5",
    "/console/broadcasts",
    "/console/broadcasts/1",
    "/console/events",
    "/console/questions",
    "/console/audit",
    "/console/audit?viec=link_approved&trang=3",
]


async def _fill(app: Any) -> None:
    rng = random.Random(14)
    period = (NOW.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    async with app.conversation.sessions() as s:
        await s.execute(insert(Cooperative), [
            dict(code=f"B{i:05d}", name=f"HTX {i} {rng.choice(['Chè', 'Lúa', 'Vận tải', 'Dệt'])}",
                 kind="htx", sector=rng.choice(SECTORS), commune=f"Xã Số {i % 60}",
                 commune_code=1000 + i % 60, phone=f"09{i:08d}", status="active",
                 created_at=NOW, updated_at=NOW)
            for i in range(COOPS)
        ])  # fmt: skip
        await s.execute(insert(Member), [
            dict(channel="telegram", user_id=str(10_000 + i), display_name=f"Thành viên {i}",
                 locale="vi", role="member", opted_out=i % 50 == 0, unreachable=False,
                 created_at=NOW, cooperative_id=(i % COOPS) + 1 if i % 10 == 0 else None,
                 coop_role="manager" if i % 10 == 0 else None, phone=f"08{i:08d}",
                 link_status=("pending" if i % 1000 == 0 else "approved") if i % 10 == 0 else None)
            for i in range(MEMBERS)
        ])  # fmt: skip
        admin = Member(channel="console", user_id="boss", locale="vi", role="admin",
                       opted_out=False, unreachable=False, created_at=NOW)  # fmt: skip
        s.add(admin)
        s.add(ReportPeriod(period=period, status="open", opened_at=NOW, opened_by="schedule"))
        await s.execute(insert(Report), [
            dict(period=period, cooperative_id=c, answers={"members_official": 10, "revenue": 5_000_000},
                 version=1, submitted_at=NOW)
            for c in range(1, COOPS + 1) if c % 5 < 3
        ])  # fmt: skip
        await s.execute(insert(Question), [
            dict(channel="telegram", text=f"câu hỏi số {i % 400} về vốn vay", folded=f"cau hoi so {i % 400} ve von vay",
                 matched=i % 3 != 0, vote=-1 if i % 17 == 0 else None, score=0.5,
                 created_at=NOW - timedelta(hours=i % 700))
            for i in range(5_000)
        ])  # fmt: skip
        tickets = [Ticket(member_id=i + 1, status="open", question=f"Hỏi <b>{i}</b>", suggest_kb=False,
                          undeliverable=False, created_at=NOW - timedelta(minutes=i),
                          updated_at=NOW) for i in range(300)]  # fmt: skip
        s.add_all(tickets)
        await s.flush()
        s.add_all(TicketMessage(ticket_id=t.id, sender="member", text=t.question, created_at=NOW)
                  for t in tickets)  # fmt: skip
        s.add_all(Event(title=f"Hội chợ {i}", starts_at=NOW + timedelta(days=i + 1),
                        created_by="cli", created_at=NOW, updated_at=NOW) for i in range(40))  # fmt: skip
        await s.execute(insert(AuditEntry), [
            dict(actor=f"telegram:{i % 30}", action=rng.choice(["link_approved", "broadcast_sent", "export_reports"]),
                 target=f"member:{i}", created_at=NOW - timedelta(minutes=i))
            for i in range(5_000)
        ])  # fmt: skip
        b = Broadcast(text="Thông báo thử", audience="all", status="sending", created_at=NOW,
                      started_at=NOW, total=MEMBERS)  # fmt: skip
        s.add(b)
        await s.flush()
        await s.execute(insert(OutboxMessage), [
            dict(member_id=i + 1, channel="telegram", text="Thông báo thử", broadcast_id=b.id,
                 status="sent" if i % 2 else "queued", attempts=0, created_at=NOW)
            for i in range(MEMBERS)
        ])  # fmt: skip
        await s.flush()
        web_access.add_session(s, admin.id, "bench-token", NOW, NOW + timedelta(hours=8))
        await s.commit()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main(url: str, runs: int) -> None:
    url = url.replace("sqlite:///", "sqlite+aiosqlite:///", 1)
    url = url.replace("postgresql://", "postgresql+asyncpg://", 1)
    settings = Settings(database_url=url, admins=frozenset({("console", "boss")}))
    app = build_app(settings)
    await app.upgrade_database()
    started = time.perf_counter()
    await _fill(app)
    print(
        f"data: {COOPS:,} cooperatives, {MEMBERS:,} members ({time.perf_counter() - started:.1f} s)"
    )
    web = create_web_app(app.engine, app.kb, pages=routes(app.console()))
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        http.cookies.set(COOKIE, "bench-token", path="/console")
        print(f"{'page':<45} {'p50 ms':>8} {'p99 ms':>8}")
        for path in PAGES:
            r = await http.get(path)
            assert r.status_code == 200, (path, r.status_code, r.text[:300])
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                r = await http.get(path)
                times.append((time.perf_counter() - t0) * 1000)
            print(f"{path:<45} {statistics.median(times):8.1f} {_pct(times, 0.99):8.1f}")
    await app.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        asyncio.run(main(db_url, args.runs))
