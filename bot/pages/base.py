"""What every console page shares: who is signed in, the CSRF check, rendering, paging.

:func:`staff_page` wraps a page function: it reads the session cookie, loads the session and
the member *as the database holds them now* (a member removed from staff gets 403 on their next
request), checks the CSRF token of every POST, commits what the page did, and shows any
:class:`~operations.rights.OperationError` as one translated line (403 for a refusal).
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot.pages.labels import state_name
from db.models import ROLE_ADMIN, ROLE_STAFF, Member
from ground.i18n import Translations, Translator
from ground.settings import Settings
from knowledge.base import KnowledgeStore
from knowledge.phone import mask_phone
from operations import web_access as access
from operations.rights import Actor, OperationError, Refused

COOKIE = "coopbot_console"
PREFIX = "/console"
SIGN_IN = PREFIX + "/signin"
TEMPLATES = Path(__file__).parent / "templates"
MAX_UPLOAD = 20 << 20  # the spreadsheet readers have their own, tighter limits
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
}


def csrf_of(session_token: str) -> str:
    """The CSRF token of a session: derived from the cookie's secret, so it is never stored
    and a page of another session cannot guess it."""
    return hmac.new(session_token.encode(), b"coopbot console csrf", hashlib.sha256).hexdigest()


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Console:
    """What the pages need, built once by the composition root."""

    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    translations: Translations
    kb: KnowledgeStore | None = None
    folder: Path = Path("var/console")  # exports, uploads and charts made by the pages
    clock: Callable[[], datetime] = utcnow
    # Polls the published knowledge base (operations/knowledge_live.py), set by bot/app.py.
    refresh: Callable[[], Awaitable[None]] | None = None
    env: Environment = field(init=False)

    def __post_init__(self) -> None:
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["mask"] = mask_phone

    @property
    def secure_cookie(self) -> bool:
        return (self.settings.public_url or "").startswith("https://")

    def is_staff(self, member: Member) -> bool:
        """Staff, or an admin still listed in COOPBOT_ADMINS (an admin taken off the list keeps
        the role in their row until they next write, but not the console)."""
        if member.role == ROLE_ADMIN:
            return self.settings.is_admin(member.channel, member.user_id)
        return member.role == ROLE_STAFF

    def render(self, t: Translator, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = self.env.get_template(name).render(
            t=t.t,
            tn=t.tn,
            when=t.datetime,
            day=t.day,
            number=t.number,
            locale=t.locale,
            state_of=lambda value: state_name(t, value),
            **values,
        )
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


@dataclass
class Pager:
    page: int
    per_page: int
    total: int

    @staticmethod
    def number(request: Request) -> int:
        """The page asked for (``?trang=``), from 1."""
        raw = request.query_params.get("trang", "1")
        return max(1, min(int(raw), 100_000)) if raw.isdigit() else 1

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass
class Page:
    """One request of a signed-in staff member."""

    console: Console
    request: Request
    session: AsyncSession
    member: Member
    actor: Actor
    t: Translator
    csrf: str
    now: datetime
    form: FormData | None = None
    # Read when the request starts: after a rollback the member row is expired.
    is_admin: bool = False
    who: str = ""

    def __post_init__(self) -> None:
        self.is_admin = self.member.role == ROLE_ADMIN and self.console.is_staff(self.member)
        m = self.member
        self.who = m.display_name or f"{m.channel}:{m.user_id}"

    def arg(self, name: str, default: str = "") -> str:
        """A form field (POST) or query parameter (GET), stripped, at most 4,000 characters."""
        source: Any = self.form if self.form is not None else self.request.query_params
        value = source.get(name, default)
        return value.strip()[:4000] if isinstance(value, str) else default

    def query(self, name: str, default: str = "") -> str:
        return self.request.query_params.get(name, default).strip()[:200]

    def render(self, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        return self.console.render(self.t, name, status, page=self, **values)

    def redirect(self, path: str) -> Response:
        return RedirectResponse(PREFIX + path, status_code=303)


PageFn = Callable[[Page], Awaitable[Response]]


def forbidden(console: Console, t: Translator) -> Response:
    return console.render(
        t, "message.html", 403, page=None,
        message=t.t("Trang quản lý chỉ dành cho cán bộ Liên minh HTX."),
    )  # fmt: skip


def staff_page(
    console: Console, fn: PageFn, admin: bool = False
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        if console.refresh is not None:
            await console.refresh()
        now = console.clock()
        token = request.cookies.get(COOKIE, "")
        async with console.sessions() as session:
            found = await access.current_member(session, token, now)
            if found is None:
                return RedirectResponse(SIGN_IN, status_code=303)
            member = found[1]
            t = console.translations.get(member.locale)
            if not console.is_staff(member):
                return forbidden(console, t)
            page = Page(console, request, session, member, Actor.of(member), t, csrf_of(token), now)
            if admin and not page.is_admin:
                return forbidden(console, t)
            if request.method == "POST":
                if int(request.headers.get("content-length") or 0) > MAX_UPLOAD:
                    return console.render(t, "message.html", 413, page=page,
                                          message=t.t("Tệp quá lớn."))  # fmt: skip
                page.form = await request.form(max_files=1, max_fields=100)
                given = page.form.get("csrf") or request.headers.get("x-csrf-token") or ""
                if not isinstance(given, str) or not hmac.compare_digest(given, page.csrf):
                    return console.render(t, "message.html", 403, page=page,
                                          message=t.t("Phiên biểu mẫu không hợp lệ. Anh/chị tải "
                                                      "lại trang rồi thử lại."))  # fmt: skip
            try:
                response = await fn(page)
                await session.commit()
            except OperationError as exc:
                await session.rollback()
                status = 403 if isinstance(exc, Refused) else 400
                response = page.render(
                    "message.html", status, message=t.t(exc.message, **exc.values)
                )
            finally:
                if page.form is not None:
                    await page.form.close()
            return response

    return endpoint
