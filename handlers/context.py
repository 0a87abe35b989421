"""What every handler receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ROLE_ADMIN, ROLE_STAFF, Member
from ground.messages import Incoming

if TYPE_CHECKING:
    from ground.i18n import Translations, Translator
    from ground.settings import Settings
    from knowledge.base import KnowledgeStore


@dataclass
class Context:
    incoming: Incoming
    member: Member
    session: AsyncSession
    kb: KnowledgeStore
    translator: Translator
    translations: Translations
    settings: Settings
    clock: Callable[[], datetime]

    def t(self, message: str, /, **values: object) -> str:
        return self.translator.t(message, **values)

    def tn(self, singular: str, plural: str, n: int, /, **values: object) -> str:
        return self.translator.tn(singular, plural, n, **values)

    def set_locale(self, locale: str) -> None:
        self.member.locale = locale
        self.translator = self.translations.get(locale)

    @property
    def is_staff(self) -> bool:
        return self.member.role in (ROLE_STAFF, ROLE_ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.member.role == ROLE_ADMIN

    def start_flow(self, name: str, data: dict | None = None) -> None:
        self.member.flow = name
        self.member.flow_data = dict(data or {})

    def end_flow(self) -> None:
        self.member.flow = None
        self.member.flow_data = None
