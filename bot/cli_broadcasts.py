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


def add_parser(sub: argparse._SubParsersAction, t: Translator) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("broadcasts", help=t.t("đếm người nhận, dừng một thông báo"))
    b_sub = p.add_subparsers(dest="broadcasts_command", metavar="WHAT", required=True)
    count = b_sub.add_parser("count", help=t.t("một nhóm người nhận hiện có bao nhiêu người"))
    count.add_argument("audience", choices=AUDIENCES)
    count.add_argument("value", nargs="?", help=t.t("lĩnh vực, loại hình hoặc mã xã/phường"))
    cancel = b_sub.add_parser(
        "cancel", help=t.t("dừng thông báo đang gửi, hoặc huỷ thông báo đang hẹn giờ")
    )
    cancel.add_argument("id", type=record_id, help=t.t("số của thông báo (#12: 12)"))
    cancel.add_argument("--yes", action="store_true", help=t.t("dừng nó (không có: chỉ xem)"))


async def _go(settings: Settings, args: argparse.Namespace, t: Translator) -> int:
    from bot.cli_common import open_database
    from db.session import session_factory
    from operations import broadcasts as ops
    from operations.rights import CLI, OperationError

    engine, _, _ = await open_database(settings, t)
    try:
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
                    status = {"scheduled": t.t("đang hẹn giờ"), "sending": t.t("đang gửi")}
                    print(t.t("Thông báo #{id} ({status}, {total} người): “{text}”. Thêm --yes "
                              "để dừng.", id=found.id, total=found.total, text=found.text[:80],
                              status=status.get(found.status, found.status)))  # fmt: skip
                    return 1
                done = await ops.cancel_broadcast(session, CLI, args.id, datetime.now(UTC))
                await session.commit()
            except OperationError as exc:
                print("coopbot: " + t.t(exc.message, **exc.values), file=sys.stderr)
                return 2
    finally:
        await engine.dispose()
    print(t.t("Đã dừng thông báo #{id}: {n} người chưa gửi sẽ không nhận.",
              id=done.broadcast.id, n=done.skipped))  # fmt: skip
    return 0


def _value_problem(t: Translator, audience: str, value: str | None) -> str | None:
    """What the command line needs for ``audience`` when ``value`` does not fit it."""
    from db.models import COOP_KINDS, SECTORS

    if audience in ("all", "noreport"):
        return None if value is None else t.t("{audience} không cần giá trị.",
                                              audience=audience)  # fmt: skip
    if audience == "sector" and value not in SECTORS:
        return t.t("sector cần một lĩnh vực: {choices}.", choices=", ".join(SECTORS))
    if audience == "kind" and value not in COOP_KINDS:
        return t.t("kind cần một loại hình: {choices}.", choices=", ".join(COOP_KINDS))
    if audience == "commune" and not (value or "").isdigit():
        return t.t("commune cần mã số của xã/phường, ví dụ 4672.")
    return None


def run(settings: Settings, args: argparse.Namespace) -> int:
    t = Translations(SUPPORTED_LOCALES, settings.locale, settings.tz).get(settings.locale)
    if args.broadcasts_command == "count":
        problem = _value_problem(t, args.audience, args.value)
        if problem:
            print("coopbot: " + t.t("Không có nhóm người nhận này.") + " " + problem,
                  file=sys.stderr)  # fmt: skip
            return 2
    return asyncio.run(_go(settings, args, t))
