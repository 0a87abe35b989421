"""The composition root: the one place that builds settings, database, knowledge base,
translations, the conversation core and the channels. Everything else receives what it needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.pages import Console
from db import migrate
from db.session import create_engine, session_factory
from ground.i18n import Translations
from ground.settings import SUPPORTED_LOCALES, Settings
from handlers.core import Conversation
from handlers.registry import build_router
from knowledge.base import DATA_DIR, KnowledgeStore
from operations.knowledge_live import LiveKnowledge


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    kb: KnowledgeStore
    translations: Translations
    conversation: Conversation
    live: LiveKnowledge

    async def upgrade_database(self) -> tuple[str | None, str | None]:
        return await migrate.upgrade(self.engine)

    def console(self) -> Console:
        """The staff web console's dependencies (bot/pages), on this app's database."""
        return Console(
            session_factory(self.engine),
            self.settings,
            self.translations,
            self.kb,
            clock=lambda: self.conversation.clock(),
            refresh=self.live,
        )

    async def close(self) -> None:
        await self.engine.dispose()


def build_app(settings: Settings, kb: KnowledgeStore | None = None) -> App:
    engine = create_engine(settings.database_url)
    kb = kb or KnowledgeStore(settings.knowledge_dir or DATA_DIR)
    translations = Translations(SUPPORTED_LOCALES, settings.locale, settings.tz)
    conversation = Conversation(build_router(), session_factory(engine), kb, translations, settings)
    live = LiveKnowledge(session_factory(engine), kb)
    conversation.live = live
    return App(settings, engine, kb, translations, conversation, live)
