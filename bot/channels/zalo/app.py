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
import logging
from typing import Any

import httpx

from bot.channels.delivery import Background, DeliveryEngine, deliver_pending
from bot.channels.recent import RecentIds
from bot.channels.zalo.api import (
    DEFAULT_BASE_URL,
    Sleep,
    ZaloApi,
    ZaloError,
    ZaloForbidden,
    ZaloNetworkError,
    ZaloUnauthorized,
)
from bot.channels.zalo.render import MAX_TEXT, render_buttons, render_messages
from bot.channels.zalo.sender import ZaloSender
from bot.channels.zalo.updates import CHANNEL, Inbound, to_inbound, unwrap
from bot.channels.zalo.webhook import SECRET_HEADER, WEBHOOK_PATH, webhook_secret, webhook_url
from bot.web import FileLinks, Webhook
from db.models import Member
from db.queries import get_member, mark_unreachable
from ground.i18n import Translator
from ground.logs import add_secrets, log_event, redact, user_hash
from ground.messages import Reply
from handlers.core import Conversation

log = logging.getLogger("coopbot.zalo")


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
        add_secrets(self.secret)
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

    async def start_polling(self, outbox: bool = True) -> None:
        """Remove a webhook left behind (Zalo allows one or the other), then long-poll.
        ``outbox``: also deliver the outbox and broadcasts (False: another job does)."""
        await self.api.delete_webhook()
        self._poll_task = asyncio.create_task(self._poll_loop())
        if outbox:
            self.start_outbox()

    async def stop_polling(self) -> None:
        """Stop long polling (another worker takes it over); updates in hand are finished."""
        if self._poll_task is not None:
            self._poll_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poll_task
        self._poll_task = None

    async def start_webhook(self, public_url: str, outbox: bool = True) -> None:
        """Register the webhook with its secret token."""
        await self.api.set_webhook(webhook_url(public_url), self.secret)
        if outbox:
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
