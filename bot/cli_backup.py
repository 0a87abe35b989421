"""``coopbot backup`` and ``coopbot restore``: the words around db/backup.py."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys

import sqlalchemy.exc

from ground.settings import Settings


def _translator(settings: Settings):  # type: ignore[no-untyped-def]
    from ground.i18n import Translations
    from ground.settings import SUPPORTED_LOCALES

    return Translations(SUPPORTED_LOCALES, settings.locale, settings.tz).get(settings.locale)


def _backup_problem(t, exc) -> str:  # type: ignore[no-untyped-def]
    messages = {
        "missing": t.t("không thấy {path}", path=exc.detail),
        "no_tool": t.t(
            "cần chương trình {tool} của PostgreSQL trên máy này (gói postgresql-client)",
            tool=exc.detail,
        ),
        "wrong_kind": t.t(
            "tệp này không phải bản sao của loại cơ sở dữ liệu đang dùng ({kind})",
            kind=exc.detail,
        ),
        "not_empty": t.t("cơ sở dữ liệu đang có dữ liệu; thêm --force nếu thật sự muốn ghi đè"),
    }
    return messages.get(exc.reason, exc.detail or exc.reason)


def backup_command(settings: Settings, args: argparse.Namespace) -> int:
    from db.backup import BackupError, backup

    t = _translator(settings)
    try:
        copied = backup(settings.database_url, args.file)
    except (BackupError, OSError, sqlite3.Error) as exc:
        detail = _backup_problem(t, exc) if isinstance(exc, BackupError) else str(exc)
        print(t.t("coopbot: không sao lưu được: {detail}", detail=detail), file=sys.stderr)
        return 2
    print(
        t.t(
            "Đã sao lưu cơ sở dữ liệu vào {path} ({size} byte).",
            path=copied.path.resolve(),
            size=t.number(copied.size),
        )
    )
    return 0


def restore_command(settings: Settings, args: argparse.Namespace) -> int:
    from db import migrate
    from db.backup import BackupError, data_rows, restore
    from db.session import create_engine

    t = _translator(settings)

    async def rows() -> int:
        from bot.cli_common import DatabaseUnreachable, unreachable_line

        engine = create_engine(settings.database_url)
        try:
            return await data_rows(engine)  # the shipped knowledge alone is not data
        except (OSError, sqlalchemy.exc.DBAPIError) as exc:  # cannot connect: one line
            raise DatabaseUnreachable(unreachable_line(t, settings.database_url, exc)) from None
        finally:
            await engine.dispose()

    async def upgrade() -> None:
        engine = create_engine(settings.database_url)
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()

    try:
        restore(
            settings.database_url, args.file, not_empty=asyncio.run(rows()) > 0, force=args.force
        )
        asyncio.run(upgrade())
    except (BackupError, OSError, sqlite3.Error) as exc:
        detail = _backup_problem(t, exc) if isinstance(exc, BackupError) else str(exc)
        print(t.t("coopbot: không khôi phục được: {detail}", detail=detail), file=sys.stderr)
        return 2
    print(t.t("Đã khôi phục cơ sở dữ liệu từ {path}.", path=args.file.resolve()))
    return 0
