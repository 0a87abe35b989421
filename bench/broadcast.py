"""Broadcast delivery against a fake Bot API that enforces Telegram's limits.

The fake answers 429 (retry after 1 s) when more than ``--limit`` messages arrive in any
one-second window, or two to one chat within a second, and takes ``--latency`` ms per call.
The whole production path runs: DeliveryEngine (claims, pacing, row states in SQLite) →
TelegramSender → TelegramChannel.send_reply → python-telegram-bot with TelegramLimiter.

    .venv/bin/python bench/broadcast.py [--recipients 10000] [--latency 150] [--skip-slow]

Prints, for 30 messages/s (Telegram's limit): the rate when waves go one at a time (the
obvious way, where latency sets the rate) next to the engine's (up to a second's worth in
flight, the limit sets it), and for a limit raised to 1,000/s (the engine's own overhead):
messages, seconds, achieved rate and its share of the limit, 429s. Then, at both limits, the
engine in a child process killed with SIGKILL halfway and the queue resumed by a new
process: duplicates, gaps, and the uncertain rows (``sending`` at the kill), which the policy
fails as "interrupted" instead of re-sending; how many of those had in fact arrived.
At 30/s, 10,000 recipients take about six minutes: ``--recipients 1000`` for a quick look.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from bot.app import App, build_app  # noqa: E402
from bot.channels.delivery import DeliveryEngine  # noqa: E402
from bot.channels.telegram import TelegramChannel, TelegramLimiter, TelegramSender  # noqa: E402
from db.broadcasts import enqueue_rows  # noqa: E402
from db.models import BROADCAST_SENDING, Broadcast, Member, OutboxMessage  # noqa: E402
from ground.messages import Reply  # noqa: E402
from ground.settings import Settings  # noqa: E402
from knowledge.base import KnowledgeStore  # noqa: E402
from tests.telegram_fake import TOKEN, FakeTelegram  # noqa: E402

STAFF_CHAT = 1


class LimitedTelegram(FakeTelegram):
    """A fake Bot API that enforces the limits and counts what reached each chat."""

    def __init__(self, per_second: int, latency: float, log_fd: int | None = None) -> None:
        super().__init__()
        self.log_fd = log_fd
        self.per_second = per_second
        self.latency = latency
        self.window: deque[float] = deque()
        self.last_by_chat: dict[int, float] = {}
        self.delivered: Counter[int] = Counter()
        self.too_many = 0

    async def do_request(self, url: str, method: str, request_data: Any = None, *args: Any,
                         **kwargs: Any) -> tuple[int, bytes]:  # fmt: skip
        api_method = url.rsplit("/", 1)[-1]
        if api_method not in ("sendMessage", "editMessageText"):
            return await super().do_request(url, method, request_data, *args, **kwargs)
        chat = int(request_data.parameters["chat_id"])
        now = time.monotonic()
        while self.window and self.window[0] <= now - 1.0:
            self.window.popleft()
        if len(self.window) >= self.per_second or now - self.last_by_chat.get(chat, -9) < 1.0:
            self.too_many += 1
            body = {"ok": False, "error_code": 429, "description": "Too Many Requests",
                    "parameters": {"retry_after": 1}}  # fmt: skip
            await asyncio.sleep(self.latency)
            return 429, json.dumps(body).encode()
        self.window.append(now)
        self.last_by_chat[chat] = now
        if api_method == "sendMessage" and chat != STAFF_CHAT:
            self.delivered[chat] += 1
            if self.log_fd is not None:  # one write per message: it survives a kill -9
                os.write(self.log_fd, f"{chat}\n".encode())
        await asyncio.sleep(self.latency)  # the answer travels back: a kill here is uncertain
        message = self._message(api_method, dict(request_data.parameters))
        return 200, json.dumps({"ok": True, "result": message}).encode()


async def _open(db: Path) -> tuple[App, int]:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{db}")
    app = build_app(settings, KnowledgeStore(ROOT / "tests" / "fixtures" / "kb"))
    return app, 0


async def _setup(db: Path, recipients: int) -> tuple[App, int]:
    app, _ = await _open(db)
    await app.upgrade_database()
    now = datetime.now(UTC)
    async with app.conversation.sessions() as s:
        staff = Member(channel="telegram", user_id=str(STAFF_CHAT), locale="vi", role="staff",
                       opted_out=False, unreachable=False, created_at=now)  # fmt: skip
        s.add(staff)
        members = [
            Member(
                channel="telegram",
                user_id=str(100000 + i),
                locale="vi",
                role="member",
                opted_out=False,
                unreachable=False,
                created_at=now,
            )
            for i in range(recipients)
        ]
        s.add_all(members)
        await s.flush()
        broadcast = Broadcast(text="x", audience="all", status=BROADCAST_SENDING,
                              created_by=staff.id, created_at=now, started_at=now, total=0)  # fmt: skip
        s.add(broadcast)
        await s.flush()
        text = "Hội chợ OCOP Lào Cai 20–22/12: HTX đăng ký gian hàng trước 10/12."
        await enqueue_rows(s, broadcast, members, lambda m: Reply(text), now)
        await s.commit()
        return app, broadcast.id


def _engine(
    app: App, api: LimitedTelegram, rate: int, in_flight: int | None = None
) -> tuple[TelegramChannel, DeliveryEngine]:
    channel = TelegramChannel(app.conversation, TOKEN, request=api,
                              limiter=TelegramLimiter(overall_per_second=rate))  # fmt: skip
    conv = app.conversation
    engine = DeliveryEngine(conv.sessions, [TelegramSender(channel, per_second=rate)],
                            conv.translations, clock=conv.clock, max_in_flight=in_flight)  # fmt: skip
    return channel, engine


async def _statuses(app: App) -> Counter[str]:
    async with app.conversation.sessions() as s:
        stmt = select(OutboxMessage.status, OutboxMessage.error).where(
            OutboxMessage.broadcast_id.is_not(None)
        )
        return Counter(
            f"{st}:{(er or '').split(':')[0]}" if st != "sent" else st
            for st, er in (await s.execute(stmt)).all()
        )


async def rate_run(
    recipients: int, rate: int, latency: float, in_flight: int | None = None
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app, _ = await _setup(Path(tmp) / "bench.db", recipients)
        api = LimitedTelegram(rate, latency)
        channel, engine = _engine(app, api, rate, in_flight)
        async with channel.application:
            started = time.perf_counter()
            await engine.drain()
            elapsed = time.perf_counter() - started
        sent = sum(api.delivered.values())
        achieved = sent / elapsed
        flying = "one wave at a time" if in_flight == 1 else "a second's worth in flight"
        print(f"limit {rate:>5}/s, {flying:>26}: {sent} messages in {elapsed:7.1f} s = {achieved:7.1f}/s "
              f"({achieved / rate:6.1%} of the limit), 429 answers: {api.too_many}, "
              f"rows: {dict(await _statuses(app))}")  # fmt: skip
        await app.close()


def _child(db: Path, log: Path, rate: int, latency: float, mode: str) -> subprocess.Popen[bytes]:
    args = ["--worker", str(db), "--log", str(log), "--rate", str(rate),
            "--latency", str(latency * 1000), "--mode", mode]  # fmt: skip
    return subprocess.Popen([sys.executable, __file__, *args])


async def worker(db: Path, log: Path, rate: int, latency: float, mode: str) -> None:
    """A separate process: runs the engine (``run``, until killed) or drains the queue."""
    settings = Settings(database_url=f"sqlite+aiosqlite:///{db}")
    app = build_app(settings, KnowledgeStore(ROOT / "tests" / "fixtures" / "kb"))
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    api = LimitedTelegram(rate, latency, fd)
    channel, engine = _engine(app, api, rate)
    async with channel.application:
        await (engine.run(idle=0.2) if mode == "run" else engine.drain())
    await app.close()


def _arrived(log: Path) -> Counter[int]:
    return Counter(int(line) for line in log.read_text().split())


async def kill_run(recipients: int, rate: int, latency: float) -> None:
    """The engine in a child process, ``kill -9``-ed halfway; a new process resumes. What
    reached the fake API is written by the fake (O_APPEND) before it answers, so it
    survives the kill."""
    with tempfile.TemporaryDirectory() as tmp:
        db, log = Path(tmp) / "bench.db", Path(tmp) / "arrived.log"
        app, _ = await _setup(db, recipients)
        await app.close()
        log.touch()
        child = _child(db, log, rate, latency, "run")
        while sum(_arrived(log).values()) < recipients // 2:  # noqa: ASYNC110 (polling)
            await asyncio.sleep(0.01)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        app, _ = await _open(db)
        at_kill = await _statuses(app)
        arrived_at_kill = set(_arrived(log))
        started = time.perf_counter()
        resumed = _child(db, log, rate, latency, "drain")
        while resumed.poll() is None:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        final = await _statuses(app)
        async with app.conversation.sessions() as s:
            stmt = (
                select(Member.user_id, OutboxMessage.error)
                .join(Member, Member.id == OutboxMessage.member_id)
                .where(OutboxMessage.broadcast_id.is_not(None))
            )
            errors = {int(uid): err for uid, err in (await s.execute(stmt)).all()}
        arrived = _arrived(log)
        duplicates = sum(1 for n in arrived.values() if n > 1)
        uncertain = [c for c, e in errors.items() if e == "interrupted"]
        gaps = [c for c in errors if arrived[c] == 0 and c not in uncertain]
        uncertain_arrived = sum(1 for c in uncertain if c in arrived_at_kill)
        print(f"kill -9 and resume ({recipients} recipients, limit {rate}/s): at the kill "
              f"{at_kill.get('sending:', 0)} sending, {at_kill.get('claimed:', 0)} claimed, "
              f"{at_kill.get('sent', 0)} sent; resumed by a new process in {elapsed:.1f} s")  # fmt: skip
        print(f"  duplicates: {duplicates}; gaps (never sent, not reported): {len(gaps)}; "
              f"uncertain (failed 'interrupted', reported to staff): {len(uncertain)}, of "
              f"which had arrived: {uncertain_arrived}, missing: "
              f"{len(uncertain) - uncertain_arrived}; rows: {dict(final)}")  # fmt: skip
        await app.close()


async def main(args: argparse.Namespace) -> None:
    logging.disable(logging.WARNING)  # 429s and recoveries are counted, not logged
    latency = args.latency / 1000
    if args.worker:
        await worker(Path(args.worker), Path(args.log), args.rate, latency, args.mode)
        return
    print(f"{args.recipients} recipients, fake API latency {args.latency:g} ms, SQLite")
    if not args.skip_slow:
        await rate_run(min(args.compare, args.recipients), 30, latency, in_flight=1)
        await rate_run(args.recipients, 30, latency)
        await kill_run(args.recipients, 30, latency)
    await rate_run(args.recipients, 1000, latency)
    await kill_run(args.recipients, 1000, latency)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10000)
    parser.add_argument("--latency", type=float, default=20.0, help="ms per API call")
    parser.add_argument("--compare", type=int, default=300,
                        help="recipients of the one-wave-at-a-time run (it is slow)")  # fmt: skip
    parser.add_argument("--skip-slow", action="store_true", help="skip the 30/s runs")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # the child process: its database
    parser.add_argument("--log", help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=int, default=30, help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="run", help=argparse.SUPPRESS)
    asyncio.run(main(parser.parse_args()))
