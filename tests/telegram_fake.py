"""A fake Telegram Bot API at the HTTP layer, and real-looking updates to feed the bot.

:class:`FakeTelegram` is a python-telegram-bot ``BaseRequest``: it records every call as
``(method, parameters)``, answers with realistic JSON, and can be told to fail a method
(403, 429, a network error) or to hold it until an event is set. ``getUpdates`` hands out
updates queued with :meth:`FakeTelegram.queue_update`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData

SAFETY_TIMEOUT = 20.0
TOKEN = "123456789:TEST-fake-token-for-coopbot-tests"
BOT = {
    "id": 123456789,
    "is_bot": True,
    "first_name": "Coopbot",
    "username": "coopbot_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


@dataclass
class Failure:
    status: int = 0  # 0: raise a network error instead of answering
    description: str = ""
    retry_after: int | None = None


FORBIDDEN = Failure(403, "Forbidden: bot was blocked by the user")
TOO_MANY = Failure(429, "Too Many Requests: retry after 5", retry_after=5)
OUTAGE = Failure(0, "connection refused")


class FakeTelegram(BaseRequest):
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._failures: dict[str, deque[Failure]] = {}
        self._holds: dict[str, asyncio.Event] = {}
        self._updates: deque[dict[str, Any]] = deque()
        self._update_ready = asyncio.Event()
        self._changed = asyncio.Condition()
        self._message_id = 1000

    # configuration

    def fail(self, method: str, *failures: Failure) -> None:
        """The next calls of ``method`` fail, one failure per call."""
        self._failures.setdefault(method, deque()).extend(failures)

    def hold(self, method: str) -> asyncio.Event:
        """Calls of ``method`` wait until the returned event is set."""
        self._holds[method] = asyncio.Event()
        return self._holds[method]

    def queue_update(self, update: dict[str, Any]) -> None:
        self._updates.append(update)
        self._update_ready.set()

    # inspection

    def sent(self, *methods: str) -> list[dict[str, Any]]:
        methods = methods or ("sendMessage",)
        return [params for method, params in self.calls if method in methods]

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [
            p["text"]
            for m, p in self.calls
            if m in ("sendMessage", "editMessageText")
            and (chat_id is None or int(p["chat_id"]) == chat_id)
        ]

    async def wait_for(self, done: Callable[[], bool]) -> None:
        """Wait until ``done()`` is true; the time-out is a safety net, not an assertion."""
        async with asyncio.timeout(SAFETY_TIMEOUT), self._changed:
            await self._changed.wait_for(done)

    # BaseRequest

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        if api_method == "getUpdates":
            return 200, await self._get_updates(params)
        if api_method in self._holds:
            await self._holds[api_method].wait()
        await self._record(api_method, params)
        queue = self._failures.get(api_method)
        if queue:
            failure = queue.popleft()
            if failure.status == 0:
                raise NetworkError(failure.description)
            body: dict[str, Any] = {
                "ok": False,
                "error_code": failure.status,
                "description": failure.description,
            }
            if failure.retry_after is not None:
                body["parameters"] = {"retry_after": failure.retry_after}
            return failure.status, json.dumps(body).encode()
        return 200, json.dumps({"ok": True, "result": self._result(api_method, params)}).encode()

    async def _record(self, method: str, params: dict[str, Any]) -> None:
        self.calls.append((method, params))
        async with self._changed:
            self._changed.notify_all()

    async def _get_updates(self, params: dict[str, Any]) -> bytes:
        queue = self._failures.get("getUpdates")
        if queue:
            queue.popleft()
            raise NetworkError("connection refused")
        if not self._updates:
            self._update_ready.clear()
            wait = min(float(params.get("timeout") or 0), 0.2)
            try:
                await asyncio.wait_for(self._update_ready.wait(), wait)
            except TimeoutError:
                pass
        offset = int(params.get("offset") or 0)
        result = [u for u in self._updates if u["update_id"] >= offset]
        self._updates = deque(result)
        return json.dumps({"ok": True, "result": result}).encode()

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT
        if method.startswith(("send", "edit")):
            return self._message(method, params)
        return True

    def _message(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params.get("chat_id", 0))
        self._message_id += 1
        chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": "Member"}
        if chat_id < 0:
            chat = {"id": chat_id, "type": "supergroup", "title": "HTX group"}
        message: dict[str, Any] = {
            "message_id": int(params.get("message_id") or self._message_id),
            "date": int(time.time()),
            "chat": chat,
            "from": {k: BOT[k] for k in ("id", "is_bot", "first_name", "username")},
        }
        if "text" in params:
            message["text"] = params["text"]
        if params.get("caption"):
            message["caption"] = params["caption"]
        if method == "sendPhoto":
            message["photo"] = [
                {"file_id": "AgAD-photo", "file_unique_id": "uphoto", "width": 640, "height": 480}
            ]
        if method == "sendDocument":
            message["document"] = {
                "file_id": "BQAD-doc",
                "file_unique_id": "udoc",
                "file_name": "file",
            }
        return message


# --- updates, as Telegram sends them -----------------------------------------------------

_next_update = [5000]


def _update_id() -> int:
    _next_update[0] += 1
    return _next_update[0]


def user(user_id: int, first_name: str = "Lan", language_code: str = "vi") -> dict[str, Any]:
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": first_name,
        "last_name": "Nguyễn",
        "language_code": language_code,
    }


def message_update(
    user_id: int,
    text: str,
    *,
    chat_id: int | None = None,
    chat_type: str = "private",
    entities: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A message update; commands get their ``bot_command`` entity automatically."""
    chat_id = user_id if chat_id is None else chat_id
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
    if chat_type == "private":
        chat["first_name"] = "Lan"
    else:
        chat["title"] = "HTX group"
    message: dict[str, Any] = {
        "message_id": _update_id(),
        "date": int(time.time()),
        "chat": chat,
        "from": user(user_id),
        "text": text,
    }
    if entities is None and text.startswith("/"):
        entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    if entities:
        message["entities"] = entities
    return {"update_id": _update_id(), "message": message}


def callback_update(user_id: int, data: str, *, message_id: int = 77) -> dict[str, Any]:
    """A button press on the bot's message ``message_id`` in the private chat."""
    return {
        "update_id": _update_id(),
        "callback_query": {
            "id": f"cq{_update_id()}",
            "from": user(user_id),
            "chat_instance": "-5550001",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private", "first_name": "Lan"},
                "from": {k: BOT[k] for k in ("id", "is_bot", "first_name", "username")},
                "text": "…",
            },
        },
    }


def my_chat_member_update(user_id: int, old: str, new: str) -> dict[str, Any]:
    """The member blocked (``new="kicked"``) or unblocked (``new="member"``) the bot."""
    bot_user = {k: BOT[k] for k in ("id", "is_bot", "first_name", "username")}
    return {
        "update_id": _update_id(),
        "my_chat_member": {
            "chat": {"id": user_id, "type": "private", "first_name": "Lan"},
            "from": user(user_id),
            "date": int(time.time()),
            "old_chat_member": {"user": bot_user, "status": old, **_kicked(old)},
            "new_chat_member": {"user": bot_user, "status": new, **_kicked(new)},
        },
    }


def _kicked(status: str) -> dict[str, Any]:
    return {"until_date": 0} if status == "kicked" else {}
