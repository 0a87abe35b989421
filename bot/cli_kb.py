"""``coopbot kb sync | export | import``: the knowledge base kept in the database.

``coopbot db upgrade`` also runs ``kb sync``: new shipped entries are loaded, shipped changes
applied to entries no person edited, and a person's entry is kept and flagged.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from ground.settings import Settings


def add_parsers(kb_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    kb_sub.add_parser("sync", help="load the shipped entries (knowledge/data) into the database")
    exp = kb_sub.add_parser("export", help="write the live knowledge base")
    exp.add_argument("--format", choices=("yaml", "json"), default="yaml")
    exp.add_argument("--json", action="store_true", help="the YAML files as one JSON list (old)")
    exp.add_argument("--output", type=Path, help="file to write (default: standard output)")
    imp = kb_sub.add_parser("import", help="load an exported file, with the checks of kb check")
    imp.add_argument("file", type=Path)


def _path(settings: Settings) -> Path:
    from knowledge.base import DATA_DIR

    return settings.knowledge_dir or DATA_DIR


async def _session_run(settings: Settings, work):  # type: ignore[no-untyped-def]
    from db import migrate
    from db.session import create_engine, session_factory

    engine = create_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
        async with session_factory(engine)() as session:
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


def sync_line(counts) -> str:  # type: ignore[no-untyped-def]
    return (
        f"knowledge base: {counts.added} new, {counts.updated} updated, {counts.unchanged} "
        f"unchanged, {counts.flagged} flagged (edited by staff, the shipped text changed)"
    )


def sync(settings: Settings) -> int:
    from operations import knowledge_sync
    from operations.rights import CLI, OperationError

    async def work(session):  # type: ignore[no-untyped-def]
        return await knowledge_sync.sync(session, CLI, _path(settings), datetime.now(UTC))

    try:
        counts = asyncio.run(_session_run(settings, work))
    except OperationError as exc:
        print(f"coopbot: {exc.message.format(**exc.values)}", file=sys.stderr)
        return 1
    print(sync_line(counts))
    return 0


def export(settings: Settings, args: argparse.Namespace) -> int:
    from knowledge import drafts
    from knowledge.base import KnowledgeStore
    from operations import knowledge_sync
    from operations.rights import CLI

    kb = KnowledgeStore(_path(settings))

    async def work(session):  # type: ignore[no-untyped-def]
        return await knowledge_sync.export(session, CLI, kb)

    text = drafts.dump(asyncio.run(_session_run(settings, work)), args.format)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def import_(settings: Settings, args: argparse.Namespace) -> int:
    from knowledge.base import KnowledgeStore
    from operations import knowledge_sync
    from operations.rights import CLI

    kb = KnowledgeStore(_path(settings))

    async def work(session):  # type: ignore[no-untyped-def]
        return await knowledge_sync.import_file(session, CLI, kb, args.file, datetime.now(UTC))

    done = asyncio.run(_session_run(settings, work))
    for p in done.problems:
        print(p)
    if done.problems:
        print(f"not imported: {len(done.problems)} problems", file=sys.stderr)
        return 1
    print(f"imported: {len(done.changed)} entries changed")
    return 0


def live_store(settings: Settings, store):  # type: ignore[no-untyped-def]
    """``store`` serving the entries published in the database, when it has some (for
    ``coopbot ask``); the YAML when the database is missing, not upgraded or away."""
    from sqlalchemy.engine import make_url

    from db.session import create_engine, session_factory
    from operations.knowledge_live import live_entries

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).exists()):
        return store  # do not create a database file just to ask a question

    async def go():  # type: ignore[no-untyped-def]
        engine = create_engine(settings.database_url)
        try:
            async with session_factory(engine)() as session:
                return await live_entries(session)
        finally:
            await engine.dispose()

    try:
        entries = asyncio.run(go())
    except Exception:  # no tables yet, or the server is away: the YAML answers
        return store
    if entries:
        store.swap(entries)
    return store
