"""The conversation core: turns one :class:`Incoming` into replies, for any channel.

It loads (or creates) the member, resolves numbered-button answers, routes to a handler,
remembers the buttons it showed, commits, and logs one line. An operation that refuses or
cannot be done (``operations.OperationError``, raised when the operation checks the actor's
rights or its input) becomes one translated line, whatever handler called it. Its error
boundary logs any other exception with an id and tells the member, in their language, that
something went wrong.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Member
from db.queries import first_sight, get_or_create_member
from ground.i18n import Translations
from ground.logs import log_event, user_hash
from ground.messages import Incoming, Outcome, Reply
from ground.observe import observe
from ground.settings import Settings
from handlers.context import Context
from handlers.router import Router
from knowledge.base import KnowledgeStore, Problem
from operations import OperationError, Refused

log = logging.getLogger("coopbot.core")
# The longest sender id the members table holds. No channel gives a longer one; one that is
# longer is ignored rather than cut (cut, it could be someone else's id).
MAX_USER_ID = Member.__table__.c.user_id.type.length


def utcnow() -> datetime:
    return datetime.now(UTC)


def _log_reload(task: asyncio.Future[list[Problem] | None]) -> None:
    if task.cancelled():
        return
    if (exc := task.exception()) is not None:
        log.error("knowledge base not reloaded: %s", exc)
    elif problems := task.result():
        log.error("knowledge base not reloaded: %s", "; ".join(map(str, problems[:5])))


class Conversation:
    def __init__(
        self,
        router: Router,
        sessions: async_sessionmaker[AsyncSession],
        kb: KnowledgeStore,
        translations: Translations,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.router = router
        self.sessions = sessions
        self.kb = kb
        self.translations = translations
        self.settings = settings
        self.clock = clock
        self.reload_interval = 3.0
        # Channels whose every update is handled once, even if delivered twice (to two
        # workers on PostgreSQL: bot/runner.py sets it); Zalo marks its own updates.
        self.once_channels: frozenset[str] = frozenset()
        # Polls the published knowledge base (operations/knowledge_live.py), set by bot/app.py.
        self.live: Callable[[], Awaitable[None]] | None = None
        self._reload_checked = time.monotonic()
        self._reload_task: asyncio.Future[list[Problem] | None] | None = None

    def _maybe_reload(self) -> None:
        """Pick up edited knowledge files (checked at most every few seconds)."""
        now = time.monotonic()
        if now - self._reload_checked < self.reload_interval:
            return
        self._reload_checked = now
        # read and built in a thread: the conversations in progress go on with the old base
        task = self.kb.reload_in_thread()
        if task is not self._reload_task:
            self._reload_task = task
            task.add_done_callback(_log_reload)

    async def handle(self, incoming: Incoming) -> Outcome:
        started = time.perf_counter()
        if incoming.channel in self.once_channels and not incoming.once:
            incoming = replace(incoming, once=True)
        self._maybe_reload()
        if self.live is not None:
            await self.live()
        outcome = Outcome()
        locale = self.settings.locale
        try:
            async with self.sessions() as session:
                await self._handle(session, incoming, outcome)
                await session.commit()
        except Exception:
            outcome.error_id = secrets.token_hex(4)
            log.exception(
                "handler failed",
                extra={
                    "fields": {
                        "error_id": outcome.error_id,
                        "channel": incoming.channel,
                        "user": user_hash(incoming.channel, incoming.user_id),
                        "update_id": incoming.update_id,
                        "handler": outcome.handler,
                    }
                },
            )
            locale = outcome.locale or locale
            t = self.translations.get(locale)
            outcome.replies = [
                Reply(
                    t.t(
                        "Xin lỗi, trợ lý vừa gặp sự cố và chưa xử lý được tin nhắn này. "
                        "Anh/chị vui lòng thử lại sau ít phút; nếu vẫn lỗi, gõ /lienhe "
                        "và báo mã lỗi {error_id} cho cán bộ.",
                        error_id=outcome.error_id,
                    )
                )
            ]
        log_event(
            log,
            "update handled",
            update_id=incoming.update_id,
            channel=incoming.channel,
            user=user_hash(incoming.channel, incoming.user_id),
            handler=outcome.handler,
            replies=len(outcome.replies),
            ok=outcome.error_id is None,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )
        observe("update", channel=incoming.channel, handler=outcome.handler,
                ok=outcome.error_id is None, seconds=time.perf_counter() - started)  # fmt: skip
        return outcome

    async def _handle(self, session: AsyncSession, incoming: Incoming, outcome: Outcome) -> None:
        if len(incoming.user_id) > MAX_USER_ID:
            outcome.handler = "ignored"
            return
        if incoming.once and incoming.update_id:
            if not await first_sight(session, incoming.channel, incoming.update_id, self.clock()):
                outcome.handler = "duplicate"  # handled before (maybe before a restart)
                return
        member, _ = await get_or_create_member(
            session,
            incoming.channel,
            incoming.user_id,
            locale=self.settings.locale,
            now=self.clock(),
            display_name=incoming.display_name,
            is_admin=self.settings.is_admin(incoming.channel, incoming.user_id),
        )
        outcome.locale = member.locale
        incoming = self._press_numbered_button(incoming, member.pending_actions)
        ctx = Context(
            incoming=incoming,
            member=member,
            session=session,
            kb=self.kb,
            translator=self.translations.get(member.locale),
            translations=self.translations,
            settings=self.settings,
            clock=self.clock,
        )
        route = self.router.resolve(ctx)
        if route is None:
            outcome.handler = "none"
            return
        outcome.handler = route.name
        try:
            result = await route.handler(ctx, route.arg)
        except OperationError as exc:  # refused or not possible: one translated line
            outcome.handler = f"{route.name}:refused" if isinstance(exc, Refused) else route.name
            result = Reply(ctx.t(exc.message, **exc.values))
        replies = [result] if isinstance(result, Reply) else list(result)
        outcome.replies = replies
        outcome.locale = member.locale
        if incoming.numbered_buttons and replies:
            # Only channels that show buttons as numbers need to remember them; after a
            # question that wants a number, a typed number is the answer.
            typed = any(r.numbers_are_text for r in replies)
            actions = [] if typed else [b.action for r in replies for b in r.flat_buttons()]
            if (actions or None) != member.pending_actions:
                member.pending_actions = actions or None

    @staticmethod
    def _press_numbered_button(incoming: Incoming, pending: Sequence[str] | None) -> Incoming:
        """On a numbered-button channel, ``"2"`` presses the second button last shown."""
        if not incoming.numbered_buttons or not pending or incoming.action:
            return incoming
        text = (incoming.text or "").strip().rstrip(".")
        if text.isascii() and text.isdigit() and 1 <= int(text) <= len(pending):
            return replace(incoming, action=pending[int(text) - 1], text=None)
        return incoming
