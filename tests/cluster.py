"""Several real ``coopbot run --webhook`` workers on one PostgreSQL database, and a fake
Telegram Bot API they all talk to over HTTP: the harness of tests/test_workers.py and
bench/workers.py.

:class:`FakeBotApi` is an HTTP server on 127.0.0.1 (Starlette under uvicorn, in a thread)
answering the Bot API methods the bot calls and recording every message sent with the time
it arrived. :class:`Cluster` creates a database, seeds members and one broadcast, starts,
kills (``SIGKILL``) and restarts workers, and posts webhook updates to them.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.channels.telegram import webhook_secret

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:TEST-fake-token-for-coopbot-workers"
BOT = {"id": 123456789, "is_bot": True, "first_name": "Coopbot", "username": "coopbot_test_bot"}
STAFF_ID = 1000
MEMBER_BASE = 2_000_000
SENDING = ("send", "edit", "copyMessage", "forwardMessage")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Sent:
    method: str
    chat: int
    text: str
    at: float  # time.time() when the request arrived


class FakeBotApi:
    """The Bot API at ``base_url`` (``…/bot``): records what is sent, never refuses."""

    def __init__(self) -> None:
        self.port = free_port()
        self.sent: list[Sent] = []
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()
        self._message_id = 0
        app = Starlette(routes=[Route("/bot{token}/{method}", self._endpoint, methods=["POST"])])
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=asyncio.run, args=(self._server.serve(),))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def messages(self) -> list[Sent]:
        with self._lock:
            return list(self.sent)

    async def _endpoint(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        body = await request.body()
        if request.headers.get("content-type", "").startswith("application/json"):
            params: dict[str, Any] = json.loads(body or b"{}")
        else:
            params = dict(parse_qsl(body.decode()))
        now = time.time()
        with self._lock:
            self.calls[method] = self.calls.get(method, 0) + 1
            self._message_id += 1
            message_id = self._message_id
            if method.startswith(SENDING) and "chat_id" in params:
                sent = Sent(method, int(params["chat_id"]), str(params.get("text", "")), now)
                self.sent.append(sent)
        return JSONResponse({"ok": True, "result": self._result(method, params, message_id)})

    @staticmethod
    def _result(method: str, params: dict[str, Any], message_id: int) -> Any:
        if method == "getMe":
            return BOT
        if method.startswith(("send", "edit")):
            chat_id = int(params.get("chat_id", 0))
            return {
                "message_id": int(params.get("message_id") or message_id),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "Member"},
                "from": BOT,
                "text": params.get("text", ""),
            }
        return True


def message_update(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": "Thành viên", "language_code": "vi"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Thành viên"},
            "from": user,
            "text": text,
        },
    }


@dataclass
class Worker:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Cluster:
    """Workers sharing one fresh PostgreSQL database (``server``: the admin URL)."""

    server: str
    api: FakeBotApi
    workdir: Path
    name: str = field(default_factory=lambda: f"coopbot_workers_{uuid.uuid4().hex[:8]}")
    workers: list[Worker] = field(default_factory=list)

    @property
    def url(self) -> str:
        base = self.server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        return f"{base}/{self.name}"

    # the database

    def create(self) -> None:
        asyncio.run(self._admin(f'CREATE DATABASE "{self.name}"'))
        asyncio.run(self._migrate())

    def drop(self) -> None:
        asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))

    async def _admin(self, sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.server, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def _migrate(self) -> None:
        from db import migrate
        from db.session import create_engine

        engine = create_engine(self.url)
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()

    def query(self, sql: str) -> list[Any]:
        async def run() -> list[Any]:
            import asyncpg

            dsn = self.url.replace("postgresql+asyncpg://", "postgresql://")
            conn = await asyncpg.connect(dsn, timeout=5)
            try:
                return list(await conn.fetch(sql))
            finally:
                await conn.close()

        return asyncio.run(run())

    def seed_broadcast(self, recipients: int, text: str = "Thông báo hội chợ") -> int:
        """``recipients`` Telegram members and one broadcast to them, ready to send."""

        async def run() -> int:
            from db.broadcasts import enqueue_rows
            from db.models import BROADCAST_SENDING, ROLE_ADMIN, Broadcast, Member
            from db.session import create_engine, session_factory
            from ground.messages import Reply

            engine = create_engine(self.url)
            now = datetime.now(UTC)
            try:
                async with session_factory(engine)() as session:
                    staff = Member(
                        channel="telegram",
                        user_id=str(STAFF_ID),
                        role=ROLE_ADMIN,
                        locale="vi",
                        created_at=now,
                    )
                    members = [
                        Member(
                            channel="telegram",
                            user_id=str(MEMBER_BASE + i),
                            locale="vi",
                            created_at=now,
                        )
                        for i in range(recipients)
                    ]
                    session.add_all([staff, *members])
                    await session.flush()
                    broadcast = Broadcast(
                        text=text,
                        audience="all",
                        status=BROADCAST_SENDING,
                        created_by=staff.id,
                        created_at=now,
                        started_at=now,
                    )
                    session.add(broadcast)
                    await session.flush()
                    await enqueue_rows(session, broadcast, members, lambda m: Reply(text), now)
                    await session.commit()
                    return broadcast.id
            finally:
                await engine.dispose()

        return asyncio.run(run())

    # the workers

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("COOPBOT_", "TELEGRAM_", "ZALO_"))
        }
        env.update(
            DATABASE_URL=self.url,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_BASE_URL=self.api.base_url,
            COOPBOT_ADMINS=f"telegram:{STAFF_ID}",
            COOPBOT_LOG_FORMAT="json",
            COOPBOT_LOG_LEVEL="INFO",
        )
        return env

    def start_worker(self, port: int | None = None) -> Worker:
        port = port or free_port()
        log = self.workdir / f"worker-{port}-{len(self.workers)}.log"
        url = f"http://127.0.0.1:{port}"
        command = [
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            "--webhook",
            "--listen",
            f"127.0.0.1:{port}",
            "--public-url",
            url,
        ]
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, cwd=self.workdir, env=self.env(), stdout=out, stderr=subprocess.STDOUT
            )
        worker = Worker(port, process, log)
        self.workers.append(worker)
        return worker

    def wait_ready(self, worker: Worker, timeout: float = 90.0) -> dict[str, Any]:
        """Wait until ``worker`` answers ``/readyz`` (a safety net, not an assertion)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if worker.process.poll() is not None:
                raise RuntimeError(f"worker died at start:\n{worker.log.read_text()[-3000:]}")
            report = self.readyz(worker)
            if report is not None:
                return report
            time.sleep(0.2)
        raise RuntimeError(f"worker not ready:\n{worker.log.read_text()[-3000:]}")

    @staticmethod
    def readyz(worker: Worker) -> dict[str, Any] | None:
        try:
            response = httpx.get(worker.url + "/readyz", timeout=2)
        except httpx.HTTPError:
            return None
        return response.json() if response.status_code == 200 else None

    def alive(self) -> list[Worker]:
        return [w for w in self.workers if w.process.poll() is None]

    def holder(self, job: str) -> Worker | None:
        for worker in self.alive():
            report = self.readyz(worker)
            if report and job in report["jobs"]:
                return worker
        return None

    def kill(self, worker: Worker) -> None:
        worker.process.send_signal(signal.SIGKILL)
        worker.process.wait(timeout=10)

    def stop_all(self) -> None:
        for worker in self.alive():
            worker.process.send_signal(signal.SIGTERM)
        for worker in self.workers:
            try:
                worker.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.process.kill()

    # webhooks

    def post_update(self, worker: Worker, update: dict[str, Any]) -> bool:
        """Post one update as Telegram does; False when the worker did not take it."""
        try:
            response = httpx.post(
                worker.url + "/telegram/webhook",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": webhook_secret(TOKEN)},
                timeout=10,
            )
        except httpx.HTTPError:
            return False
        return response.status_code == 200


def per_second(times: list[float]) -> dict[int, int]:
    """How many of ``times`` fall in each whole second."""
    counts: dict[int, int] = {}
    for t in times:
        counts[int(t)] = counts.get(int(t), 0) + 1
    return counts
