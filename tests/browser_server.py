"""The whole app served by uvicorn on 127.0.0.1 and a free port, in a background thread with
its own event loop, for the browser tests. Chat messages and deliveries run on that same loop
(:meth:`LiveApp.run`), so every database connection lives on one loop."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvicorn

from bot.app import App
from bot.pages import routes
from bot.web import create_web_app

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveApp:
    def __init__(self, app: App, port: int) -> None:
        self.app = app
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        web = create_web_app(app.engine, app.kb, pages=routes(app.console()))
        config = uvicorn.Config(web, host="127.0.0.1", port=port, log_config=None,
                                access_log=False, lifespan="off")  # fmt: skip
        self.server = uvicorn.Server(config)

    def start(self) -> None:
        self.thread.start()
        self._serving = asyncio.run_coroutine_threadsafe(self.server.serve(), self.loop)
        deadline = time.monotonic() + 20
        while not self.server.started:
            if self._serving.done() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the server's loop and wait for it."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def stop(self) -> None:
        self.server.should_exit = True
        self._serving.result(timeout=20)
        self.run(self.app.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
