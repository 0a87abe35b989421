"""Translations (Babel message catalogs) and locale-aware formatting.

Catalogs live in ``ground/locale/<locale>/LC_MESSAGES/coopbot.po``. They are compiled in
memory when loaded, so there is no build step and no stale ``.mo`` file. Message ids are the
Vietnamese source text: the code reads in the members' first language, ``vi`` holds the
reviewed Vietnamese, ``en`` the English.

In code, translate with ``t("…")`` and ``tn("…", "…", n)``; mark text to translate later with
``N_("…")``. ``make i18n`` extracts new messages into both catalogs.
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "coopbot"
EXTRACT_KEYWORDS = {"t": None, "tn": (1, 2), "N_": None}
SUPPORTED_CODE_DIRS = ("bot", "handlers", "operations", "outputs", "db", "knowledge", "ground")
# Python code, and the web console's Jinja2 templates (``{{ t("…") }}`` in bot/pages/templates).
EXTRACT_METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")]


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now."""
    return message


def catalog_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def _load(locale: str) -> gettext.NullTranslations:
    path = catalog_path(locale)
    if not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


@dataclass(frozen=True)
class Translator:
    """Translates and formats for one locale and time zone."""

    locale: str
    tz: ZoneInfo
    _tr: gettext.NullTranslations

    def t(self, message: str, /, **values: object) -> str:
        text = self._tr.gettext(message)
        return text.format(**values) if values else text

    def tn(self, singular: str, plural: str, n: int, /, **values: object) -> str:
        text = self._tr.ngettext(singular, plural, n)
        return text.format(n=self.number(n), **values)

    def number(self, value: float | int) -> str:
        return format_decimal(value, locale=self.locale)

    def money(self, vnd: int) -> str:
        return format_currency(vnd, "VND", locale=self.locale)

    def date(self, value: date | datetime, fmt: str = "medium") -> str:
        if isinstance(value, datetime):
            value = value.astimezone(self.tz).date()
        return format_date(value, format=fmt, locale=self.locale)

    def day(self, value: date | datetime) -> str:
        """A date as members write it: 28/11/2026 in Vietnamese, 28 Nov 2026 in English."""
        return self.date(value, "dd/MM/yyyy" if self.locale == "vi" else "d MMM yyyy")

    def datetime(self, value: datetime, fmt: str = "short") -> str:
        return format_datetime(value, format=fmt, tzinfo=self.tz, locale=self.locale)

    @property
    def language_name(self) -> str:
        return Locale.parse(self.locale).get_display_name(self.locale) or self.locale


class Translations:
    """All catalogs, loaded once; hands out a :class:`Translator` per locale."""

    def __init__(self, locales: tuple[str, ...], default: str, tz: ZoneInfo) -> None:
        self.default = default
        self.tz = tz
        self._catalogs = {loc: _load(loc) for loc in locales}

    @property
    def locales(self) -> tuple[str, ...]:
        return tuple(self._catalogs)

    def get(self, locale: str | None) -> Translator:
        loc = locale if locale in self._catalogs else self.default
        return Translator(loc, self.tz, self._catalogs[loc])

    def guess_locale(self, language_code: str | None) -> str:
        """Pick a supported locale from a client's language code (``en-US`` → ``en``)."""
        if language_code:
            short = language_code.split("-")[0].split("_")[0].lower()
            if short in self._catalogs:
                return short
        return self.default
