"""``coopbot links``, ``coopbot staff`` and ``coopbot tickets``: the staff operations of the chat
(/duyet, /quyen, /vecho) from the command line. Each calls the same operation as the chat, as
the command-line actor (``cli`` in the audit log), and commits only when it succeeded."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from ground.settings import SUPPORTED_LOCALES, Settings


def record_id(text: str) -> int:
    """A row number typed at the command line: ASCII digits the database can hold (at most
    9), so ``99999999999999999999`` is a usage error, never an overflow in the database."""
    from handlers.router import id_of

    value = id_of(text.strip().lstrip("#"))
    if value is None:
        raise argparse.ArgumentTypeError(f"not a number of at most 9 digits: {text[:20]!r}")
    return value


def add_parsers(sub: Any, t: Any) -> None:
    links = sub.add_parser(
        "links", help=t.t("yêu cầu liên kết với hợp tác xã đang chờ cán bộ duyệt")
    )
    links.add_argument("action", nargs="?", choices=("list", "approve", "refuse"), default="list")
    links.add_argument(
        "member", nargs="?", type=record_id, help=t.t("số thứ tự do 'links list' hiện")
    )

    staff = sub.add_parser("staff", help=t.t("xem, cấp hoặc bỏ quyền cán bộ"))
    staff.add_argument("action", nargs="?", choices=("list", "add", "remove"), default="list")
    staff.add_argument("who", nargs="?", help=t.t("telegram:12345, zalo:abc, console:local"))

    tickets = sub.add_parser(
        "tickets", help=t.t("các yêu cầu chưa đóng; trả lời hoặc đóng một yêu cầu")
    )
    tickets.add_argument("action", nargs="?", choices=("list", "answer", "close"), default="list")
    tickets.add_argument("ticket", nargs="?", type=record_id, help=t.t("số của yêu cầu"))
    tickets.add_argument("text", nargs="?", help=t.t("câu trả lời (với 'answer')"))
    tickets.add_argument(
        "--suggest",
        action="store_true",
        help=t.t("đánh dấu câu trả lời cho 'coopbot kb suggestions'"),
    )


def run(settings: Settings, args: argparse.Namespace) -> int:
    from ground.i18n import Translations
    from operations import OperationError

    translations = Translations(SUPPORTED_LOCALES, settings.locale, settings.tz)
    t = translations.get(settings.locale)
    work = {"links": _links, "staff": _staff, "tickets": _tickets}[args.command]
    needs = {"approve", "refuse", "answer", "close"}
    if args.action in needs and getattr(args, "member", getattr(args, "ticket", None)) is None:
        print(t.t("coopbot: thiếu số thứ tự (xem bằng lệnh list)."), file=sys.stderr)
        return 2
    if args.action == "answer" and not (args.text or "").strip():
        print(t.t("coopbot: thiếu câu trả lời."), file=sys.stderr)
        return 2
    if args.action in ("add", "remove") and not args.who:
        print(t.t("coopbot: thiếu người cần đổi quyền, ví dụ telegram:12345."), file=sys.stderr)
        return 2
    try:
        lines = _in_session(settings, lambda s: work(s, args, settings, translations))
    except OperationError as exc:
        print("coopbot: " + t.t(exc.message, **exc.values), file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0


def _in_session(settings: Settings, work: Callable[[Any], Awaitable[list[str]]]) -> list[str]:
    from bot.cli_common import with_session

    return with_session(settings, work, commit=True)


async def _links(session: Any, args: argparse.Namespace, settings: Settings, tr: Any) -> list[str]:
    from knowledge.phone import mask_phone
    from operations import Actor
    from operations import members as ops

    t, actor, now = tr.get(settings.locale), Actor.cli(), datetime.now(UTC)
    if args.action == "list":
        pending = await ops.links_waiting(session, actor)
        if not pending:
            return [t.t("Không có yêu cầu liên kết nào đang chờ duyệt.")]
        return [
            f"#{m.id}  {ops.member_label(m)} ({m.channel}:{m.user_id})  {c.name} ({c.code})  "
            f"{ops.role_label(t, m.coop_role)}  {mask_phone(m.phone)}"
            for m, c in pending
        ]
    approve = args.action == "approve"
    done = await ops.decide_link(session, actor, args.member, approve, translations=tr, now=now)
    values = {"name": ops.member_label(done.member), "coop": done.coop.name}
    if approve:
        return [t.t("Đã duyệt liên kết của {name} với {coop}.", **values)]
    return [t.t("Đã từ chối liên kết của {name} với {coop}.", **values)]


async def _staff(session: Any, args: argparse.Namespace, settings: Settings, tr: Any) -> list[str]:
    from operations import Actor
    from operations import members as ops

    t, actor = tr.get(settings.locale), Actor.cli()
    if args.action == "list":
        people = await ops.list_staff(session, actor, settings.admins)
        known = {(p.channel, p.user_id) for p in people}
        waiting = sorted(a for a in settings.admins if a not in known)
        if not people and not waiting:
            return [t.t("Chưa có cán bộ hay quản trị nào. Quản trị là những người trong "
                        "COOPBOT_ADMINS; cấp quyền cán bộ bằng coopbot staff add telegram:12345.")]  # fmt: skip
        lines = [t.t("Cán bộ và quản trị:")]
        lines += [f"• {ops.member_label(p)} ({p.channel}:{p.user_id}, {p.role})" for p in people]
        lines += [t.t("• {who} (admin trong COOPBOT_ADMINS, chưa nhắn cho trợ lý lần nào)",
                      who=c + ":" + u) for c, u in waiting]  # fmt: skip
        return lines
    grant = args.action == "add"
    target = await ops.set_staff(
        session, actor, args.who, grant, admins=settings.admins, now=datetime.now(UTC)
    )
    who = f"{ops.member_label(target)} ({target.channel}:{target.user_id})"
    if grant:
        return [t.t("Đã cấp quyền cán bộ cho {who}.", who=who)]
    return [t.t("Đã bỏ quyền cán bộ của {who}.", who=who)]


async def _tickets(
    session: Any, args: argparse.Namespace, settings: Settings, tr: Any
) -> list[str]:
    from operations import Actor
    from operations import tickets as ops

    t, actor = tr.get(settings.locale), Actor.cli()
    if args.action == "list":
        found = await ops.open_tickets(session, actor)
        if not found:
            return [t.t("Không có yêu cầu nào đang chờ.")]
        return [ops.ticket_card(t, i.ticket, i.member, i.coop, i.thread).text for i in found]
    if args.action == "answer":
        done = await ops.answer_ticket(
            session, actor, args.ticket, args.text, translations=tr, now=datetime.now(UTC)
        )
        if not done.delivered:
            return [t.t("Đã lưu câu trả lời cho yêu cầu #{id}, nhưng không gửi được: thành viên "
                        "đã chặn trợ lý hoặc đã xoá dữ liệu.", id=args.ticket)]  # fmt: skip
        return [t.t("Đã gửi câu trả lời cho yêu cầu #{id}.", id=args.ticket)]
    await ops.close_ticket(
        session, actor, args.ticket, args.suggest, translations=tr, now=datetime.now(UTC)
    )
    return [t.t("Đã đóng yêu cầu #{id}.", id=args.ticket)]
