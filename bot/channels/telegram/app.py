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
- A webhook body is parsed only when its fields have the Bot API's types
  (:func:`bot.channels.telegram.webhook.well_formed`), and each ``update_id`` is handled once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import (
    BotCommand,
    CallbackQuery,
    ChatMember,
    InlineKeyboardMarkup,
    Message,
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
)
from telegram.ext import (
    Application,
    BaseRateLimiter,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.channels.delivery import Background, DeliveryEngine, deliver_pending
from bot.channels.recent import RecentIds
from bot.channels.telegram.limits import Sleep, TelegramLimiter
from bot.channels.telegram.order import PerUserOrder
from bot.channels.telegram.render import MAX_CAPTION, MAX_TEXT, keyboard, to_html
from bot.channels.telegram.sender import TelegramSender
from bot.channels.telegram.updates import CHANNEL, Inbound, to_inbound
from bot.channels.telegram.webhook import (
    SECRET_HEADER,
    WEBHOOK_PATH,
    webhook_secret,
    webhook_url,
    well_formed,
)
from bot.channels.text import split_text, utf16_len
from bot.web import Webhook
from db.models import Member
from db.queries import mark_unreachable
from ground.logs import add_secrets, log_event, user_hash
from ground.messages import Outcome, Reply
from handlers.core import Conversation

log = logging.getLogger("coopbot.telegram")

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]
MENU_LOCALES = ("vi", "en")


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
        recent: int = 4096,
    ) -> None:
        self.conversation = conversation
        self.background = Background(conversation, CHANNEL)
        self.secret = webhook_secret(token)
        # A webhook body may come again (Telegram retries a slow answer; a replay): each
        # update_id is handled once. Polling needs no such memory: its offset moves on.
        self._seen = RecentIds(recent)
        add_secrets(token, self.secret)  # never in a log line, whatever logs it
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
        body = well_formed(data)
        if body is None:
            log.warning("telegram webhook: not an update the bot reads, ignored")
            return
        if not self._seen.add(str(body["update_id"])):
            log.info("telegram webhook: update %s already received, ignored", body["update_id"])
            return
        try:
            update = Update.de_json(body, self.bot)
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
