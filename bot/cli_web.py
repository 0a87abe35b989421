"""``coopbot web``: serve the staff web console (and ``/healthz``) without any channel, for an
office that only wants the console; ``coopbot web link telegram:123`` prints a one-time
sign-in link for a staff member or an admin listed in ``COOPBOT_ADMINS`` (the first admin
has no other way in)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from ground.i18n import Translations, Translator
from ground.settings import SUPPORTED_LOCALES, Settings

DEFAULT_LISTEN = "127.0.0.1:8080"


def add_parser(sub: argparse._SubParsersAction, t: Translator) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("web", help=t.t("chỉ chạy trang quản trị cho cán bộ (không chạy kênh nào)"))
    p.add_argument(
        "--listen", default=DEFAULT_LISTEN, metavar="HOST:PORT",
        help=t.t("mặc định {listen}", listen=DEFAULT_LISTEN),
    )  # fmt: skip
    w_sub = p.add_subparsers(dest="web_command", metavar="WHAT")
    link = w_sub.add_parser(
        "link", help=t.t("in một đường dẫn đăng nhập dùng một lần cho một cán bộ")
    )
    link.add_argument("who", help=t.t("kênh:mã người dùng, ví dụ telegram:12345"))


async def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from bot.app import build_app
    from bot.cli import _kb_store
    from bot.ops_web import ops_routes
    from bot.pages import routes
    from bot.runner import parse_listen
    from bot.web import create_web_app

    try:
        host, port = parse_listen(args.listen)
    except ValueError as exc:
        t = Translations(SUPPORTED_LOCALES, settings.locale, settings.tz).get(settings.locale)
        print(t.t("coopbot web: địa chỉ không hợp lệ: {problem}", problem=exc), file=sys.stderr)
        return 2
    app = build_app(settings, _kb_store(settings))
    try:
        await app.upgrade_database()
        extra = ops_routes(app.engine, metrics_token=settings.metrics_token)  # /metrics, /readyz
        web = create_web_app(app.engine, app.kb, pages=routes(app.console()), extra_routes=extra)
        config = uvicorn.Config(web, host=host, port=port, log_config=None, access_log=False,
                                lifespan="off", server_header=False)  # fmt: skip
        t = Translations(SUPPORTED_LOCALES, settings.locale, settings.tz).get(settings.locale)
        print(
            t.t(
                "Trang quản trị: http://{host}:{port}/console/ (đăng nhập bằng /dangnhap)",
                host=host,
                port=port,
            )
        )
        await uvicorn.Server(config).serve()
    finally:
        await app.close()
    return 0


async def _link(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from db import migrate
    from db.queries import get_or_create_member
    from db.session import create_engine, session_factory
    from handlers.web_access import LOCAL_URL
    from operations import CLI, OperationError
    from operations import web_access as ops
    from operations.members import find_person

    t = Translations(SUPPORTED_LOCALES, settings.locale, settings.tz).get(settings.locale)
    now = datetime.now(UTC)
    engine = create_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
        async with session_factory(engine)() as session:
            try:
                channel, _, user_id = args.who.strip().partition(":")
                if settings.is_admin(channel.lower(), user_id):  # may not have written yet
                    person, _ = await get_or_create_member(
                        session, channel.lower(), user_id, locale=settings.locale, now=now,
                        is_admin=True,
                    )  # fmt: skip
                else:
                    person = await find_person(session, CLI, args.who)
                base = settings.public_url or f"http://{args.listen}".replace(
                    "0.0.0.0", "127.0.0.1"
                )
                link = await ops.create_link(session, CLI, person, base or LOCAL_URL, now)
                await session.commit()
            except OperationError as exc:
                print(t.t(exc.message, **exc.values), file=sys.stderr)
                return 1
    finally:
        await engine.dispose()
    print(link.url)
    return 0


def run(settings: Settings, args: argparse.Namespace) -> int:
    if getattr(args, "web_command", None) == "link":
        return asyncio.run(_link(settings, args))
    return asyncio.run(_serve(settings, args))
