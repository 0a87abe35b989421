"""Knowledge-base editing on the shipped base (174 entries), in a fresh SQLite file: loading
the shipped YAML, trying a question on a draft (first and later tries), publishing (the kb
check rules and the 578 questions of tests/data/qa_set.jsonl on the base before and after),
a running process picking the change up, and its poll when nothing changed.

    .venv/bin/python bench/kb_edit.py
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime

from db import migrate
from db.session import create_engine, session_factory
from knowledge.base import DATA_DIR, KnowledgeStore
from operations import knowledge_edit as ked
from operations import knowledge_sync as ksync
from operations.knowledge_live import LiveKnowledge
from operations.rights import CLI

QUESTION = "thanh lap htx can bao nhieu nguoi"


async def main() -> None:
    folder = tempfile.mkdtemp()
    engine = create_engine(f"sqlite+aiosqlite:///{folder}/bench.db")
    await migrate.upgrade(engine)
    kb = KnowledgeStore(DATA_DIR)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    async with sessions() as s:
        start = time.perf_counter()
        await ksync.sync(s, CLI, DATA_DIR, now)
        await s.commit()
        print(f"sync {len(kb.entries)} shipped entries: {time.perf_counter() - start:.2f} s")
    async with sessions() as s:
        edit = {"answer": "Ít nhất 05 thành viên chính thức."}
        await ked.save_draft(s, CLI, kb, "htx.min_members", edit, now)
        for n in range(3):
            start = time.perf_counter()
            await ked.try_question(s, CLI, kb, "htx.min_members", QUESTION, now)
            print(f"try {n + 1}: {(time.perf_counter() - start) * 1000:.0f} ms")
        start = time.perf_counter()
        done = await ked.publish(s, CLI, kb, "htx.min_members", now)
        await s.commit()
        print(f"publish: {time.perf_counter() - start:.2f} s (published: {done.published})")
    live = LiveKnowledge(sessions, kb, 0)
    start = time.perf_counter()
    await live.refresh()
    print(f"a process picks the change up: {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    await live.refresh()
    print(f"poll, nothing changed: {(time.perf_counter() - start) * 1000:.1f} ms")
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
