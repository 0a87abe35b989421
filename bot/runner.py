"""``coopbot run``: start the channels whose tokens are set and run until SIGINT/SIGTERM.

Telegram (``TELEGRAM_BOT_TOKEN``) and Zalo (``ZALO_BOT_TOKEN``) run by long polling, or with
``--webhook`` behind the one ASGI app (uvicorn) at ``/telegram/webhook`` and ``/zalo/webhook``,
which also answers ``GET /healthz``, ``GET /readyz`` and ``GET /metrics`` (bot/ops_web.py);
``--listen`` without ``--webhook`` serves only those next to polling. With Zalo and a public URL (``--public-url`` or ``COOPBOT_PUBLIC_URL``)
the app also serves the signed file links Zalo members receive (``GET /files/<token>``), so it
is started even when polling. Stopping finishes the updates in progress, then closes the
database.

Several workers may run on one PostgreSQL database: the scheduler, each channel's delivery
(outbox and broadcasts) and long polling run in one worker at a time, the holder of their
advisory locks (bot/leader.py, bot/jobs.py); messenger limits are shared through the database
(bot/channels/budget.py). On SQLite one process runs everything.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Iterator, Sequence
from typing import Any, TypeVar

import uvicorn
from starlette.routing import BaseRoute
from telegram.error import InvalidToken, TelegramError

from bot.app import App, build_app
from bot.channels.budget import SharedTelegramLimiter, SharedTransport, shared_budget
from bot.channels.telegram import TelegramChannel, build_channel, webhook_url
from bot.channels.zalo import ZaloChannel, ZaloError, ZaloUnauthorized
from bot.channels.zalo import build_channel as build_zalo_channel
from bot.channels.zalo import webhook_url as zalo_webhook_url
from bot.cli_common import translator
from bot.jobs import delivery_job, scheduler_job, telegram_polling_job, zalo_polling_job
from bot.leader import Job, leadership_for, worker_name
from bot.metrics import metrics
from bot.ops_web import ops_routes
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
    if not sep or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
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
    leader_task: asyncio.Task[Any] | None = None
    failed = False
    # Messenger limits are global: on PostgreSQL every worker takes its slots from one budget.
    budget = shared_budget(app.engine)
    if budget is not None:
        # Several workers: Telegram may deliver an update again, to another worker; handle it
        # once (seen_updates). One SQLite process needs no such check.
        app.conversation.once_channels = frozenset({"telegram"})
    # Zalo cannot upload files: it links to them, served by the web app at the public URL.
    files = (
        FileLinks.from_secret(settings.zalo_bot_token, public_url, root=EXPORTS)
        if settings.zalo_bot_token and public_url
        else None
    )
    # Work that must happen once, whatever the number of workers (bot/leader.py).
    jobs: dict[str, Job] = {"scheduler": scheduler_job(app)}
    with _stop_on_signals(stop):
        try:
            await app.upgrade_database()
            hooks: list[Webhook] = []
            if settings.telegram_bot_token:
                limiter = SharedTelegramLimiter(budget)
                channel = build_channel(app.conversation, limiter=limiter)
                try:
                    started, _ = await _unless_stopped(channel.initialize(), stop)
                    if not started:
                        return 0
                    if use_webhook:
                        await channel.start_webhook(public_url, outbox=False)
                        hooks.append(channel.webhook())
                        log_event(log, "telegram webhook registered", url=webhook_url(public_url))
                    else:
                        jobs["telegram.polling"] = telegram_polling_job(channel)
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
                jobs["telegram.delivery"] = delivery_job(channel)
            if settings.zalo_bot_token:
                zalo = build_zalo_channel(
                    app.conversation, files=files, transport=SharedTransport(budget)
                )
                try:
                    started, _ = await _unless_stopped(zalo.initialize(), stop)
                    if not started:
                        return 0
                    if use_webhook:
                        await zalo.start_webhook(public_url, outbox=False)
                        hooks.append(zalo.webhook())
                        log_event(log, "zalo webhook registered", url=zalo_webhook_url(public_url))
                    else:
                        jobs["zalo.polling"] = zalo_polling_job(zalo)
                except ZaloUnauthorized:
                    print(t.t("coopbot run: Zalo không nhận ZALO_BOT_TOKEN"), file=sys.stderr)
                    return 1
                except ZaloError as exc:  # its message never contains the token
                    print(
                        t.t("coopbot run: Zalo không cho khởi động: {error}", error=exc),
                        file=sys.stderr,
                    )
                    return 1
                jobs["zalo.delivery"] = delivery_job(zalo)
            leadership = leadership_for(
                settings.database_url,
                jobs,
                on_change=metrics().job_changed(worker_name()),  # type: ignore[arg-type]
            )
            if use_webhook or listen or files is not None:
                extra = ops_routes(
                    app.engine, lambda: leadership.held, metrics_token=settings.metrics_token
                )
                server = _web_server(app, hooks, host, port, files, extra)
                server_task = asyncio.create_task(server.serve())
                log_event(log, "web server listening", host=host, port=port)
            # The scheduler, delivery and polling run in this worker while it holds their locks.
            leader_task = asyncio.create_task(leadership.run(stop))
            waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(stop.wait()), leader_task]
            if server_task is not None:
                waiters.append(server_task)  # the server dying (port taken) ends the run
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            failed = not stop.is_set()  # the server (port taken) or the leadership died
            waiters[0].cancel()
            log.info("stopping")
        finally:
            stop.set()
            if leader_task is not None:  # stops this worker's jobs, then frees their locks
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await leader_task
            if server is not None and server_task is not None:
                server.should_exit = True
                with contextlib.suppress(Exception, SystemExit):
                    await server_task
            if channel is not None:
                await channel.stop()
            if zalo is not None:
                await zalo.stop()
            if budget is not None:
                await budget.close()
            await app.close()
    return 1 if failed else 0


def _web_server(
    app: App,
    hooks: list[Webhook],
    host: str,
    port: int,
    files: FileLinks | None = None,
    extra: Sequence[BaseRoute] = (),
) -> _Server:
    from bot.pages import routes as console_routes

    web = create_web_app(
        app.engine, app.kb, hooks, files, console_routes(app.console()), extra_routes=extra
    )
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
