"""The ``coopbot`` command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import __version__, cli_kb, cli_staff, cli_web
from bot.cli_ask import _ask, _eval
from bot.cli_backup import backup_command, restore_command
from bot.cli_reports import add_report_commands, export_reports, report_commands
from ground.settings import Settings, SettingsError, load_settings


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="coopbot",
        description="Chat assistant for Vietnamese cooperatives (hợp tác xã).",
    )
    p.add_argument("--version", action="version", version=f"coopbot {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    chat = sub.add_parser("chat", help="chat in the terminal (the console channel)")
    chat.add_argument("--as", dest="user", default="local", help="console user id (default: local)")

    run = sub.add_parser("run", help="start every channel whose token is set (Telegram, Zalo)")
    run.add_argument("--webhook", action="store_true", help="receive updates by webhook")
    run.add_argument("--listen", metavar="HOST:PORT", help="web server address (0.0.0.0:8080)")
    run.add_argument("--public-url", metavar="URL", help="public https URL of the web server")

    db = sub.add_parser("db", help="database commands")
    db_sub = db.add_subparsers(dest="db_command", metavar="DB_COMMAND", required=True)
    db_sub.add_parser("upgrade", help="bring the database schema up to date")

    ask = sub.add_parser("ask", help="answer questions from the knowledge base")
    ask.add_argument("question", nargs="?", help="the question (or use --file)")
    ask.add_argument("--file", type=Path, help="one question per line; '-' reads stdin")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    ask.add_argument(
        "--locale", choices=("vi", "en"), default="vi", help="the member's language (default vi)"
    )

    ev = sub.add_parser(
        "eval",
        help="measure answers against a question set (JSONL)",
        description='Each line: {"q": question, "entry": id, list of ids or null} or '
        '{"q": …, "expect": …}; optional "avoid" (ids that must never answer) and '
        '"lang" (vi or en).',
    )
    ev.add_argument("file", type=Path)
    ev.add_argument("--min-accuracy", type=float, default=0.0, help="e.g. 0.95")
    ev.add_argument("--min-rejection", type=float, default=0.0, help="e.g. 0.90")
    ev.add_argument(
        "--max-wrong", type=float, default=1.0, help="share answered wrongly, e.g. 0.03"
    )
    ev.add_argument(
        "--locale", choices=("vi", "en"), default="vi", help="language of lines without 'lang'"
    )

    kb = sub.add_parser("kb", help="knowledge-base commands")
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="KB_COMMAND", required=True)
    kb_check = kb_sub.add_parser("check", help="validate the knowledge base")
    kb_check.add_argument(
        "--missing-english",
        choices=("error", "warn"),
        help="an entry without an 'en:' block is a problem (error) or a warning (warn, the "
        "default until every entry has its English)",
    )
    cli_kb.add_parsers(kb_sub)  # sync, export, import
    kb_sub.add_parser("reload", help="validate, then make running assistants reload")
    sug = kb_sub.add_parser(
        "suggestions", help="write staff answers marked for the knowledge base as drafts"
    )
    sug.add_argument("--output", type=Path, help="folder (default knowledge/drafts)")

    imp = sub.add_parser("import", help="import data files (the cooperative registry)")
    imp_sub = imp.add_subparsers(dest="import_command", metavar="WHAT", required=True)
    imp_coops = imp_sub.add_parser(
        "cooperatives",
        help="add or update cooperatives from a .csv or .xlsx file",
        description="Add or update cooperatives from a .csv (UTF-8) or .xlsx file with the "
        "columns Tên, Mã số, Loại hình, Lĩnh vực, Xã/phường, Địa chỉ, Điện thoại "
        "[, Trạng thái]. Exit 0 when every row was imported, 1 when some were rejected, "
        "2 when the file cannot be read.",
    )
    imp_coops.add_argument("file", type=Path, metavar="FILE", help=".csv or .xlsx file")
    imp_events = imp_sub.add_parser(
        "events",
        help="add or update trade events from a .csv or .xlsx file",
        description="Add or update events (same title and start: updated) from a .csv (UTF-8) "
        "or .xlsx file with the columns Tên sự kiện, Bắt đầu [, Kết thúc, Hạn đăng ký, Địa "
        "điểm, Mô tả, Liên hệ, Đường dẫn, Thẻ] (or title, start, end, deadline, place, "
        "description, contact, link, tags); dates like 20/11/2026 or 20/11/2026 08:00. Exit 0 "
        "when every row was imported, 1 when some were rejected, 2 when the file is unusable.",
    )
    imp_events.add_argument("file", type=Path, metavar="FILE", help=".csv or .xlsx file")

    exp_cmd = sub.add_parser("export", help="export data files (the cooperative registry)")
    exp_sub = exp_cmd.add_subparsers(dest="export_command", metavar="WHAT", required=True)
    exp_coops = exp_sub.add_parser(
        "cooperatives",
        help="write every cooperative to a .csv or .xlsx file (phones in full: staff only)",
    )
    exp_coops.add_argument(
        "--format", choices=("xlsx", "csv"), default="xlsx", dest="fmt", help="default: xlsx"
    )
    exp_coops.add_argument(
        "--output", type=Path, metavar="FILE", help="default: var/exports/cooperatives.FORMAT"
    )

    exp_reports = exp_sub.add_parser(
        "reports", help="write a period's monthly reports to a .xlsx or .csv file"
    )
    exp_reports.add_argument("--period", required=True, help="the month reported, e.g. 2026-11")
    exp_reports.add_argument(
        "--format", choices=("xlsx", "csv"), default="xlsx", dest="fmt", help="default: xlsx"
    )
    exp_reports.add_argument(
        "--output", type=Path, metavar="FILE", help="default: var/exports/bao-cao-PERIOD.FORMAT"
    )

    add_report_commands(sub)

    from bot import cli_broadcasts

    cli_broadcasts.add_parser(sub)
    cli_staff.add_parsers(sub)  # links, staff, tickets
    cli_web.add_parser(sub)  # the staff web console

    sub.add_parser("demo", help="load 12 fictitious demo cooperatives to try the assistant")

    bak = sub.add_parser(
        "backup", help="write a consistent copy of the database (safe while the bot runs)"
    )
    bak.add_argument("file", type=Path, metavar="FILE", help="where to write the copy")
    res = sub.add_parser("restore", help="put a copy made by 'coopbot backup' back")
    res.add_argument("file", type=Path, metavar="FILE", help="a copy made by 'coopbot backup'")
    res.add_argument(
        "--force", action="store_true", help="overwrite a database that already holds data"
    )

    aud = sub.add_parser("audit", help="print the audit log of staff actions, newest first")
    aud.add_argument("--limit", type=int, default=100, help="how many entries (default 100)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"coopbot: configuration error: {exc}", file=sys.stderr)
        return 2
    from ground.logs import settings_secrets, setup_logging

    level = settings.log_level if args.command == "run" else "WARNING"
    setup_logging(level, secrets=settings_secrets(settings))
    handler = {
        "chat": _chat,
        "run": _run,
        "db": _db,
        "ask": _ask,
        "eval": _eval,
        "kb": _kb,
        "import": _import,
        "export": _export,
        "reports": report_commands,
        "demo": _demo,
        "audit": _audit,
        "backup": backup_command,
        "restore": restore_command,
        "broadcasts": _broadcasts,
        "links": cli_staff.run,
        "staff": cli_staff.run,
        "tickets": cli_staff.run,
        "web": cli_web.run,
    }[args.command]
    try:
        return handler(settings, args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0


def _kb_store(settings: Settings):  # type: ignore[no-untyped-def]
    from knowledge.base import DATA_DIR, KnowledgeError, KnowledgeStore

    try:
        return KnowledgeStore(settings.knowledge_dir or DATA_DIR)
    except KnowledgeError as exc:
        print("coopbot: the knowledge base has problems (run 'coopbot kb check'):", file=sys.stderr)
        print(str(exc), file=sys.stderr)
        raise SystemExit(1) from None


def _broadcasts(settings: Settings, args: argparse.Namespace) -> int:
    from bot import cli_broadcasts

    return cli_broadcasts.run(settings, args)


def _chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import build_app
    from bot.channels.console import run_console

    async def go() -> int:
        app = build_app(settings, _kb_store(settings))
        try:
            await app.upgrade_database()
            return await run_console(app.conversation, user_id=args.user)
        finally:
            await app.close()

    return asyncio.run(go())


def _run(settings: Settings, args: argparse.Namespace) -> int:
    if not (settings.telegram_bot_token or settings.zalo_bot_token):
        print(
            "coopbot: no channel to start. Set TELEGRAM_BOT_TOKEN (from @BotFather) and/or "
            "ZALO_BOT_TOKEN (from Zalo Bot Manager), in the environment or in .env.",
            file=sys.stderr,
        )
        return 2
    from bot.runner import run_channels

    return asyncio.run(run_channels(settings, _kb_store(settings), args))


def _db(settings: Settings, args: argparse.Namespace) -> int:
    from db import migrate
    from db.session import create_engine

    async def go() -> int:
        engine = create_engine(settings.database_url)
        try:
            before, after = await migrate.upgrade(engine)
        finally:
            await engine.dispose()
        if before == after:
            print(f"database is up to date (revision {after})")
        else:
            print(f"database upgraded from {before or 'empty'} to {after}")
        return 0

    return asyncio.run(go()) or cli_kb.sync(settings)


def _kb(settings: Settings, args: argparse.Namespace) -> int:
    from knowledge.base import DATA_DIR, load_dir
    from knowledge.check import check_all

    path = settings.knowledge_dir or DATA_DIR
    if args.kb_command == "check":
        from knowledge.check import MISSING_ENGLISH_DEFAULT

        english = args.missing_english or MISSING_ENGLISH_DEFAULT
        problems, summary, warnings = check_all(path, english=english)
        for p in problems:
            print(p)
        for p in warnings:
            print(f"warning: {p}")
        print(summary)
        return 1 if problems else 0
    if args.kb_command in ("sync", "import") or (args.kb_command == "export" and not args.json):
        return {"sync": lambda: cli_kb.sync(settings), "import": lambda: cli_kb.import_(settings, args),
                "export": lambda: cli_kb.export(settings, args)}[args.kb_command]()  # fmt: skip
    if args.kb_command == "export":
        loaded = load_dir(path)
        print(json.dumps([e.export() for e in loaded.entries], ensure_ascii=False, indent=1))
        return 1 if loaded.problems else 0
    if args.kb_command == "suggestions":
        return _kb_suggestions(settings, args)
    if args.kb_command == "reload":
        problems, summary, _warnings = check_all(path, english="warn")
        if problems:
            for p in problems:
                print(p)
            print("not reloaded: running assistants keep the previous knowledge base")
            return 1
        (path / ".reload").touch()
        print(summary)
        print("running assistants will reload within a few seconds")
        return 0
    return 2


def _with_session(settings: Settings, work):  # type: ignore[no-untyped-def]
    """Bring the schema up to date, then run ``await work(session)`` and return its result."""
    from db import migrate
    from db.session import create_engine, session_factory

    async def go():  # type: ignore[no-untyped-def]
        engine = create_engine(settings.database_url)
        try:
            await migrate.upgrade(engine)
            async with session_factory(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _import_file(settings: Settings, path: Path):  # type: ignore[no-untyped-def]
    """Import ``path``; the report, or ``None`` (after saying why) when the file is unusable."""
    from datetime import UTC, datetime

    from outputs.cooperatives import CooperativeFileError, import_cooperatives
    from outputs.progress import TerminalProgress

    progress = TerminalProgress()
    try:
        return _with_session(
            settings,
            lambda s: import_cooperatives(s, path, datetime.now(UTC), "cli", progress),
        )
    except CooperativeFileError as exc:
        print(f"coopbot: không nhập được {path}: {exc}", file=sys.stderr)
        return None
    finally:
        progress.finish()


def _import_events(settings: Settings, path: Path) -> int:
    from datetime import UTC, datetime

    from operations.events import import_events
    from operations.rights import CLI
    from outputs.events import EventFileError
    from outputs.progress import TerminalProgress

    progress = TerminalProgress()
    try:
        report = _with_session(
            settings,
            lambda s: import_events(s, CLI, path, datetime.now(UTC), settings.tz, progress),
        )
    except EventFileError as exc:
        print(f"coopbot: không nhập được {path}: {exc}", file=sys.stderr)
        return 2
    finally:
        progress.finish()
    print(report.render())
    return 1 if report.rejected else 0


def _import(settings: Settings, args: argparse.Namespace) -> int:
    if args.import_command == "events":
        return _import_events(settings, args.file)
    report = _import_file(settings, args.file)
    if report is None:
        return 2
    print(report.render())
    return 1 if report.rejected else 0


def _export(settings: Settings, args: argparse.Namespace) -> int:
    if args.export_command == "reports":
        return export_reports(settings, args)
    from datetime import UTC, datetime

    from outputs.cooperatives import export_cooperatives
    from outputs.progress import TerminalProgress, default_export_path

    output = args.output or default_export_path("cooperatives", args.fmt)
    progress = TerminalProgress()
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        count = _with_session(
            settings,
            lambda s: export_cooperatives(s, output, args.fmt, "cli", datetime.now(UTC), progress),
        )
    except OSError as exc:
        print(f"coopbot: không ghi được {output}: {exc}", file=sys.stderr)
        return 2
    finally:
        progress.finish()
    print(f"Đã xuất {count} hợp tác xã vào {output.resolve()}")
    print("Tệp có số điện thoại đầy đủ: chỉ dùng nội bộ, không gửi ra ngoài.")
    return 0


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from db.cooperatives import DEMO_FILE

    report = _import_file(settings, DEMO_FILE)
    if report is None:
        return 2
    print(
        f"Đã nạp {report.imported} hợp tác xã mẫu (tên có chữ “(demo)”, mã số DEMO-01…) "
        f"vào cơ sở dữ liệu: {report.created} mới, {report.updated + report.unchanged} đã có."
    )
    print("Thử ngay: chạy `coopbot chat`, rồi gõ /dangky và nhập mã số DEMO-01 hoặc tên HTX.")
    return 1 if report.rejected else 0


def _with_session(settings: Settings, work):  # type: ignore[no-untyped-def]
    """Run ``work(session)`` on an up-to-date database; returns its result."""
    from db import migrate
    from db.session import create_engine, session_factory

    async def go():  # type: ignore[no-untyped-def]
        engine = create_engine(settings.database_url)
        try:
            await migrate.upgrade(engine)
            async with session_factory(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _kb_suggestions(settings: Settings, args: argparse.Namespace) -> int:
    from knowledge.suggestions import DRAFTS_DIR, write_drafts
    from operations import Actor
    from operations.suggestions import draft_entries

    drafts = _with_session(settings, lambda s: draft_entries(s, Actor.cli()))
    if not drafts:
        print("no closed ticket is marked for the knowledge base")
        return 0
    path = write_drafts(drafts, args.output or DRAFTS_DIR)
    print(f"{len(drafts)} draft entries written to {path} (unreviewed, not loaded)")
    return 0


def _audit(settings: Settings, args: argparse.Namespace) -> int:
    from db import audit

    async def work(session):  # type: ignore[no-untyped-def]
        return await audit.recent(session, args.limit)

    entries = _with_session(settings, work)
    if not entries:
        print("the audit log is empty")
    for e in entries:
        detail = json.dumps(e.detail, ensure_ascii=False) if e.detail else ""
        when = e.created_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
        print(f"{when}  {e.actor:28} {e.action:24} {e.target or '-':20} {detail}".rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
