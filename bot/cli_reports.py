"""``coopbot reports open|remind|close|progress`` and ``coopbot export reports``: the staff
operations of ``operations.reports``, run by the operator at the command line (who may do
everything), in the configured language."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ground.settings import Settings


def add_report_commands(sub: Any, t: Any) -> None:
    rep = sub.add_parser("reports", help=t.t("lệnh về báo cáo tháng (cán bộ)"))
    rep_sub = rep.add_subparsers(dest="reports_command", metavar="REPORTS_COMMAND", required=True)
    rep_open = rep_sub.add_parser(
        "open", help=t.t("mở một kỳ báo cáo và mời người đại diện của mọi hợp tác xã")
    )
    rep_open.add_argument(
        "period", help=t.t("tháng báo cáo, ví dụ 2026-11 (trong 12 tháng gần đây)")
    )
    rep_open.add_argument("--yes", action="store_true", help=t.t("không hỏi lại trước khi mời"))
    rep_remind = rep_sub.add_parser(
        "remind", help=t.t("nhắc người đại diện của các hợp tác xã chưa gửi báo cáo")
    )
    rep_remind.add_argument("period", nargs="?", default="", help=t.t("mặc định: kỳ đang mở"))
    rep_remind.add_argument("--yes", action="store_true", help=t.t("không hỏi lại trước khi gửi"))
    rep_close = rep_sub.add_parser(
        "close", help=t.t("đóng một kỳ: không nhận thêm báo cáo hay sửa đổi")
    )
    rep_close.add_argument("period", help=t.t("tháng báo cáo, ví dụ 2026-11"))
    rep_progress = rep_sub.add_parser("progress", help=t.t("bao nhiêu hợp tác xã đã gửi báo cáo"))
    rep_progress.add_argument("period", nargs="?", default="", help=t.t("mặc định: kỳ đang mở"))


def _translator(settings: Settings):  # type: ignore[no-untyped-def]
    from ground.i18n import Translations
    from ground.settings import SUPPORTED_LOCALES

    return Translations(SUPPORTED_LOCALES, settings.locale, settings.tz)


def export_reports(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from operations import reports as ops
    from operations.reports_text import month_label, period_problem

    t = _translator(settings).get(settings.locale)

    async def work(session):  # type: ignore[no-untyped-def]
        result = await ops.export(
            session, ops.CLI, args.period, args.fmt, args.output, t, datetime.now(UTC)
        )
        await session.commit()
        return result

    from bot.cli_common import with_session

    try:
        r = with_session(settings, work)
    except ops.PeriodProblem as exc:
        text = period_problem(t, exc.reason, exc.text, exc.period, ops.OLDEST_MONTHS)
        print(f"coopbot: {text}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            "coopbot: "
            + t.t("không ghi được {path}: {error}", path=args.output or Path.cwd(), error=exc),
            file=sys.stderr,
        )
        return 2
    print(
        t.t(
            "Đã xuất báo cáo tháng {month} của {n} hợp tác xã vào {path}",
            month=month_label(t, r.period),
            n=r.rows,
            path=r.path.resolve(),
        )
    )
    return 0


def _confirmed(question: str, t) -> bool:  # type: ignore[no-untyped-def]
    """Ask ``question`` on a terminal; elsewhere (a script) say how to confirm."""
    print(question)
    if not sys.stdin.isatty():
        print(t.t("Chưa làm gì. Chạy lại với --yes để xác nhận."))
        return False
    answer = input(t.t("Gõ “co” để xác nhận: ")).strip().lower()
    return answer in ("co", "có", "c", "yes", "y")


def report_commands(settings: Settings, args: argparse.Namespace) -> int:
    """``coopbot reports open|remind|close|progress``: the staff operations of
    ``operations.reports``, as the operator at the command line."""
    from datetime import UTC, datetime

    from operations import reports as ops
    from operations import reports_text as text

    translations = _translator(settings)
    t = translations.get(settings.locale)
    command = args.reports_command

    def run(confirm: bool):  # type: ignore[no-untyped-def]
        async def work(session):  # type: ignore[no-untyped-def]
            now = datetime.now(UTC)
            if command == "open":
                r = await ops.open_period(
                    session, ops.CLI, args.period, now, settings, translations, confirm
                )
            elif command == "remind":
                r = await ops.remind(
                    session, ops.CLI, args.period, now, settings, translations, confirm
                )
            elif command == "close":
                r = await ops.close_period(session, ops.CLI, args.period, now)
            else:
                r = await ops.progress(session, ops.CLI, args.period, settings)
            await session.commit()
            return r

        from bot.cli_common import with_session

        return with_session(settings, work)

    try:
        r = run(getattr(args, "yes", False))
        if command == "open" and not r.confirmed:
            question = text.open_question(t, r.period, r.was_open, r.prompts, r.deadline)
            if not _confirmed(question, t):
                return 1
            r = run(True)
        if command == "remind" and not r.confirmed:
            question = text.remind_question(t, r.period, r.prompts)
            if not r.prompts:
                print(question)
                return 0
            if not _confirmed(question, t):
                return 1
            r = run(True)
    except ops.PeriodProblem as exc:
        problem = text.period_problem(t, exc.reason, exc.text, exc.period, ops.OLDEST_MONTHS)
        if exc.reason == "none_yet":  # the chat's advice names /mobaocao
            problem = t.t("Chưa có kỳ báo cáo nào. Mở kỳ bằng coopbot reports open 2026-11.")
        print(f"coopbot: {problem}", file=sys.stderr)
        return 2
    if command == "open":
        print(text.opened_text(t, r.period, r.changed, r.prompts, r.deadline))
    elif command == "remind":
        print(text.reminded_text(t, r.period, r.prompts))
    elif command == "close":
        print(text.closed_text(t, r.period, r.changed))
    else:
        print(text.progress_text(t, r.progress, r.status, r.deadline))
    return 0
