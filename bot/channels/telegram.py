"""The Telegram channel, on python-telegram-bot.

It turns updates into the core's :class:`Incoming` and renders its :class:`Reply`; every
message goes through :meth:`Conversation.handle`. Members talk in private chats; in groups the
bot answers only commands and mentions of its username.

- Text is sent with HTML parse mode, escaped; answers longer than 4,096 characters are split
  at paragraph, line or word boundaries. Buttons become inline keyboards whose callback data is
  ``Button.action``; attachments go out with sendPhoto / sendDocument.
- Updates of different users run concurrently, those of one user in arrival order
  (:class:`PerUserOrder`).
- :class:`TelegramLimiter` keeps to Telegram's limits (30 messages/s overall, 20/min per group,
  1/s per private chat), honours RetryAfter and retries network errors with backoff.
- Forbidden (the member blocked the bot) and ``my_chat_member`` updates set the member's
  ``unreachable`` flag; the core clears it when they write again.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import logging
import time
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram import (
    BotCommand,
    CallbackQuery,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    MessageEntity,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    Application,
    BaseRateLimiter,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest
from telegram.warnings import PTBDeprecationWarning

from bot.channels.delivery import (
    Background,
    Blocked,
    DeliveryEngine,
    RateLimited,
    Transient,
    Uncertain,
    deliver_pending,
)
from bot.web import Webhook
from db.models import Member
from db.queries import mark_unreachable
from ground.logs import log_event, user_hash
from ground.messages import Incoming, Outcome, Reply
from handlers.core import Conversation

log = logging.getLogger("coopbot.telegram")

CHANNEL = "telegram"
MAX_TEXT = 4096
MAX_CAPTION = 1024
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]
MENU_LOCALES = ("vi", "en")

Sleep = Callable[[float], Awaitable[None]]


# --- text and keyboards -------------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _prefix_within(text: str, limit: int) -> int:
    """The number of characters of ``text`` that fit in ``limit`` UTF-16 units."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return i
    return len(text)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` units, at a paragraph, line or word break
    when there is one in the second half of the window, else at the limit."""
    parts: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        window = rest[: _prefix_within(rest, limit)]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            at = window.rfind(sep)
            if at >= len(window) // 2:
                cut = at
                break
        if cut <= 0:
            cut = len(window)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not parts:
        parts.append(rest)
    return parts


def to_html(text: str) -> str:
    return html.escape(text, quote=False)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    """Inline keyboard of ``reply``'s buttons (callback data is the button's action), or the
    one-time keyboard that shares the member's phone number."""
    if reply.contact_button:
        return ReplyKeyboardMarkup(
            [[KeyboardButton(reply.contact_button, request_contact=True)]],
            one_time_keyboard=True,
            resize_keyboard=True,
        )
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.action) for b in row]
            for row in reply.buttons
        ]
    )


# --- updates → Incoming ------------------------------------------------------------------


@dataclass(frozen=True)
class Inbound:
    """An update the core should see, and where its replies go."""

    incoming: Incoming
    chat_id: int
    private: bool
    callback: CallbackQuery | None = None


def _group_text(message: Message, username: str) -> str | None:
    """The text of a group message addressed to the bot (a command or a mention), else None."""
    text = message.text or message.caption or ""
    me = f"@{username}".lower()
    found = message.parse_entities([MessageEntity.BOT_COMMAND, MessageEntity.MENTION])
    if not found:
        found = message.parse_caption_entities([MessageEntity.MENTION])
    for entity, value in found.items():
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            _, at, target = value.partition("@")
            return text if not at or f"@{target}".lower() == me else None
        if entity.type == MessageEntity.MENTION and value.lower() == me:
            return text.replace(value, "", 1).strip()
    return None


def to_inbound(update: Update, bot_username: str) -> Inbound | None:
    """Translate a message or a button press; ``None`` when the bot should stay silent."""
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    common = {
        "channel": CHANNEL,
        "user_id": str(user.id),
        "display_name": user.full_name or None,
        "language_code": user.language_code,
        "update_id": str(update.update_id),
        "numbered_buttons": False,
    }
    if (cq := update.callback_query) is not None:
        if not cq.data:
            return None
        chat = cq.message.chat if cq.message else None
        chat_id = chat.id if chat else user.id
        private = chat is None or chat.type == ChatType.PRIVATE
        return Inbound(Incoming(action=cq.data, **common), chat_id, private, cq)
    message = update.message
    if message is None:
        return None
    if message.chat.type == ChatType.PRIVATE:
        text = message.text or message.caption or ""
        contact, shared = message.contact, {}
        if contact is not None:  # proof only when the contact is the sender's own account
            own = contact.user_id == user.id
            shared = {"contact_phone": contact.phone_number, "contact_verified": own}
            text = contact.phone_number if own else text
        return Inbound(Incoming(text=text, **common, **shared), message.chat.id, True)
    if message.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP):
        text = _group_text(message, bot_username)
        if text is None:
            return None
        return Inbound(Incoming(text=text, **common), message.chat.id, False)
    return None


# --- ordering -----------------------------------------------------------------------------


class _Slot:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


def _order_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    who = update.effective_user or update.effective_chat
    return who.id if who else None


class PerUserOrder(BaseUpdateProcessor):
    """Processes updates of different users concurrently and those of one user in order.

    Each user with updates in flight has a FIFO lock. Behind it, at most ``max_running``
    updates run at once (a few: SQLite has one writer, and concurrent writers only wait on
    each other); ``max_concurrent_updates`` bounds the updates waiting, so one member
    sending many messages holds waiting slots, not running ones.
    """

    def __init__(self, max_concurrent_updates: int = 4096, max_running: int = 16) -> None:
        super().__init__(max_concurrent_updates)
        self._running = asyncio.Semaphore(max_running)
        self._slots: dict[int, _Slot] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _order_key(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _Slot()
        slot.users += 1
        try:
            async with slot.lock, self._running:
                await coroutine
        finally:
            slot.users -= 1
            if slot.users == 0:
                del self._slots[key]

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""


# --- rate limits and retries -------------------------------------------------------------

_SPACED_PREFIXES = ("send", "copyMessage", "forwardMessage", "edit")


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramLimiter(BaseRateLimiter[int]):
    """Telegram's limits for every Bot API call that sends to a chat.

    - at most ``overall_per_second`` messages per second overall and ``group_per_minute`` per
      group (aiolimiter leaky buckets, as python-telegram-bot's ``AIORateLimiter``);
    - at least ``private_interval`` seconds between messages to one private chat;
    - RetryAfter pauses every request for the time Telegram asks, then retries (up to
      ``max_retries`` times);
    - network errors are retried ``network_retries`` times with exponential backoff (a time-out
      of a ``send*`` call is not retried: the message may have arrived).

    ``sleep`` and ``clock`` are injectable so tests run without waiting.
    """

    def __init__(
        self,
        *,
        overall_per_second: float = 30,
        group_per_minute: float = 20,
        private_interval: float = 1.0,
        max_retries: int = 5,
        network_retries: int = 4,
        backoff: float = 1.0,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._overall = AsyncLimiter(overall_per_second, 1) if overall_per_second else None
        self._group_per_minute = group_per_minute
        self._groups: dict[int | str, AsyncLimiter] = {}
        self.private_interval = private_interval
        self._next_private: dict[int, float] = {}
        self._paused_until = 0.0
        self.max_retries = max_retries
        self.network_retries = network_retries
        self.backoff = backoff
        self._sleep = sleep
        self._clock = clock

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""

    def _group_limiter(self, group: int | str) -> AsyncLimiter:
        if len(self._groups) > 512:
            for key, lim in list(self._groups.items()):
                if lim.has_capacity(lim.max_rate):
                    del self._groups[key]
        if group not in self._groups:
            self._groups[group] = AsyncLimiter(self._group_per_minute, 60)
        return self._groups[group]

    async def _space_private(self, chat_id: int) -> None:
        now = self._clock()
        if len(self._next_private) > 4096:
            self._next_private = {k: v for k, v in self._next_private.items() if v > now}
        slot = max(now, self._next_private.get(chat_id, 0.0))
        self._next_private[chat_id] = slot + self.private_interval
        if slot > now:
            await self._sleep(slot - now)

    async def _wait_pause(self) -> None:
        while (left := self._paused_until - self._clock()) > 0:
            await self._sleep(left)

    async def _limited(self, chat_id: int | str | None, call: Callable[[], Awaitable[Any]]) -> Any:
        if chat_id is None:
            return await call()
        group = chat_id if isinstance(chat_id, str) or chat_id < 0 else None
        if group is not None and self._group_per_minute:
            async with self._group_limiter(group):
                return await self._overall_limited(call)
        return await self._overall_limited(call)

    async def _overall_limited(self, call: Callable[[], Awaitable[Any]]) -> Any:
        if self._overall is None:
            return await call()
        async with self._overall:
            return await call()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = _chat_id(data.get("chat_id"))
        if (
            isinstance(chat_id, int)
            and chat_id > 0
            and self.private_interval
            and endpoint.startswith(_SPACED_PREFIXES)
        ):
            await self._space_private(chat_id)
        limited, failures = 0, 0
        while True:
            await self._wait_pause()
            try:
                return await self._limited(chat_id, lambda: callback(*args, **kwargs))
            except RetryAfter as exc:
                limited += 1
                if limited > (rate_limit_args or self.max_retries):
                    raise
                wait = retry_after_seconds(exc) + 0.1
                self._paused_until = max(self._paused_until, self._clock() + wait)
                log_event(log, "telegram rate limit hit", logging.WARNING, retry_after=wait)
            except (BadRequest, Forbidden, InvalidToken):
                raise
            except NetworkError as exc:
                failures += 1
                no_retry = isinstance(exc, TimedOut) and endpoint.startswith("send")
                if no_retry or failures > self.network_retries:
                    raise
                wait = self.backoff * 2 ** (failures - 1)
                log_event(
                    log,
                    "telegram network error, retrying",
                    logging.WARNING,
                    endpoint=endpoint,
                    error=type(exc).__name__,
                    retry_in=wait,
                )
                await self._sleep(wait)


def _chat_id(value: object) -> int | str | None:
    if value is None:
        return None
    try:
        return int(value)  # type: ignore[call-overload, no-any-return]
    except (TypeError, ValueError):
        return str(value)


# --- the channel -------------------------------------------------------------------------


def webhook_secret(token: str) -> str:
    """The secret Telegram echoes in every webhook request, derived from the token so every
    worker agrees on it without extra configuration."""
    return hmac.new(token.encode(), b"coopbot telegram webhook", hashlib.sha256).hexdigest()


def webhook_url(public_url: str) -> str:
    """``https://bot.example.org`` → ``https://bot.example.org/telegram/webhook``."""
    url = public_url.rstrip("/")
    return url if url.endswith(WEBHOOK_PATH) else url + WEBHOOK_PATH


class TelegramChannel:
    """Builds the python-telegram-bot Application around the conversation core and delivers
    its replies. ``request`` replaces the HTTP layer (tests, benchmarks); ``limiter=None``
    switches rate limiting off; ``max_running`` caps the updates processed at once
    (:class:`PerUserOrder`)."""

    def __init__(
        self,
        conversation: Conversation,
        token: str,
        base_url: str = "https://api.telegram.org/bot",
        *,
        request: BaseRequest | None = None,
        limiter: BaseRateLimiter[Any] | None = None,
        max_running: int = 16,
        startup_sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.conversation = conversation
        self.background = Background(conversation, CHANNEL)
        self.secret = webhook_secret(token)
        self._startup_sleep = startup_sleep
        builder = (
            Application.builder()
            .token(token)
            .base_url(base_url)
            .defaults(Defaults(tzinfo=conversation.settings.tz))
            .concurrent_updates(PerUserOrder(max_running=max_running))
        )
        if limiter is not None:
            builder = builder.rate_limiter(limiter)
        if request is not None:
            builder = builder.request(request).get_updates_request(request)
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.application.add_handler(MessageHandler(filters.ALL, self._on_update))
        self.application.add_handler(CallbackQueryHandler(self._on_update))
        self.application.add_handler(
            ChatMemberHandler(self._on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER)
        )
        self.application.add_error_handler(self._on_error)

    @property
    def bot(self):  # type: ignore[no-untyped-def]
        return self.application.bot

    # lifecycle

    async def initialize(self, retries: int = -1) -> None:
        """Initialise (getMe) and set the command menus, retrying network errors with
        backoff (``retries=-1``: until it works). An invalid token raises at once."""
        attempt = 0
        while True:
            try:
                await self.application.initialize()
                await self.set_commands()
                return
            except (InvalidToken, BadRequest, Forbidden):
                raise
            except (NetworkError, RetryAfter) as exc:
                attempt += 1
                if 0 <= retries < attempt:
                    raise
                wait = min(60.0, 2.0 ** min(attempt, 6))
                log_event(
                    log,
                    "telegram not reachable at start-up, retrying",
                    logging.WARNING,
                    error=type(exc).__name__,
                    retry_in=wait,
                )
                await self._startup_sleep(wait)

    async def set_commands(self) -> None:
        """The command menu in Vietnamese and English (and the default language)."""
        translations = self.conversation.translations
        commands = [
            c for c in self.conversation.router.commands if c.in_menu and c.role == "member"
        ]
        for code in (None, *MENU_LOCALES):
            t = translations.get(code or translations.default)
            menu = [BotCommand(c.name, t.t(c.description)) for c in commands]
            await self.bot.set_my_commands(menu, language_code=code)

    async def start_polling(self, outbox: bool = True) -> None:
        """Start processing and long polling; polling retries outages by itself. ``outbox``:
        also deliver the outbox and broadcasts (False: another job does, bot/leader.py)."""
        await self.application.start()
        assert self.application.updater is not None
        await self.application.updater.start_polling(
            allowed_updates=ALLOWED_UPDATES,
            bootstrap_retries=-1,
            error_callback=self._polling_error,
        )
        if outbox:
            self.start_outbox()

    async def start_webhook(self, public_url: str, outbox: bool = True) -> None:
        """Start processing and register the webhook with its secret token."""
        await self.application.start()
        await self.bot.set_webhook(
            webhook_url(public_url), secret_token=self.secret, allowed_updates=ALLOWED_UPDATES
        )
        if outbox:
            self.start_outbox()

    # outbox: messages to members other than the one being answered

    async def deliver_outbox(self, limit: int = 30) -> int:
        """Send the pending outbox rows of Telegram members once; returns how many were sent."""

        async def send(member: Member, reply: Reply) -> None:
            await self.send_reply(int(member.user_id), reply)

        return await deliver_pending(
            self.conversation, CHANNEL, send, blocked=Forbidden, errors=TelegramError, limit=limit
        )

    def start_outbox(self, interval: float = 2.0) -> None:
        self.background.start(self.deliver_outbox, TelegramSender(self), interval)

    def broadcast_engine(self, **options: Any) -> DeliveryEngine:
        """The delivery engine of broadcasts to Telegram members (db/broadcasts.py)."""
        return self.background.engine_for(TelegramSender(self), **options)

    async def stop(self) -> None:
        await self.background.stop()
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    def webhook(self) -> Webhook:
        """This channel's route for :func:`bot.web.create_web_app`."""
        return Webhook(WEBHOOK_PATH, SECRET_HEADER, self.secret, self.accept_webhook)

    async def accept_webhook(self, data: object) -> None:
        """Queue one update received by the webhook; processing happens in the background."""
        try:
            update = Update.de_json(data, self.bot)  # type: ignore[arg-type]
        except Exception:
            log.warning("telegram webhook: not an update, ignored")
            return
        await self.application.update_queue.put(update)

    @staticmethod
    def _polling_error(exc: TelegramError) -> None:
        log_event(log, "telegram polling failed, retrying", logging.WARNING, error=str(exc))

    # updates

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        inbound = to_inbound(update, self.bot.username)
        if update.callback_query is not None:
            await self._answer(update.callback_query)
        if inbound is None:
            return
        outcome = await self.conversation.handle(inbound.incoming)
        await self.deliver(inbound, outcome)

    async def _answer(self, query: CallbackQuery) -> None:
        try:
            await query.answer()
        except TelegramError as exc:  # too old, or already answered
            log.debug("callback query not answered: %s", exc)

    async def _on_my_chat_member(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        change = update.my_chat_member
        if change is None or change.chat.type != ChatType.PRIVATE:
            return
        status = change.new_chat_member.status
        if status in (ChatMember.BANNED, ChatMember.LEFT):
            await self.set_unreachable(str(change.from_user.id), True)
        elif status == ChatMember.MEMBER:
            await self.set_unreachable(str(change.from_user.id), False)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        log.error(
            "telegram update failed",
            exc_info=context.error,
            extra={"fields": {"update_id": update_id}},
        )

    async def set_unreachable(self, user_id: str, unreachable: bool) -> None:
        async with self.conversation.sessions() as session:
            await mark_unreachable(session, CHANNEL, user_id, unreachable)
            await session.commit()
        log_event(
            log,
            "telegram member unreachable" if unreachable else "telegram member reachable",
            user=user_hash(CHANNEL, user_id),
        )

    # rendering

    async def deliver(self, inbound: Inbound, outcome: Outcome) -> None:
        """Send ``outcome``'s replies; the first edits the pressed message when asked to."""
        cq = inbound.callback
        try:
            for i, reply in enumerate(outcome.replies):
                target = cq.message if cq and i == 0 and reply.edit else None
                message_id = target.message_id if isinstance(target, Message) else None
                await self.send_reply(inbound.chat_id, reply, edit_message_id=message_id)
        except Forbidden:
            if inbound.private:
                await self.set_unreachable(inbound.incoming.user_id, True)
        except TelegramError as exc:
            log_event(
                log,
                "telegram reply not delivered",
                logging.ERROR,
                update_id=inbound.incoming.update_id,
                user=user_hash(CHANNEL, inbound.incoming.user_id),
                error=f"{type(exc).__name__}: {exc}",
            )

    async def send_reply(
        self, chat_id: int, reply: Reply, *, edit_message_id: int | None = None
    ) -> None:
        """Render one reply to ``chat_id``: edit a message, or send text, photo or file."""
        markup = keyboard(reply)
        if isinstance(markup, ReplyKeyboardMarkup):
            edit_message_id = None  # a message with a reply keyboard cannot be an edit
        if edit_message_id is not None and reply.attachment is None:
            if utf16_len(reply.text) <= MAX_TEXT and await self._edit(
                chat_id, edit_message_id, reply.text, markup
            ):
                return
        if reply.attachment is not None:
            await self._send_attachment(chat_id, reply, markup)
            return
        if not reply.text.strip():
            return
        parts = split_text(reply.text)
        for n, part in enumerate(parts, 1):
            await self.bot.send_message(
                chat_id,
                to_html(part),
                parse_mode=ParseMode.HTML,
                reply_markup=markup if n == len(parts) else None,
            )

    async def _edit(
        self, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None
    ) -> bool:
        try:
            await self.bot.edit_message_text(
                to_html(text),
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return True
            log.info("telegram edit refused (%s), sending a new message", exc)
            return False
        return True

    async def _send_attachment(
        self, chat_id: int, reply: Reply, markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None
    ) -> None:
        att = reply.attachment
        assert att is not None
        caption: str | None = reply.text if utf16_len(reply.text) <= MAX_CAPTION else None
        if caption is None:
            for part in split_text(reply.text):
                await self.bot.send_message(chat_id, to_html(part), parse_mode=ParseMode.HTML)
        data = await asyncio.to_thread(att.path.read_bytes)
        common: dict[str, Any] = {
            "caption": to_html(caption) if caption else None,
            "parse_mode": ParseMode.HTML,
            "reply_markup": markup,
            "filename": att.filename,
        }
        if att.is_image:
            await self.bot.send_photo(chat_id, data, **common)
        else:
            await self.bot.send_document(chat_id, data, **common)


class TelegramSender:
    """Sends broadcast rows for the delivery engine: Telegram errors become the engine's
    (Forbidden → Blocked, RetryAfter → RateLimited, a time-out → Uncertain, other network
    errors → Transient; BadRequest fails the row). Messages still go through the channel's
    :class:`TelegramLimiter`, shared with replies."""

    channel = CHANNEL

    def __init__(
        self, tg: TelegramChannel, per_second: float = 30.0, per_chat_interval: float = 1.0
    ) -> None:
        self.tg = tg
        self.per_second = per_second
        self.per_chat_interval = per_chat_interval

    async def send(self, user_id: str, reply: Reply) -> None:
        try:
            await self.tg.send_reply(int(user_id), reply)
        except Forbidden as exc:
            raise Blocked(str(exc)) from exc
        except RetryAfter as exc:
            raise RateLimited(retry_after_seconds(exc)) from exc
        except BadRequest:
            raise
        except TimedOut as exc:
            raise Uncertain(str(exc)) from exc
        except NetworkError as exc:
            raise Transient(str(exc)) from exc

    async def progress(self, user_id: str, text: str, message_id: str | None) -> str | None:
        try:
            return await self._progress(user_id, text, message_id)
        except RetryAfter as exc:
            raise RateLimited(retry_after_seconds(exc)) from exc

    async def _progress(self, user_id: str, text: str, message_id: str | None) -> str | None:
        if message_id is not None and await self.tg._edit(
            int(user_id), int(message_id), text, None
        ):
            return message_id
        message = await self.tg.bot.send_message(
            int(user_id), to_html(text), parse_mode=ParseMode.HTML
        )
        return str(message.message_id)


def build_channel(
    conversation: Conversation,
    *,
    request: BaseRequest | None = None,
    limiter: BaseRateLimiter[Any] | None = None,
) -> TelegramChannel:
    """The production channel: token and base URL from settings, Telegram's rate limits."""
    settings = conversation.settings
    if not settings.telegram_bot_token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    return TelegramChannel(
        conversation,
        settings.telegram_bot_token,
        settings.telegram_base_url,
        request=request,
        limiter=limiter or TelegramLimiter(),
        max_running=settings.max_running_updates,
    )
