"""A process that submits monthly reports as fast as it can, to be killed (``kill -9``) at
random moments by tests/test_reports_crash.py. Not a test itself.

Usage: python tests/report_submit_loop.py DATABASE_URL

For each representative (user ids ``rep…``, console channel, ordered): a draft waiting at its
summary is sent ("Gửi"); a report at version 1 is corrected once ("Sửa báo cáo", then
"Gửi"). Prints ``ready`` once started and exits 0 when every report is at version 2; exits 3
if the member is ever told their report "conflicts" with another.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from bot.app import build_app
from db.models import Member, Report
from ground.messages import Incoming
from ground.settings import Settings
from knowledge.base import KnowledgeStore

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"
CONFLICT = "Trong lúc anh/chị điền"


async def main(url: str) -> int:
    app = build_app(Settings(database_url=url), KnowledgeStore(FIXTURE_KB))
    conv = app.conversation

    async def press(user_id: str, action: str) -> str:
        out = await conv.handle(Incoming(channel="console", user_id=user_id, action=action))
        return "\n".join(r.text for r in out.replies)

    print("ready", flush=True)
    try:
        while True:
            async with conv.sessions() as s:
                stmt = (
                    select(Member.user_id, Member.flow, Member.flow_data, Report.version)
                    .outerjoin(
                        Report,
                        (Report.cooperative_id == Member.cooperative_id)
                        & (Report.period == "2026-11"),
                    )
                    .where(Member.user_id.like("rep%"))
                    .order_by(Member.user_id)
                )
                people = (await s.execute(stmt)).all()
            todo = [p for p in people if (p.version or 0) < 2]
            if not todo:
                return 0
            for user_id, flow, _data, version in todo:
                if flow != "report":
                    await press(user_id, "rp:fix:2026-11")
                    await press(user_id, "rp:sum")
                if CONFLICT in await press(user_id, "rp:send"):
                    print(f"conflict for {user_id} at version {version}", flush=True)
                    return 3
    finally:
        await app.close()


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(sys.argv[1])))
