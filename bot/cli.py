"""The ``coopbot`` command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import __version__, cli_kb, cli_staff, cli_web
from bot.cli_ask import _ask, _eval
from bot.cli_backup import backup_command, restore_command
from bot.cli_common import (
    DatabaseUnreachable,
    open_database,
    settings_error_line,
    translator,
    with_session,
)
from bot.cli_reports import add_report_commands, export_reports, report_commands
from ground.i18n import Translations, Translator
from ground.settings import SUPPORTED_LOCALES, Settings, SettingsError, load_settings


def _parser(t: Translator | None = None) -> argparse.ArgumentParser:
    """The command line, its help in the operator's language (``t``; Vietnamese without)."""
    t = t or Translations(SUPPORTED_LOCALES, "vi", ZoneInfo("UTC")).get("vi")
    p = argparse.ArgumentParser(
        prog="coopbot",
        description=t.t("Trợ lý trò chuyện cho hợp tác xã Việt Nam."),
    )
    p.add_argument("--version", action="version", version=f"coopbot {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    chat = sub.add_parser("chat", help=t.t("trò chuyện trong cửa sổ lệnh (kênh console)"))
    chat.add_argument(
        "--as", dest="user", default="local", help=t.t("mã người dùng console (mặc định: local)")
    )

    run = sub.add_parser("run", help=t.t("chạy mọi kênh đã có mã bot (Telegram, Zalo)"))
    run.add_argument("--webhook", action="store_true", help=t.t("nhận tin nhắn qua webhook"))
    run.add_argument(
        "--listen", metavar="HOST:PORT", help=t.t("địa chỉ máy chủ web (0.0.0.0:8080)")
    )
    run.add_argument(
        "--public-url", metavar="URL", help=t.t("địa chỉ https công khai của máy chủ web")
    )

    db = sub.add_parser("db", help=t.t("lệnh về cơ sở dữ liệu"))
    db_sub = db.add_subparsers(dest="db_command", metavar="DB_COMMAND", required=True)
    db_sub.add_parser("upgrade", help=t.t("đưa cơ sở dữ liệu lên phiên bản mới nhất"))

    ask = sub.add_parser("ask", help=t.t("trả lời câu hỏi từ kho kiến thức"))
    ask.add_argument("question", nargs="?", help=t.t("câu hỏi (hoặc dùng --file)"))
    ask.add_argument(
        "--file", type=Path, help=t.t("mỗi dòng một câu hỏi; '-' đọc từ đầu vào chuẩn")
    )
    ask.add_argument("--json", action="store_true", help=t.t("mỗi câu hỏi một đối tượng JSON"))
    ask.add_argument(
        "--locale", choices=("vi", "en"), default="vi",
        help=t.t("ngôn ngữ của thành viên (mặc định vi)"),
    )  # fmt: skip

    ev = sub.add_parser(
        "eval",
        help=t.t("đo câu trả lời trên một bộ câu hỏi (JSONL)"),
        description=t.t(
            'Mỗi dòng: {{"q": câu hỏi, "entry": mã mục, danh sách mã hoặc null}} hoặc '
            '{{"q": …, "expect": …}}; có thể thêm "avoid" (các mục không bao giờ được trả '
            'lời) và "lang" (vi hoặc en).'
        ),
    )
    ev.add_argument("file", type=Path)
    ev.add_argument(
        "--min-accuracy",
        type=float,
        default=0.0,
        help=t.t(
            "thoát mã 1 khi tỉ lệ trả lời đúng thấp hơn mức này, ví dụ 0.95 (mặc định: không có)"
        ),
    )
    ev.add_argument("--min-rejection", type=float, default=0.0,
                    help=t.t("thoát mã 1 khi tỉ lệ từ chối đúng thấp hơn mức này, ví dụ 0.90 "
                           "(mặc định: không có)"))  # fmt: skip
    ev.add_argument("--max-wrong", type=float, default=1.0,
                    help=t.t("thoát mã 1 khi tỉ lệ trả lời sai (trả lời bằng mục khác) cao hơn "
                           "mức này, ví dụ 0.03 (mặc định: không có)"))  # fmt: skip
    ev.add_argument("--locale", choices=("vi", "en"), default="vi",
                    help=t.t("ngôn ngữ của các dòng không có 'lang'"))  # fmt: skip

    kb = sub.add_parser("kb", help=t.t("lệnh về kho kiến thức"))
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="KB_COMMAND", required=True)
    kb_check = kb_sub.add_parser("check", help=t.t("kiểm tra kho kiến thức"))
    kb_check.add_argument(
        "--missing-english", choices=("error", "warn"),
        help=t.t("mục thiếu phần tiếng Anh ('en:') là lỗi (error, mặc định) hay chỉ cảnh báo (warn)"),
    )  # fmt: skip
    cli_kb.add_parsers(kb_sub, t)  # sync, export, import
    kb_sub.add_parser("reload", help=t.t("kiểm tra, rồi cho các trợ lý đang chạy nạp lại"))
    sug = kb_sub.add_parser(
        "suggestions",
        help=t.t("ghi các câu trả lời của cán bộ được đánh dấu cho kho kiến thức thành bản nháp"),
    )
    sug.add_argument("--output", type=Path, help=t.t("thư mục (mặc định knowledge/drafts)"))

    imp = sub.add_parser("import", help=t.t("nhập tệp dữ liệu (danh sách hợp tác xã, sự kiện)"))
    imp_sub = imp.add_subparsers(dest="import_command", metavar="WHAT", required=True)
    imp_coops = imp_sub.add_parser(
        "cooperatives",
        help=t.t("thêm hoặc cập nhật hợp tác xã từ tệp .csv hoặc .xlsx"),
        description=t.t(
            "Thêm hoặc cập nhật hợp tác xã từ tệp .csv (UTF-8) hoặc .xlsx có các cột "
            "Tên, Mã số, Loại hình, Lĩnh vực, Xã/phường, Địa chỉ, Điện thoại "
            "[, Trạng thái]. Thoát mã 0 khi nhập được mọi dòng, 1 khi có dòng bị "
            "loại, 2 khi không đọc được tệp."
        ),
    )
    imp_coops.add_argument("file", type=Path, metavar="FILE", help=t.t("tệp .csv hoặc .xlsx"))
    imp_events = imp_sub.add_parser(
        "events",
        help=t.t("thêm hoặc cập nhật sự kiện xúc tiến thương mại từ tệp .csv hoặc .xlsx"),
        description=t.t(
            "Thêm hoặc cập nhật sự kiện (cùng tên và giờ bắt đầu: cập nhật) từ tệp "
            ".csv (UTF-8) hoặc .xlsx có các cột Tên sự kiện, Bắt đầu [, Kết thúc, Hạn "
            "đăng ký, Địa điểm, Mô tả, Liên hệ, Đường dẫn, Thẻ] (hoặc title, start, "
            "end, deadline, place, description, contact, link, tags); ngày như "
            "20/11/2026 hoặc 20/11/2026 08:00. Thoát mã 0 khi nhập được mọi dòng, 1 khi "
            "có dòng bị loại, 2 khi không dùng được tệp."
        ),
    )
    imp_events.add_argument("file", type=Path, metavar="FILE", help=t.t("tệp .csv hoặc .xlsx"))

    exp_cmd = sub.add_parser("export", help=t.t("xuất tệp dữ liệu (danh sách hợp tác xã, báo cáo)"))
    exp_sub = exp_cmd.add_subparsers(dest="export_command", metavar="WHAT", required=True)
    exp_coops = exp_sub.add_parser(
        "cooperatives",
        help=t.t(
            "ghi mọi hợp tác xã ra tệp .csv hoặc .xlsx (số điện thoại đầy đủ: chỉ cho cán bộ)"
        ),
    )
    exp_coops.add_argument(
        "--format", choices=("xlsx", "csv"), default="xlsx", dest="fmt", help=t.t("mặc định: xlsx")
    )
    exp_coops.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help=t.t("mặc định: var/exports/cooperatives.ĐỊNH_DẠNG"),
    )

    exp_reports = exp_sub.add_parser(
        "reports", help=t.t("ghi báo cáo tháng của một kỳ ra tệp .xlsx hoặc .csv")
    )
    exp_reports.add_argument("--period", required=True, help=t.t("tháng báo cáo, ví dụ 2026-11"))
    exp_reports.add_argument(
        "--format", choices=("xlsx", "csv"), default="xlsx", dest="fmt", help=t.t("mặc định: xlsx")
    )
    exp_reports.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help=t.t("mặc định: var/exports/bao-cao-KỲ.ĐỊNH_DẠNG"),
    )

    add_report_commands(sub, t)

    from bot import cli_broadcasts

    cli_broadcasts.add_parser(sub, t)
    cli_staff.add_parsers(sub, t)  # links, staff, tickets
    cli_web.add_parser(sub, t)  # the staff web console

    sub.add_parser("demo", help=t.t("nạp 12 hợp tác xã mẫu (không có thật) để dùng thử trợ lý"))

    bak = sub.add_parser(
        "backup",
        help=t.t("ghi một bản sao nhất quán của cơ sở dữ liệu (an toàn khi trợ lý đang chạy)"),
    )
    bak.add_argument("file", type=Path, metavar="FILE", help=t.t("nơi ghi bản sao"))
    res = sub.add_parser("restore", help=t.t("khôi phục bản sao do 'coopbot backup' tạo"))
    res.add_argument("file", type=Path, metavar="FILE", help=t.t("bản sao do 'coopbot backup' tạo"))
    res.add_argument("--force", action="store_true", help=t.t("ghi đè cơ sở dữ liệu đã có dữ liệu"))

    aud = sub.add_parser("audit", help=t.t("in nhật ký thao tác của cán bộ, mới nhất trước"))
    aud.add_argument(
        "--limit", type=cli_staff.record_id, default=100, help=t.t("bao nhiêu dòng (mặc định 100)")
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:  # read first for the language of --help; a wrong setting still lets --help work
        settings, problem = load_settings(), None
    except SettingsError as exc:
        settings, problem = None, exc
    locale = settings.locale if settings else problem.locale  # type: ignore[union-attr]
    parser = _parser(Translations(SUPPORTED_LOCALES, locale, ZoneInfo("UTC")).get(locale))
    args = parser.parse_args(argv)
    from ground.text import clean_text

    for name, value in vars(args).items():  # text typed here is cleaned as chat text is
        if isinstance(value, str):
            setattr(args, name, clean_text(value))
    if args.command is None:
        parser.print_help()
        return 0
    if settings is None:
        print(settings_error_line(problem), file=sys.stderr)  # type: ignore[arg-type]
        return 2
    from ground.log_format import configure_logging

    level = settings.log_level if args.command == "run" else "WARNING"
    configure_logging(level, settings.log_format)
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
        "web": cli_web.run,
        "restore": restore_command,
        "broadcasts": _broadcasts,
        "links": cli_staff.run,
        "staff": cli_staff.run,
        "tickets": cli_staff.run,
    }[args.command]
    try:
        return handler(settings, args)
    except DatabaseUnreachable as exc:
        print(exc, file=sys.stderr)
        return 2
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
        t = translator(settings)
        print(t.t("coopbot: kho kiến thức có lỗi (xem bằng coopbot kb check):"), file=sys.stderr)
        print(str(exc), file=sys.stderr)
        raise SystemExit(1) from None


def _broadcasts(settings: Settings, args: argparse.Namespace) -> int:
    from bot import cli_broadcasts

    return cli_broadcasts.run(settings, args)


def _chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import build_app
    from bot.channels.console import run_console

    async def go() -> int:
        engine, _, _ = await open_database(settings, translator(settings))  # one line if not
        await engine.dispose()
        app = build_app(settings, _kb_store(settings))
        try:
            await app.upgrade_database()
            return await run_console(app.conversation, user_id=args.user)
        finally:
            await app.close()

    return asyncio.run(go())


def _run(settings: Settings, args: argparse.Namespace) -> int:
    if not (settings.telegram_bot_token or settings.zalo_bot_token):
        t = translator(settings)
        print(t.t("coopbot: không có kênh nào để chạy. Đặt TELEGRAM_BOT_TOKEN (lấy từ "
                  "@BotFather) và/hoặc ZALO_BOT_TOKEN (lấy từ Zalo Bot Manager), trong biến môi "
                  "trường hoặc trong tệp .env."), file=sys.stderr)  # fmt: skip
        return 2
    from bot.runner import run_channels

    async def reachable() -> None:
        engine, _, _ = await open_database(settings, translator(settings))
        await engine.dispose()

    asyncio.run(reachable())  # one line, not a traceback, when the database cannot be opened
    return asyncio.run(run_channels(settings, _kb_store(settings), args))


def _db(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli_common import database_label

    t = translator(settings)

    async def go() -> tuple[str | None, str | None]:
        engine, before, after = await open_database(settings, t, announce_new=False)
        await engine.dispose()
        return before, after

    before, after = asyncio.run(go())
    db = database_label(settings.database_url)
    if before == after:
        print(t.t("Cơ sở dữ liệu {db} đã mới nhất (phiên bản {rev}).", db=db, rev=after))
    elif before is None:
        print(t.t("Đã tạo cơ sở dữ liệu mới {db} (phiên bản {rev}).", db=db, rev=after))
    else:
        print(t.t("Đã nâng cấp cơ sở dữ liệu {db} từ phiên bản {old} lên {rev}.", db=db,
                  old=before, rev=after))  # fmt: skip
    return cli_kb.sync(settings)  # shipped knowledge entries into the database


def _kb(settings: Settings, args: argparse.Namespace) -> int:
    from knowledge.base import DATA_DIR, load_dir
    from knowledge.check import check_all

    t = translator(settings)
    path = settings.knowledge_dir or DATA_DIR
    if args.kb_command == "check":
        from knowledge.check import MISSING_ENGLISH_DEFAULT

        english = args.missing_english or MISSING_ENGLISH_DEFAULT
        problems, counts, warnings = check_all(path, english=english)
        for p in problems:
            print(p)
        for p in warnings:
            print(t.t("cảnh báo: {problem}", problem=p))
        print(_kb_summary(t, counts))
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
        problems, counts, _warnings = check_all(path)
        if problems:
            for p in problems:
                print(p)
            print(t.t("Chưa nạp lại: các trợ lý đang chạy giữ kho kiến thức cũ."))
            return 1
        (path / ".reload").touch()
        print(_kb_summary(t, counts))
        print(t.t("Các trợ lý đang chạy sẽ nạp lại trong vài giây."))
        return 0
    return 2


def _kb_summary(t, counts) -> str:  # type: ignore[no-untyped-def]
    line = t.t("{entries} mục ({english} có tiếng Anh), {questions} cách hỏi, {topics} chủ đề "
               "trong menu, {forms}", entries=t.number(counts.entries),
               english=t.number(counts.english), questions=t.number(counts.questions),
               topics=counts.topics, forms=t.tn("{n} biểu mẫu", "{n} biểu mẫu", counts.forms))  # fmt: skip
    if counts.problems:
        line += ": " + t.tn("{n} lỗi", "{n} lỗi", counts.problems)
    else:
        line += ": " + t.t("không có lỗi")
    if counts.warnings:
        line += ", " + t.tn("{n} cảnh báo", "{n} cảnh báo", counts.warnings)
    return line


def _import(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli_files import import_command

    return import_command(settings, args)


def _export(settings: Settings, args: argparse.Namespace) -> int:
    if args.export_command == "reports":
        return export_reports(settings, args)
    from bot.cli_files import export_cooperatives_command

    return export_cooperatives_command(settings, args)


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli_files import demo_command

    return demo_command(settings, args)


def _kb_suggestions(settings: Settings, args: argparse.Namespace) -> int:
    from knowledge.suggestions import DRAFTS_DIR, write_drafts
    from operations import Actor
    from operations.suggestions import draft_entries

    drafts = with_session(settings, lambda s: draft_entries(s, Actor.cli()))
    t = translator(settings)
    if not drafts:
        print(t.t("Chưa có yêu cầu đã đóng nào được đánh dấu để đưa vào kho kiến thức."))
        return 0
    path = write_drafts(drafts, args.output or DRAFTS_DIR)
    print(t.t("Đã ghi {n} mục nháp vào {path} (chưa duyệt, chưa được nạp).", n=len(drafts),
              path=path))  # fmt: skip
    return 0


def _audit(settings: Settings, args: argparse.Namespace) -> int:
    from db import audit

    async def work(session):  # type: ignore[no-untyped-def]
        return await audit.recent(session, args.limit)

    entries = with_session(settings, work)
    if not entries:
        print(translator(settings).t("Nhật ký thao tác của cán bộ chưa có gì."))
    for e in entries:
        detail = json.dumps(e.detail, ensure_ascii=False) if e.detail else ""
        when = e.created_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
        print(f"{when}  {e.actor:28} {e.action:24} {e.target or '-':20} {detail}".rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
