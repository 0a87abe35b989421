"""The Zalo channel, on the Zalo Bot Platform API (``bot-api.zaloplatforms.com``) with httpx.

It turns updates into the core's :class:`Incoming` and renders its :class:`Reply`; every text
message goes through :meth:`Conversation.handle`. Zalo has no inline keyboards, edits or
documents, so:

- buttons become a numbered list with a hint ("Gõ 1, 2 hoặc 3 để chọn."), and the member
  presses one by typing its number (``Incoming.numbered_buttons``: the core remembers the
  buttons it showed);
- text is plain and split into messages of at most 2,000 characters at paragraph, line or
  word boundaries;
- an image goes out with sendPhoto by URL and a file as a link, both through the short-lived
  signed links of :class:`bot.web.FileLinks` when ``COOPBOT_PUBLIC_URL`` is set; without it the
  member is told politely that the file cannot be sent here;
- images, stickers, voice and withheld ("unsupported") messages get a polite reply saying the
  assistant reads text only.

``getUpdates`` long-polls and returns one update (HTTP 408 when there is none) with no offset,
so updates are deduplicated on their message id: in memory (:class:`RecentIds`), and by the
core in the database (``Incoming.once``), so a restart does not answer a message twice.
Updates of different users run concurrently, those of one user in arrival order.

The token is part of every URL: it is never logged, and it is removed from every error this
module raises (:class:`ZaloError`) and from httpx's own request log.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from bot.channels.delivery import (
    Background,
    Blocked,
    DeliveryEngine,
    RateLimited,
    Transient,
    Uncertain,
    deliver_pending,
)
from bot.channels.telegram import split_text
from bot.web import FileLinks, Webhook
from db.models import Member
from db.queries import get_member, mark_unreachable
from ground.i18n import Translator
from ground.logs import log_event, redact, user_hash
from ground.messages import Incoming, Reply
from handlers.core import Conversation

log = logging.getLogger("coopbot.zalo")

CHANNEL = "zalo"
DEFAULT_BASE_URL = "https://bot-api.zaloplatforms.com/bot"
MAX_TEXT = 2000
WEBHOOK_PATH = "/zalo/webhook"
SECRET_HEADER = "X-Bot-Api-Secret-Token"
TEXT_EVENT = "message.text.received"
OTHER_EVENTS = {
    "message.image.received": "image",
    "message.sticker.received": "sticker",
    "message.voice.received": "unsupported",
    "message.unsupported.received": "unsupported",
}
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

Sleep = Callable[[float], Awaitable[None]]
Kind = Literal["text", "image", "sticker", "unsupported"]


# --- errors --------------------------------------------------------------------------------


class ZaloError(Exception):
    """A Bot API call failed. The message never contains the token."""

    def __init__(self, method: str, message: str, status: int | None = None) -> None:
        super().__init__(f"Zalo {method}: {message}")
        self.method = method
        self.status = status


class ZaloUnauthorized(ZaloError):
    """401: the token is wrong or was reset."""


class ZaloForbidden(ZaloError):
    """403: the bot may not write to this chat (e.g. the member blocked it)."""


class ZaloNetworkError(ZaloError):
    """No answer from Zalo (connection refused, time-out, …)."""


class _HideToken(logging.Filter):
    """Removes the token from records of httpx's logger, which logs every request URL."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<token>"), None
        return True


# --- the HTTP client -----------------------------------------------------------------------


class ZaloApi:
    """A small client for ``<base_url><token>/<method>``.

    Every call is a JSON POST answered with ``{ok, result}`` or ``{ok: false, error_code,
    description}``. HTTP 429 and 5xx, and network errors, are retried ``max_retries`` times
    with exponential backoff (``sleep`` is injectable so tests do not wait); a network time-out
    of a ``send*`` call is not retried, as the message may have arrived.
    """

    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        max_retries: int = 4,
        backoff: float = 1.0,
        timeout: float = 20.0,
    ) -> None:
        self._token = token
        self._base = base_url
        self._sleep = sleep
        self.max_retries = max_retries
        self.backoff = backoff
        self.timeout = timeout
        self._client = httpx.AsyncClient(transport=transport, timeout=timeout)
        self._hide = _HideToken(token)
        logging.getLogger("httpx").addFilter(self._hide)

    def _clean(self, text: str) -> str:
        return redact(text.replace(self._token, "<token>"))

    async def aclose(self) -> None:
        await self._client.aclose()
        logging.getLogger("httpx").removeFilter(self._hide)

    async def call(
        self, method: str, params: dict[str, Any] | None = None, *, wait: float | None = None
    ) -> Any:
        """Call ``method``; returns ``result``, or None for a long poll that timed out (408).
        ``wait`` replaces the HTTP time-out (long polls hold the request open)."""
        url = f"{self._base}{self._token}/{method}"
        attempt = 0
        while True:
            try:
                response = await self._client.post(
                    url, json=params or {}, timeout=wait or self.timeout
                )
            except httpx.TransportError as exc:
                no_retry = isinstance(exc, httpx.ReadTimeout) and method.startswith("send")
                error = ZaloNetworkError(method, self._clean(f"{type(exc).__name__}: {exc}"))
                if no_retry or attempt >= self.max_retries:
                    raise error from None
                attempt += 1
                await self._backoff(method, attempt, type(exc).__name__, None)
                continue
            status, data = self._decode(response)
            if status == 408 and method == "getUpdates":
                return None
            if status in RETRY_STATUSES and attempt < self.max_retries:
                attempt += 1
                await self._backoff(method, attempt, f"HTTP {status}", response)
                continue
            if status == 200 and isinstance(data, dict) and data.get("ok", True):
                return data.get("result")
            raise self._error(method, status, data)

    @staticmethod
    def _decode(response: httpx.Response) -> tuple[int, Any]:
        try:
            data = response.json()
        except ValueError:
            data = None
        status = response.status_code
        if status == 200 and isinstance(data, dict) and data.get("ok") is False:
            code = data.get("error_code")
            status = code if isinstance(code, int) and code != 200 else 400
        return status, data

    def _error(self, method: str, status: int, data: Any) -> ZaloError:
        description = data.get("description") if isinstance(data, dict) else None
        message = self._clean(f"HTTP {status}" + (f" {description}" if description else ""))
        cls = {401: ZaloUnauthorized, 403: ZaloForbidden}.get(status, ZaloError)
        return cls(method, message, status)

    async def _backoff(
        self, method: str, attempt: int, error: str, response: httpx.Response | None
    ) -> None:
        wait = min(60.0, self.backoff * 2 ** (attempt - 1))
        retry_after = response.headers.get("Retry-After") if response is not None else None
        if retry_after and retry_after.isdigit():
            wait = max(wait, float(retry_after))
        log_event(
            log, "zalo call failed, retrying", logging.WARNING, method=method, error=error,
            retry_in=wait,
        )  # fmt: skip
        await self._sleep(wait)

    # the methods the channel uses

    async def get_me(self) -> dict[str, Any]:
        return await self.call("getMe") or {}

    async def get_updates(self, seconds: int = 30) -> dict[str, Any] | None:
        """Wait up to ``seconds`` for one update; None when there was none."""
        result = await self.call("getUpdates", {"timeout": seconds}, wait=seconds + 15)
        return result if isinstance(result, dict) else None

    async def set_webhook(self, url: str, secret_token: str) -> Any:
        return await self.call("setWebhook", {"url": url, "secret_token": secret_token})

    async def delete_webhook(self) -> Any:
        return await self.call("deleteWebhook")

    async def send_message(self, chat_id: str, text: str) -> Any:
        return await self.call("sendMessage", {"chat_id": chat_id, "text": text})

    async def send_photo(self, chat_id: str, photo: str, caption: str | None = None) -> Any:
        params = {"chat_id": chat_id, "photo": photo}
        if caption:
            params["caption"] = caption
        return await self.call("sendPhoto", params)

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> Any:
        return await self.call("sendChatAction", {"chat_id": chat_id, "action": action})


# --- updates → Incoming --------------------------------------------------------------------


@dataclass(frozen=True)
class Inbound:
    """An update the bot should react to, and where its replies go."""

    kind: Kind
    incoming: Incoming
    chat_id: str
    private: bool
    message_id: str


def unwrap(data: object) -> list[dict[str, Any]]:
    """The updates in a webhook body or a getUpdates result: ``{ok, result}`` or bare, one
    update or a list."""
    if isinstance(data, dict) and "result" in data and "event_name" not in data:
        data = data["result"]
    items = data if isinstance(data, list) else [data]
    return [u for u in items if isinstance(u, dict)]


def to_inbound(update: dict[str, Any]) -> Inbound | None:
    """Translate one update; ``None`` when the bot should stay silent."""
    event = update.get("event_name")
    message = update.get("message")
    if not isinstance(message, dict):
        return None
    kind: Kind
    if event == TEXT_EVENT:
        kind = "text"
    elif event in OTHER_EVENTS:
        kind = OTHER_EVENTS[event]  # type: ignore[assignment]
    else:
        return None
    sender = message.get("from") or {}
    chat = message.get("chat") or {}
    user_id = str(sender.get("id") or "")
    if not user_id or sender.get("is_bot"):
        return None
    chat_id = str(chat.get("id") or user_id)
    private = str(chat.get("chat_type") or "PRIVATE").upper() == "PRIVATE"
    text = message.get("text") if kind == "text" else None
    text = text if isinstance(text, str) else ""
    if not private and not (kind == "text" and text.startswith("/")):
        return None  # in groups: commands only
    message_id = str(message.get("message_id") or "")
    if not message_id:
        message_id = f"{event}:{chat_id}:{user_id}:{message.get('date')}"
    incoming = Incoming(
        channel=CHANNEL,
        user_id=user_id,
        text=text,
        display_name=sender.get("display_name") or None,
        update_id=message_id,
        numbered_buttons=True,
        once=True,  # getUpdates may repeat an update, even across a restart
    )
    return Inbound(kind, incoming, chat_id, private, message_id)


class RecentIds:
    """The last ``size`` message ids seen: getUpdates has no offset and may repeat updates."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, key: str) -> bool:
        """Remember ``key``; False when it was already there."""
        if key in self._ids:
            self._ids.move_to_end(key)
            return False
        self._ids[key] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True


# --- rendering -----------------------------------------------------------------------------


def choose_hint(t: Translator, n: int, first: int = 1) -> str:
    """ "Gõ 1, 2 hoặc 3 để chọn." for ``n`` buttons numbered from ``first``."""
    last = first + n - 1
    if n == 1:
        return t.t("Gõ 1 để chọn.") if first == 1 else t.t("Gõ {number} để chọn.", number=first)
    if n <= 5:
        numbers = ", ".join(str(i) for i in range(first, last))
        return t.t("Gõ {numbers} hoặc {last} để chọn.", numbers=numbers, last=last)
    if first == 1:
        return t.t("Gõ một số từ 1 đến {last} để chọn.", last=last)
    return t.t("Gõ một số từ {first} đến {last} để chọn.", first=first, last=last)


def render_buttons(reply: Reply, t: Translator, first: int = 1) -> str:
    """The numbered list of ``reply``'s buttons, numbered from ``first`` (the replies of one
    answer share one numbering, as the core remembers their buttons in order)."""
    buttons = reply.flat_buttons()
    if not buttons:
        return ""
    if reply.numbers_are_text:  # a typed number answers the question: type the label
        return "\n".join(f"• {b.label}" for b in buttons)
    lines = [f"{i}. {b.label}" for i, b in enumerate(buttons, first)]
    return "\n".join([*lines, choose_hint(t, len(buttons), first)])


def render_messages(text: str, menu: str = "", limit: int = MAX_TEXT) -> list[str]:
    """``text`` split into messages of at most ``limit`` characters, with the numbered list
    ``menu`` kept whole at the end (in its own message when it does not fit the last)."""
    parts = split_text(text.strip(), limit) if text.strip() else []
    if menu:
        if parts and len(parts[-1]) + 2 + len(menu) <= limit:
            parts[-1] = f"{parts[-1]}\n\n{menu}"
        else:
            parts += split_text(menu, limit)
    return parts


# --- the channel ---------------------------------------------------------------------------


def webhook_secret(token: str) -> str:
    """The secret Zalo sends in ``X-Bot-Api-Secret-Token`` (64 characters; 8–256 allowed),
    derived from the token so every worker agrees on it without extra configuration."""
    return hmac.new(token.encode(), b"coopbot zalo webhook", hashlib.sha256).hexdigest()


def webhook_url(public_url: str) -> str:
    """``https://bot.example.org`` → ``https://bot.example.org/zalo/webhook``."""
    url = public_url.rstrip("/")
    return url if url.endswith(WEBHOOK_PATH) else url + WEBHOOK_PATH


class _Slot:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class ZaloChannel:
    """Receives updates (long polling or the webhook), hands them to the conversation core and
    delivers its replies. ``transport`` replaces the HTTP layer (tests); ``sleep`` is used for
    every backoff; ``files`` makes file links (None: files are refused politely)."""

    def __init__(
        self,
        conversation: Conversation,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        files: FileLinks | None = None,
        poll_timeout: int = 30,
        max_running: int = 16,
        recent: int = 4096,
    ) -> None:
        self.conversation = conversation
        self.api = ZaloApi(token, base_url, transport=transport, sleep=sleep)
        self.secret = webhook_secret(token)
        self.files = files
        self.poll_timeout = poll_timeout
        self.bot: dict[str, Any] = {}
        self._sleep = sleep
        self._seen = RecentIds(recent)
        self._running = asyncio.Semaphore(max_running)
        self._slots: dict[str, _Slot] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._poll_task: asyncio.Task[None] | None = None
        self.background = Background(conversation, CHANNEL)

    # lifecycle

    async def initialize(self, retries: int = -1) -> None:
        """getMe, retrying network errors and 5xx with backoff (``retries=-1``: until it
        works). A rejected token (401) raises at once."""
        attempt = 0
        while True:
            try:
                self.bot = await self.api.get_me()
                return
            except ZaloUnauthorized:
                raise
            except ZaloError as exc:
                if not isinstance(exc, ZaloNetworkError) and (exc.status or 0) < 429:
                    raise
                attempt += 1
                if 0 <= retries < attempt:
                    raise
                wait = min(60.0, 2.0 ** min(attempt, 6))
                log_event(
                    log, "zalo not reachable at start-up, retrying", logging.WARNING,
                    error=str(exc), retry_in=wait,
                )  # fmt: skip
                await self._sleep(wait)

    @property
    def bot_name(self) -> str | None:
        name = self.bot.get("account_name") or self.bot.get("display_name")
        return str(name) if name else None

    async def start_polling(self) -> None:
        """Remove a webhook left behind (Zalo allows one or the other), then long-poll."""
        await self.api.delete_webhook()
        self._poll_task = asyncio.create_task(self._poll_loop())
        self.start_outbox()

    async def start_webhook(self, public_url: str) -> None:
        """Register the webhook with its secret token."""
        await self.api.set_webhook(webhook_url(public_url), self.secret)
        self.start_outbox()

    async def stop(self) -> None:
        await self.background.stop()
        if self._poll_task is not None:
            self._poll_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poll_task
        self._poll_task = None
        await self.join()
        await self.api.aclose()

    async def join(self) -> None:
        """Wait until every update received so far has been handled."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # receiving

    async def poll_once(self) -> bool:
        """One getUpdates; True when it brought a new update (now being handled)."""
        update = await self.api.get_updates(self.poll_timeout)
        if update is None:
            return False
        return self.dispatch(update) > 0

    async def _poll_loop(self) -> None:
        failures = 0
        while True:
            try:
                await self.poll_once()
                failures = 0
            except Exception as exc:
                failures += 1
                wait = min(60.0, 2.0 ** min(failures, 6))
                level = logging.ERROR if isinstance(exc, ZaloUnauthorized) else logging.WARNING
                log_event(
                    log, "zalo polling failed, retrying", level,
                    error=redact(f"{type(exc).__name__}: {exc}"), retry_in=wait,
                )  # fmt: skip
                await self._sleep(wait)

    def webhook(self) -> Webhook:
        """This channel's route for :func:`bot.web.create_web_app`."""
        return Webhook(WEBHOOK_PATH, SECRET_HEADER, self.secret, self.accept_webhook)

    async def accept_webhook(self, data: object) -> None:
        """Take the updates of one webhook body; they are handled in the background."""
        if not self.dispatch(data):
            log.debug("zalo webhook: nothing to handle")

    def dispatch(self, data: object) -> int:
        """Start handling the new updates in ``data``; returns how many were started."""
        started = 0
        for update in unwrap(data):
            inbound = to_inbound(update)
            if inbound is None or not self._seen.add(inbound.message_id):
                continue
            task = asyncio.create_task(self._process(inbound))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started += 1
        return started

    async def _process(self, inbound: Inbound) -> None:
        key = inbound.incoming.user_id
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _Slot()
        slot.users += 1
        try:
            async with slot.lock, self._running:
                await self._handle(inbound)
        except Exception:
            log.exception("zalo update failed", extra={"fields": {"update_id": inbound.message_id}})
        finally:
            slot.users -= 1
            if slot.users == 0:
                del self._slots[key]

    async def _handle(self, inbound: Inbound) -> None:
        await self._typing(inbound.chat_id)
        if inbound.kind == "text":
            outcome = await self.conversation.handle(inbound.incoming)
            replies, locale = outcome.replies, outcome.locale
        else:
            locale = await self._member_locale(inbound.incoming.user_id)
            t = self.conversation.translations.get(locale)
            replies = [Reply(self.text_only(t))]
            log_event(
                log, "zalo non-text message", kind=inbound.kind,
                user=user_hash(CHANNEL, inbound.incoming.user_id),
            )  # fmt: skip
        await self.deliver(inbound, replies, locale)

    @staticmethod
    def text_only(t: Translator) -> str:
        return t.t(
            "Xin lỗi, trợ lý chỉ đọc được tin nhắn chữ. Anh/chị vui lòng gõ câu hỏi bằng chữ, "
            "hoặc gõ /menu để xem các chủ đề."
        )

    async def _typing(self, chat_id: str) -> None:
        try:
            await self.api.send_chat_action(chat_id, "typing")
        except ZaloError as exc:
            log.debug("zalo typing not shown: %s", exc)

    async def _member_locale(self, user_id: str) -> str:
        async with self.conversation.sessions() as session:
            member = await get_member(session, CHANNEL, user_id)
        return member.locale if member is not None else self.conversation.settings.locale

    async def set_unreachable(self, user_id: str, unreachable: bool) -> None:
        async with self.conversation.sessions() as session:
            await mark_unreachable(session, CHANNEL, user_id, unreachable)
            await session.commit()
        log_event(
            log,
            "zalo member unreachable" if unreachable else "zalo member reachable",
            user=user_hash(CHANNEL, user_id),
        )

    # sending

    async def deliver(self, inbound: Inbound, replies: list[Reply], locale: str | None) -> None:
        t = self.conversation.translations.get(locale)
        try:
            first = 1
            for reply in replies:
                await self.send_reply(inbound.chat_id, reply, t, first)
                if not reply.numbers_are_text:
                    first += len(reply.flat_buttons())
        except ZaloForbidden:
            if inbound.private:
                await self.set_unreachable(inbound.incoming.user_id, True)
        except ZaloError as exc:
            log_event(
                log,
                "zalo reply not delivered",
                logging.ERROR,
                update_id=inbound.message_id,
                user=user_hash(CHANNEL, inbound.incoming.user_id),
                error=str(exc),
            )

    async def send_reply(self, chat_id: str, reply: Reply, t: Translator, first: int = 1) -> None:
        """Render one reply: text with its numbered buttons, and its attachment as a photo or
        a link (or a polite line when there is no public URL)."""
        text = reply.text
        photo: str | None = None
        if (att := reply.attachment) is not None:
            if self.files is None:
                line = t.t(
                    "Trợ lý chưa gửi được tệp “{filename}” qua Zalo. Anh/chị vui lòng gõ "
                    "/lienhe để nhận tệp từ cán bộ.",
                    filename=att.filename,
                )
                text = f"{text}\n\n{line}" if text.strip() else line
            elif att.is_image:
                photo = self.files.url_for(att.path, att.filename)
            else:
                line = t.t(
                    "Tải tệp “{filename}” tại: {url} (liên kết dùng được trong {hours} giờ)",
                    filename=att.filename,
                    url=self.files.url_for(att.path, att.filename),
                    hours=self.files.ttl_hours,
                )
                text = f"{text}\n\n{line}" if text.strip() else line
        messages = render_messages(text, render_buttons(reply, t, first))
        if photo is not None:
            caption = None
            if messages and len(messages[0]) <= MAX_TEXT and len(messages) == 1:
                caption = messages.pop(0)
            await self.api.send_photo(chat_id, photo, caption)
        for message in messages:
            await self.api.send_message(chat_id, message)

    # outbox: messages to members other than the one being answered

    async def deliver_outbox(self, limit: int = 30) -> int:
        """Send the pending outbox rows of Zalo members once; returns how many were sent.

        A row with buttons becomes the member's numbered choices, so typing a number presses
        one of them."""

        async def send(member: Member, reply: Reply) -> None:
            t = self.conversation.translations.get(member.locale)
            await self.send_reply(member.user_id, reply, t)
            actions = [b.action for b in reply.flat_buttons()]
            if actions:
                member.pending_actions = actions

        return await deliver_pending(
            self.conversation, CHANNEL, send, blocked=ZaloForbidden, errors=ZaloError, limit=limit
        )

    def start_outbox(self, interval: float = 2.0) -> None:
        self.background.start(self.deliver_outbox, ZaloSender(self), interval)

    def broadcast_engine(self, **options: Any) -> DeliveryEngine:
        """The delivery engine of broadcasts to Zalo members (db/broadcasts.py)."""
        return self.background.engine_for(ZaloSender(self), **options)


class ZaloSender:
    """Sends broadcast rows for the delivery engine. Zalo documents no rate, so it is paced
    conservatively; buttons become the member's numbered choices, as in every Zalo reply.
    Zalo cannot edit a message: staff see the first progress line, then the final report."""

    channel = CHANNEL

    def __init__(
        self, zalo: ZaloChannel, per_second: float = 10.0, per_chat_interval: float = 1.0
    ) -> None:
        self.zalo = zalo
        self.per_second = per_second
        self.per_chat_interval = per_chat_interval

    def calls(self, reply: Reply) -> int:
        """The API calls one notice costs (a long one goes in parts), paced as such."""
        t = self.zalo.conversation.translations.get(None)
        return max(1, len(render_messages(reply.text, render_buttons(reply, t))))

    async def send(self, user_id: str, reply: Reply) -> None:
        conv = self.zalo.conversation
        async with conv.sessions() as session:
            member = await get_member(session, CHANNEL, user_id)
            t = conv.translations.get(member.locale if member else None)
            try:
                await self.zalo.send_reply(user_id, reply, t)
            except ZaloForbidden as exc:
                raise Blocked(str(exc)) from exc
            except ZaloNetworkError as exc:  # may have arrived: never sent twice
                raise Uncertain(str(exc)) from exc
            except ZaloError as exc:
                if exc.status == 429:
                    raise RateLimited(5.0) from exc
                if exc.status is not None and exc.status >= 500:
                    raise Transient(str(exc)) from exc
                raise
            actions = [b.action for b in reply.flat_buttons()]
            if member is not None and actions:
                member.pending_actions = actions
                await session.commit()

    async def progress(self, user_id: str, text: str, message_id: str | None) -> str | None:
        if message_id is None:
            await self.zalo.api.send_message(user_id, text)
        return "first-only"


def build_channel(
    conversation: Conversation,
    *,
    files: FileLinks | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ZaloChannel:
    """The production channel: token and base URL from settings."""
    settings = conversation.settings
    if not settings.zalo_bot_token:
        raise ValueError("ZALO_BOT_TOKEN is not set")
    return ZaloChannel(
        conversation,
        settings.zalo_bot_token,
        settings.zalo_base_url,
        transport=transport,
        files=files,
        max_running=settings.max_running_updates,
    )
