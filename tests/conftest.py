"""Shared fixtures.

Database tests run twice: on SQLite and on PostgreSQL. Each test run creates its own
PostgreSQL database (``coopbot_test_<random>``) and drops it at the end; tables are emptied
after every test. Without a server the PostgreSQL half is skipped, except under CI
(``CI=true``), where it fails.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.app import App, build_app
from db import migrate
from db.models import Base
from db.session import create_engine
from ground.messages import Incoming, Outcome
from ground.settings import Settings
from knowledge.base import DATA_DIR, KnowledgeStore

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"
PG_SERVER = os.environ.get("COOPBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_pg_asyncpg_dsn(PG_SERVER), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'coopbot.db'}"
    asyncio.run(_migrate(url))
    return url


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    name = f"coopbot_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # no server
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI and not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable ({exc}); set CI=true to make this an error")
    base = PG_SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{base}/{name}"
    asyncio.run(_migrate(url))
    yield url
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"{request.param}_url")


async def _truncate(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                await conn.execute(text(f"DELETE FROM {table.name}"))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def real_kb() -> KnowledgeStore:
    return KnowledgeStore(DATA_DIR)


@pytest.fixture(scope="session")
def fixture_kb() -> KnowledgeStore:
    return KnowledgeStore(FIXTURE_KB)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        admins=frozenset({("console", "boss"), ("telegram", "1000")}),
    )


@pytest.fixture
async def app(settings: Settings, real_kb: KnowledgeStore, clock: Clock) -> AsyncIterator[App]:
    application = build_app(settings, real_kb)
    application.conversation.clock = clock
    yield application
    await application.close()
    await _truncate(settings.database_url)


@pytest.fixture
async def small_app(
    settings: Settings, fixture_kb: KnowledgeStore, clock: Clock
) -> AsyncIterator[App]:
    application = build_app(replace(settings, knowledge_dir=FIXTURE_KB), fixture_kb)
    application.conversation.clock = clock
    yield application
    await application.close()
    await _truncate(settings.database_url)


class Chat:
    """Talk to the conversation core as one console user."""

    def __init__(self, app: App, user_id: str = "u1", channel: str = "console") -> None:
        self.app = app
        self.user_id = user_id
        self.channel = channel

    async def send(self, text: str | None = None, action: str | None = None) -> Outcome:
        incoming = Incoming(
            channel=self.channel,
            user_id=self.user_id,
            text=text,
            action=action,
            numbered_buttons=self.channel != "telegram",
        )
        return await self.app.conversation.handle(incoming)

    async def say(self, text: str) -> str:
        outcome = await self.send(text)
        return "\n\n".join(r.text for r in outcome.replies)


@pytest.fixture
async def zalo(small_app: App):  # type: ignore[no-untyped-def]
    """A Zalo channel on a fake Bot API (tests/zalo_fake.py)."""
    from tests.zalo_fake import zalo_bot

    async for bot in zalo_bot(small_app):
        yield bot


@pytest.fixture
def extra_commands(small_app: App):  # type: ignore[no-untyped-def]
    """Register throwaway commands on the router for one test (tests/zalo_fake.py)."""
    from tests.zalo_fake import extra_commands_of

    yield from extra_commands_of(small_app)
