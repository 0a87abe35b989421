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
from zoneinfo import ZoneInfo

from ground.i18n import Translations, Translator
from ground.settings import SUPPORTED_LOCALES, Settings


def _t(settings: Settings) -> Translator:
    return Translations(SUPPORTED_LOCALES, settings.locale, settings.tz).get(settings.locale)


def add_parsers(kb_sub: argparse._SubParsersAction, t: Translator) -> None:  # type: ignore[type-arg]
    kb_sub.add_parser(
        "sync", help=t.t("nạp các mục kèm theo phần mềm (knowledge/data) vào cơ sở dữ liệu")
    )
    exp = kb_sub.add_parser("export", help=t.t("ghi kho kiến thức đang dùng"))
    exp.add_argument("--format", choices=("yaml", "json"), default="yaml")
    exp.add_argument(
        "--json", action="store_true", help=t.t("các tệp YAML thành một danh sách JSON (cũ)")
    )
    exp.add_argument("--output", type=Path, help=t.t("tệp để ghi (mặc định: đầu ra chuẩn)"))
    imp = kb_sub.add_parser(
        "import", help=t.t("nạp một tệp đã xuất, với các bước kiểm tra của kb check")
    )
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


def sync_line(counts, t: Translator | None = None) -> str:  # type: ignore[no-untyped-def]
    if t is None:
        t = Translations(SUPPORTED_LOCALES, "vi", ZoneInfo("UTC")).get("vi")
    return t.t(
        "Kho kiến thức: {added} mục mới, {updated} cập nhật, {unchanged} không đổi, {flagged} "
        "được đánh dấu (cán bộ đã sửa, bản kèm theo phần mềm đã thay đổi)",
        added=counts.added, updated=counts.updated, unchanged=counts.unchanged,
        flagged=counts.flagged,
    )  # fmt: skip


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
    print(sync_line(counts, _t(settings)))
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
        print(_t(settings).t("Chưa nạp: {n} lỗi", n=len(done.problems)), file=sys.stderr)
        return 1
    print(_t(settings).t("Đã nạp: {n} mục thay đổi", n=len(done.changed)))
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
