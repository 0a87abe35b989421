"""``coopbot broadcasts``: the operator at the machine counts an audience or stops a
broadcast, with the same operations as ``/thongbao`` and ``/huythongbao`` in chat
(:mod:`operations.broadcasts`). Stopping shows which notice first and changes nothing
without ``--yes``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime

from bot.cli_staff import record_id
from ground.i18n import Translations, Translator
from ground.settings import SUPPORTED_LOCALES, Settings

AUDIENCES = ("all", "sector", "commune", "kind", "noreport")  # db.broadcasts.AUDIENCES


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("broadcasts", help="count an audience, stop a broadcast")
    b_sub = p.add_subparsers(dest="broadcasts_command", metavar="WHAT", required=True)
    count = b_sub.add_parser("count", help="how many members an audience reaches now")
    count.add_argument("audience", choices=AUDIENCES)
    count.add_argument("value", nargs="?", help="the sector, kind or commune code")
    cancel = b_sub.add_parser(
        "cancel", help="stop a broadcast being sent, or cancel a scheduled one"
    )
    cancel.add_argument("id", type=record_id, help="the broadcast's number (#12: 12)")
    cancel.add_argument("--yes", action="store_true", help="stop it (without: only show it)")


async def _go(settings: Settings, args: argparse.Namespace, t: Translator) -> int:
    from db import migrate
    from db.session import create_engine, session_factory
    from operations import broadcasts as ops
    from operations.rights import CLI, OperationError

    engine = create_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
        async with session_factory(engine)() as session:
            try:
                if args.broadcasts_command == "count":
                    size = await ops.count_audience(session, CLI, args.audience, args.value)
                    print(t.t("Người nhận: {n}; đã tắt thông báo: {opted}; đã chặn trợ lý: "
                              "{blocked}.", n=size.recipients, opted=size.opted_out,
                              blocked=size.unreachable))  # fmt: skip
                    return 0
                found = await ops.find_active(session, CLI, args.id)
                if found is None:
                    print(t.t("Không có thông báo #{id} đang gửi hoặc đang hẹn giờ.", id=args.id),
                          file=sys.stderr)  # fmt: skip
                    return 1
                if not args.yes:
                    print(t.t("Thông báo #{id} ({status}, {total} người): “{text}”. Thêm --yes "
                              "để dừng.", id=found.id, status=found.status, total=found.total,
                              text=found.text[:80]))  # fmt: skip
                    return 1
                done = await ops.cancel_broadcast(session, CLI, args.id, datetime.now(UTC))
                await session.commit()
            except OperationError as exc:
                print(t.t(exc.message, **exc.values), file=sys.stderr)
                return 2
    finally:
        await engine.dispose()
    print(t.t("Đã dừng thông báo #{id}: {n} người chưa gửi sẽ không nhận.",
              id=done.broadcast.id, n=done.skipped))  # fmt: skip
    return 0


def run(settings: Settings, args: argparse.Namespace) -> int:
    t = Translations(SUPPORTED_LOCALES, settings.locale, settings.tz).get(settings.locale)
    return asyncio.run(_go(settings, args, t))
