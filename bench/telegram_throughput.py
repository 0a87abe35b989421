"""Updates per second through the whole Telegram stack, offline.

Real Update JSON → python-telegram-bot Application (per-user ordering) → router → handlers →
knowledge search → SQLite → rendered replies recorded by the fake Bot API (tests/telegram_fake).
Rate limiting is off: it would measure Telegram's limits (1 message/s per chat), not the bot.

    .venv/bin/python bench/telegram_throughput.py [--updates 2000] [--users 1000]
        [--database-url postgresql+asyncpg://127.0.0.1/coopbot_bench] [--profile 25]

``--database-url`` must name an empty database (default: SQLite in a temporary file);
``--profile N`` prints cProfile's N costliest functions (own time) of the many-users run.

Prints updates/s for one user and for many distinct users, a breakdown (the core alone, the
channel alone with a canned reply) and the peak resident memory.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import cProfile
import gc
import pstats
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram import Update  # noqa: E402

from bot.app import App, build_app  # noqa: E402
from bot.channels.telegram import TelegramChannel  # noqa: E402
from ground.messages import Button, Incoming, Outcome, Reply  # noqa: E402
from ground.settings import Settings  # noqa: E402
from knowledge.base import DATA_DIR, KnowledgeError, KnowledgeStore  # noqa: E402
from tests.telegram_fake import TOKEN, FakeTelegram, message_update  # noqa: E402

QUESTIONS = [
    "Thành lập HTX cần ít nhất bao nhiêu thành viên?",
    "thanh lap htx can it nhat bao nhieu thanh vien",
    "hồ sơ đăng ký hợp tác xã gồm những gì",
    "ho so dang ky htx gom gi",
    "/help",
    "giá vàng hôm nay bao nhiêu",
]


def _knowledge() -> tuple[KnowledgeStore, str]:
    try:
        kb = KnowledgeStore(DATA_DIR)
        return kb, f"knowledge/data ({len(kb.entries)} entries)"
    except KnowledgeError:
        kb = KnowledgeStore(ROOT / "tests" / "fixtures" / "kb")
        return kb, f"tests/fixtures/kb ({len(kb.entries)} entries; knowledge/data has problems)"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


async def _run(channel: TelegramChannel, api: FakeTelegram, users: list[int]) -> float:
    """Feed one update per entry of ``users``; returns updates per second."""
    queue = channel.application.update_queue
    payloads = [message_update(u, QUESTIONS[i % len(QUESTIONS)]) for i, u in enumerate(users)]
    before = len(api.calls)
    gc.collect()
    started = time.perf_counter()
    for data in payloads:
        await queue.put(Update.de_json(data, channel.bot))
    await queue.join()
    elapsed = time.perf_counter() - started
    replies = len(api.calls) - before
    assert replies >= len(users), f"only {replies} replies for {len(users)} updates"
    return len(users) / elapsed


async def _core_alone(app: App, n: int) -> float:
    """The conversation core without Telegram, on the same questions (for the breakdown)."""
    started = time.perf_counter()
    for i in range(n):
        text = QUESTIONS[i % len(QUESTIONS)]
        await app.conversation.handle(Incoming("telegram", "8", text=text, numbered_buttons=False))
    return n / (time.perf_counter() - started)


async def _channel_alone(app: App, n: int) -> float:
    """The Telegram stack with the core replaced by a canned reply (for the breakdown)."""

    async def canned(incoming: Incoming) -> Outcome:
        return Outcome([Reply("Câu trả lời. " * 30, ((Button("👍", "fb:up:1"),),))])

    api = FakeTelegram()
    conversation = copy.copy(app.conversation)
    conversation.handle = canned  # type: ignore[method-assign]
    channel = TelegramChannel(conversation, TOKEN, request=api, limiter=None)
    await channel.initialize(retries=0)
    await channel.application.start()
    try:
        return await _run(channel, api, [20_000 + i for i in range(n)])
    finally:
        await channel.stop()


async def main(n_updates: int, n_users: int, url: str | None, profile: int) -> None:
    kb, kb_label = _knowledge()
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        label = "PostgreSQL" if url.startswith("postgresql") else "SQLite (WAL)"
        app = build_app(Settings(database_url=url, telegram_bot_token=TOKEN), kb)
        await app.upgrade_database()
        api = FakeTelegram()
        running = app.settings.max_running_updates  # as build_channel chooses it
        channel = TelegramChannel(
            app.conversation, TOKEN, request=api, limiter=None, max_running=running
        )
        await channel.initialize(retries=0)
        await channel.application.start()
        try:
            print(f"knowledge base: {kb_label}; database: {label}; rate limiting off")
            await _run(channel, api, [1] * 50)  # warm-up
            one = await _run(channel, api, [7] * n_updates)
            print(f"whole stack, 1 user:       {n_updates} updates {one:8.0f} updates/s")
            many_users = [10_000 + (i % n_users) for i in range(n_updates)]
            profiler = cProfile.Profile() if profile else None
            if profiler:
                profiler.enable()
            many = await _run(channel, api, many_users)
            if profiler:
                profiler.disable()
                pstats.Stats(profiler).sort_stats("tottime").print_stats(profile)
            print(f"whole stack, {n_users} users: {n_updates} updates {many:8.0f} updates/s")
        finally:
            await channel.stop()
        core = await _core_alone(app, n_updates // 2)
        print(f"breakdown: core alone (search + database) {core:8.0f} updates/s")
        chan = await _channel_alone(app, n_updates)
        print(f"breakdown: Telegram channel alone (canned) {chan:8.0f} updates/s")
        print(f"peak memory (max RSS): {_peak_rss_mb():.0f} MB")
        await app.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--database-url", help="an empty database; default: SQLite, temporary")
    parser.add_argument("--profile", type=int, default=0, help="print the N costliest calls")
    args = parser.parse_args()
    asyncio.run(main(args.updates, args.users, args.database_url, args.profile))
