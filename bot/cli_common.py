"""What every command of the command line shares: the operator's translator, the database it
works on (named the same way everywhere, and announced when it is new and empty), and one line
instead of a traceback when that database cannot be reached."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from ground.i18n import Translations, Translator
from ground.settings import SUPPORTED_LOCALES, Settings, SettingsError

T = TypeVar("T")


class DatabaseUnreachable(Exception):
    """The database cannot be opened; ``str()`` is the one line to show."""


def translator(settings: Settings) -> Translator:
    """The operator's language: ``COOPBOT_LOCALE``."""
    return Translations(SUPPORTED_LOCALES, settings.locale, settings.tz).get(settings.locale)


def settings_error_line(exc: SettingsError) -> str:
    """A wrong setting, in one line of the operator's language."""
    t = Translations(SUPPORTED_LOCALES, "vi", ZoneInfo("UTC")).get(exc.locale)
    return t.t("coopbot: cấu hình sai: {name}: {problem}", name=exc.name,
               problem=t.t(exc.message, **exc.values))  # fmt: skip


def database_label(url: str) -> str:
    """``url`` as the operator wrote it, without the password or the async driver: the file
    of an SQLite database, ``postgresql://user@host:port/name`` otherwise."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            return ":memory:"
        return str(Path(parsed.database).resolve())  # relative to the working folder
    shown = parsed.set(drivername=parsed.get_backend_name())._replace(password=None)
    return shown.render_as_string(hide_password=False)


def _reason(t: Translator, url: str, exc: BaseException) -> str:
    parsed = make_url(url)
    state = str(getattr(getattr(exc, "orig", None), "sqlstate", None) or "")
    if state == "3D000":
        return t.t(
            "cơ sở dữ liệu “{name}” chưa có trên máy chủ; tạo nó trước (createdb {name})",
            name=parsed.database,
        )
    if state.startswith("28"):
        return t.t("máy chủ không nhận tên người dùng hoặc mật khẩu này")
    if isinstance(exc, socket.gaierror):
        return t.t("không tìm thấy máy chủ “{host}”", host=parsed.host)
    if isinstance(exc, ConnectionRefusedError):
        return t.t("không có máy chủ cơ sở dữ liệu nào chạy ở địa chỉ này")
    if isinstance(exc, TimeoutError):
        return t.t("máy chủ không trả lời")
    if parsed.get_backend_name() == "sqlite":
        return t.t("không mở hoặc tạo được tệp này")
    detail = str(getattr(exc, "orig", None) or exc).splitlines()[0] if str(exc) else ""
    if parsed.password:
        detail = detail.replace(parsed.password, "***")
    return detail or type(exc).__name__


def unreachable_line(t: Translator, url: str, exc: BaseException) -> str:
    return t.t(
        "coopbot: không mở được cơ sở dữ liệu {db}: {reason}",
        db=database_label(url),
        reason=_reason(t, url, exc),
    )


async def open_database(
    settings: Settings, t: Translator, announce_new: bool = True
) -> tuple[AsyncEngine, str | None, str | None]:
    """Connect (one line in :class:`DatabaseUnreachable` when that fails), bring the schema up
    to date, and say on stderr which database is used when it was new and empty. Returns the
    engine (the caller disposes of it) and the revisions before and after."""
    from db import migrate
    from db.session import create_engine

    engine: AsyncEngine | None = None
    try:
        engine = create_engine(settings.database_url)
        async with engine.connect():
            pass
    except Exception as exc:  # anything while connecting: the database cannot be used
        if engine is not None:
            await engine.dispose()
        raise DatabaseUnreachable(unreachable_line(t, settings.database_url, exc)) from None
    try:
        before, after = await migrate.upgrade(engine)
    except BaseException:
        await engine.dispose()
        raise
    if before is None and announce_new:
        print(new_database_line(t, settings.database_url), file=sys.stderr)
    return engine, before, after


def new_database_line(t: Translator, url: str) -> str:
    return t.t(
        "coopbot: cơ sở dữ liệu mới, chưa có dữ liệu: {db} (đặt DATABASE_URL để dùng cơ sở "
        "dữ liệu khác)",
        db=database_label(url),
    )


def with_session(
    settings: Settings, work: Callable[[Any], Awaitable[T]], commit: bool = False
) -> T:
    """Run ``await work(session)`` on the up-to-date database and return its result;
    commit afterwards when ``commit``."""
    from db.session import session_factory

    async def go() -> T:
        engine, _, _ = await open_database(settings, translator(settings))
        try:
            async with session_factory(engine)() as session:
                result = await work(session)
                if commit:
                    await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(go())
