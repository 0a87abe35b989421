"""``coopbot run``: start the channels whose tokens are set and run until SIGINT/SIGTERM.

Telegram (``TELEGRAM_BOT_TOKEN``) and Zalo (``ZALO_BOT_TOKEN``) run by long polling, or with
``--webhook`` behind the one ASGI app (uvicorn) at ``/telegram/webhook`` and ``/zalo/webhook``,
which also answers ``GET /healthz``; ``--listen`` without ``--webhook`` serves only the health
check next to polling. With Zalo and a public URL (``--public-url`` or ``COOPBOT_PUBLIC_URL``)
the app also serves the signed file links Zalo members receive (``GET /files/<token>``), so it
is started even when polling. Stopping finishes the updates in progress, then closes the
database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Iterator
from typing import Any, TypeVar

import uvicorn
from telegram.error import InvalidToken, TelegramError

from bot.app import App, build_app
from bot.channels.telegram import TelegramChannel, build_channel, webhook_url
from bot.channels.zalo import ZaloChannel, ZaloError, ZaloUnauthorized
from bot.channels.zalo import build_channel as build_zalo_channel
from bot.channels.zalo import webhook_url as zalo_webhook_url
from bot.cli_common import translator
from bot.scheduler import run_scheduler
from bot.web import FileLinks, Webhook, create_web_app
from ground.logs import log_event
from ground.settings import Settings
from handlers.reports import EXPORTS
from knowledge.base import KnowledgeStore

log = logging.getLogger("coopbot.runner")

DEFAULT_LISTEN = "0.0.0.0:8080"
T = TypeVar("T")


def parse_listen(value: str) -> tuple[str, int]:
    """``"0.0.0.0:8080"`` → ``("0.0.0.0", 8080)``; ``"[::]:8080"`` for IPv6."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--listen: expected HOST:PORT such as {DEFAULT_LISTEN}, got '{value}'")
    return host.strip("[]") or "0.0.0.0", int(port)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the runner owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.contextmanager
def _stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def _unless_stopped(aw: Awaitable[T], stop: asyncio.Event) -> tuple[bool, T | None]:
    """Await ``aw`` unless ``stop`` is set first (then cancel it); returns (finished, result)."""
    task = asyncio.ensure_future(aw)
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if task.done():
        return True, task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False, None


async def run_channels(settings: Settings, kb: KnowledgeStore, args: argparse.Namespace) -> int:
    """Run until a signal arrives; returns the exit code."""
    use_webhook = bool(getattr(args, "webhook", False))
    public_url = getattr(args, "public_url", None) or settings.public_url
    listen = getattr(args, "listen", None)
    t = translator(settings)
    if use_webhook and not public_url:
        print(t.t("coopbot run: --webhook cần --public-url https://… (hoặc COOPBOT_PUBLIC_URL)"),
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        host, port = parse_listen(listen or DEFAULT_LISTEN)
    except ValueError:
        print(t.t("coopbot run: --listen cần MÁY:CỔNG, ví dụ {example}, không phải “{value}”",
                  example=DEFAULT_LISTEN, value=listen), file=sys.stderr)  # fmt: skip
        return 2
    if not (settings.telegram_bot_token or settings.zalo_bot_token):
        print(t.t("coopbot run: không có kênh nào để chạy; đặt TELEGRAM_BOT_TOKEN và/hoặc "
                  "ZALO_BOT_TOKEN."), file=sys.stderr)  # fmt: skip
        return 2

    app = build_app(settings, kb)
    stop = asyncio.Event()
    channel: TelegramChannel | None = None
    zalo: ZaloChannel | None = None
    server: _Server | None = None
    server_task: asyncio.Task[Any] | None = None
    scheduler_task: asyncio.Task[Any] | None = None
    # Zalo cannot upload files: it links to them, served by the web app at the public URL.
    files = (
        FileLinks.from_secret(settings.zalo_bot_token, public_url, root=EXPORTS)
        if settings.zalo_bot_token and public_url
        else None
    )
    with _stop_on_signals(stop):
        try:
            await app.upgrade_database()
            hooks: list[Webhook] = []
            if settings.telegram_bot_token:
                channel = build_channel(app.conversation)
                try:
                    started, _ = await _unless_stopped(channel.initialize(), stop)
                    if not started:
                        return 0
                    if use_webhook:
                        await channel.start_webhook(public_url)
                        hooks.append(channel.webhook())
                        log_event(log, "telegram webhook registered", url=webhook_url(public_url))
                    else:
                        await channel.start_polling()
                        log_event(log, "telegram polling started", bot=channel.bot.username)
                except InvalidToken:
                    print(
                        t.t("coopbot run: Telegram không nhận TELEGRAM_BOT_TOKEN"), file=sys.stderr
                    )
                    return 1
                except TelegramError as exc:
                    print(
                        t.t("coopbot run: Telegram không cho khởi động: {error}", error=exc),
                        file=sys.stderr,
                    )
                    return 1
            if settings.zalo_bot_token:
                zalo = build_zalo_channel(app.conversation, files=files)
                try:
                    started, _ = await _unless_stopped(zalo.initialize(), stop)
                    if not started:
                        return 0
                    if use_webhook:
                        await zalo.start_webhook(public_url)
                        hooks.append(zalo.webhook())
                        log_event(log, "zalo webhook registered", url=zalo_webhook_url(public_url))
                    else:
                        await zalo.start_polling()
                        log_event(log, "zalo polling started", bot=zalo.bot_name)
                except ZaloUnauthorized:
                    print(t.t("coopbot run: Zalo không nhận ZALO_BOT_TOKEN"), file=sys.stderr)
                    return 1
                except ZaloError as exc:  # its message never contains the token
                    print(
                        t.t("coopbot run: Zalo không cho khởi động: {error}", error=exc),
                        file=sys.stderr,
                    )
                    return 1
            if use_webhook or listen or files is not None:
                server = _web_server(app, hooks, host, port, files)
                server_task = asyncio.create_task(server.serve())
                log_event(log, "web server listening", host=host, port=port)
            # Report cycle, reminders, ticket re-notification, scheduled broadcasts.
            scheduler_task = asyncio.create_task(run_scheduler(app, stop))
            waiters = [asyncio.ensure_future(stop.wait())]
            if server_task is not None:
                waiters.append(server_task)  # the server dying (port taken) ends the run
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            waiters[0].cancel()
            log.info("stopping")
        finally:
            if scheduler_task is not None:
                scheduler_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await scheduler_task
            if server is not None and server_task is not None:
                server.should_exit = True
                with contextlib.suppress(Exception, SystemExit):
                    await server_task
            if channel is not None:
                await channel.stop()
            if zalo is not None:
                await zalo.stop()
            await app.close()
    if server_task is not None and server_task.done() and not stop.is_set():
        return 1
    return 0


def _web_server(
    app: App, hooks: list[Webhook], host: str, port: int, files: FileLinks | None = None
) -> _Server:
    from bot.pages import routes as console_routes

    web = create_web_app(app.engine, app.kb, hooks, files, console_routes(app.console()))
    config = uvicorn.Config(
        web,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="off",
        server_header=False,
    )
    return _Server(config)
