"""A process that delivers a broadcast, to be killed (``kill -9``) at random moments by
tests/test_broadcast_crash.py. Not a test itself.

Usage: python tests/broadcast_send_loop.py DATABASE_URL DELIVERED_FILE START_ISO

The delivery engine runs with a sender for the console channel that "delivers" a message by
appending the member's id to DELIVERED_FILE (one ``os.write`` on an O_APPEND file: a line is
there or not, never half). The engine's clock starts at START_ISO and runs on in real time, so
a later process can be started past the lease of the rows a killed one had claimed. Prints
``ready`` once started and exits 0 when no row is left to deliver.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import build_app
from bot.channels.delivery import DeliveryEngine
from ground.messages import Reply
from ground.settings import Settings
from knowledge.base import KnowledgeStore

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"


class FileSender:
    channel = "console"
    per_second = 10_000.0
    per_chat_interval = 0.0

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    async def send(self, user_id: str, reply: Reply) -> None:
        await asyncio.sleep(0.002)  # the API call takes a moment: kills land inside it too
        os.write(self.fd, f"{user_id}\n".encode())

    async def progress(self, user_id: str, text: str, message_id: str | None) -> str | None:
        return message_id or "p1"


async def main(url: str, delivered: str, start: str) -> int:
    app = build_app(Settings(database_url=url), KnowledgeStore(FIXTURE_KB))
    began, mono = datetime.fromisoformat(start), asyncio.get_running_loop().time()

    def clock() -> datetime:
        return began + timedelta(seconds=asyncio.get_running_loop().time() - mono)

    conv = app.conversation
    engine = DeliveryEngine(conv.sessions, [FileSender(delivered)], conv.translations,
                            clock=clock, batch=40, max_wave=10)  # fmt: skip
    print("ready", flush=True)
    try:
        await engine.drain()
        return 0
    finally:
        await app.close()


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(*sys.argv[1:4])))
