"""Settings read from the environment and an optional ``.env`` file.

Every value is checked once, at start-up. A wrong value raises :class:`SettingsError`
with one line that names the variable and says what it expects.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

SUPPORTED_LOCALES = ("vi", "en")
CHANNELS = ("telegram", "zalo", "console")
LOG_FORMATS = ("text", "json")
# The folder, under the working folder (where .env is read), of the default SQLite database and
# of exports (outputs.progress): the one place both are named.
VAR_DIR = "var"
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///./{VAR_DIR}/coopbot.db"


def N_(message: str) -> str:
    """Mark ``message`` for the catalogs (as ``ground.i18n.N_``: this module stays free of
    translation, because the data floor reads settings and does no wording)."""
    return message


class SettingsError(ValueError):
    """A configuration value is missing or malformed: the variable's name, and a Vietnamese
    message id with its values. ``str()`` is the Vietnamese text; the command line words it in
    the operator's language (``self.locale``, from ``COOPBOT_LOCALE`` when that one is valid)."""

    def __init__(self, name: str, message: str, /, **values: object) -> None:
        self.name, self.message, self.values = name, message, values
        self.locale = "vi"
        super().__init__(f"{name}: " + (message.format(**values) if values else message))


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    telegram_bot_token: str | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    zalo_bot_token: str | None = None
    zalo_base_url: str = "https://bot-api.zaloplatforms.com/bot"
    # The public http(s) address of the web app: Zalo file links (and the webhook) use it.
    public_url: str | None = None
    admins: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    timezone: str = "Asia/Ho_Chi_Minh"
    locale: str = "vi"
    log_level: str = "INFO"
    log_format: str = "text"  # "text" or "json" (one JSON object per line)
    # When set, GET /metrics requires "Authorization: Bearer <metrics_token>".
    metrics_token: str | None = None
    knowledge_dir: Path | None = None
    contact: str | None = None
    office_open: time = time(7, 30)
    office_close: time = time(17, 0)
    office_days: frozenset[int] = frozenset({1, 2, 3, 4, 5})  # ISO weekdays, Monday = 1
    staff_chat: tuple[str, str] | None = None  # channel, chat id of one staff group chat
    ticket_renotify_minutes: int = 120
    # The monthly report's days, in the month after the period: open, remind, close (1-28).
    report_open_day: int = 1
    report_remind_days: tuple[int, ...] = (5, 10)
    report_close_day: int = 15

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def max_running_updates(self) -> int:
        """Updates a channel handles at once. SQLite has one writer: beyond a few concurrent
        updates they only wait on each other."""
        return 8 if self.database_url.startswith("sqlite") else 32

    def is_admin(self, channel: str, user_id: str) -> bool:
        return (channel, user_id) in self.admins


def _parse_admins(raw: str) -> frozenset[tuple[str, str]]:
    admins: set[tuple[str, str]] = set()
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        channel, sep, user_id = item.partition(":")
        channel, user_id = channel.strip().lower(), user_id.strip()
        if not sep or channel not in CHANNELS or not user_id:
            raise SettingsError("COOPBOT_ADMINS", N_("“{item}” không có dạng kênh:mã_người_dùng "
                "(kênh là {channels}; ví dụ telegram:12345,console:local)"), item=item,
                channels=", ".join(CHANNELS))  # fmt: skip
        admins.add((channel, user_id))
    return frozenset(admins)


def _office_hours(hours: str, days: str) -> dict[str, object]:
    m = re.fullmatch(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", hours.strip())
    if not m or not (0 <= int(m[1]) < 24 and 0 <= int(m[3]) < 24):
        raise SettingsError("COOPBOT_OFFICE_HOURS", N_("cần giờ mở-giờ đóng, ví dụ 07:30-17:00"))
    opens, closes = time(int(m[1]), int(m[2])), time(int(m[3]), int(m[4]))
    if opens >= closes:
        raise SettingsError("COOPBOT_OFFICE_HOURS", N_("giờ mở cửa phải trước giờ đóng cửa"))
    d = re.fullmatch(r"([1-7])\s*-\s*([1-7])", days.strip())
    if not d or int(d[1]) > int(d[2]):
        raise SettingsError(
            "COOPBOT_OFFICE_DAYS",
            N_("cần các thứ trong tuần theo ISO, ví dụ 1-5 (thứ Hai đến thứ Sáu)"),
        )
    return {
        "office_open": opens,
        "office_close": closes,
        "office_days": frozenset(range(int(d[1]), int(d[2]) + 1)),
    }


def _staff_chat(raw: str | None) -> tuple[str, str] | None:
    if not raw:
        return None
    channel, sep, chat_id = raw.strip().partition(":")
    if not sep or channel not in ("telegram", "zalo") or not chat_id:
        raise SettingsError("COOPBOT_STAFF_CHAT", N_("cần kênh:mã_nhóm của một nhóm cán bộ, ví dụ "
                                                     "telegram:-1001234"))  # fmt: skip
    return channel, chat_id


def _positive_int(name: str, raw: str) -> int:
    if not raw.isdigit() or int(raw) <= 0:
        raise SettingsError(name, N_("cần một số phút nguyên lớn hơn 0"))
    return int(raw)


def _report_days(open_raw: str, remind_raw: str, close_raw: str) -> dict[str, object]:
    def day(name: str, raw: str) -> int:
        if not raw.isdigit() or not 1 <= int(raw) <= 28:
            raise SettingsError(
                name, N_("cần một ngày trong tháng từ 1 đến 28, không phải “{raw}”"), raw=raw
            )
        return int(raw)

    open_day = day("COOPBOT_REPORT_OPEN_DAY", open_raw)
    parts = [p.strip() for p in remind_raw.split(",") if p.strip()]
    if not all(p.isdigit() and 1 <= int(p) <= 28 for p in parts):
        raise SettingsError("COOPBOT_REPORT_REMIND_DAYS", N_("cần các ngày từ 1 đến 28, ví dụ "
                            "5,10, không phải “{raw}”"), raw=remind_raw)  # fmt: skip
    reminders = tuple(int(p) for p in parts)
    close_day = day("COOPBOT_REPORT_CLOSE_DAY", close_raw)
    days = [open_day, *reminders, close_day]
    if days != sorted(set(days)):
        raise SettingsError(
            "COOPBOT_REPORT_OPEN_DAY, COOPBOT_REPORT_REMIND_DAYS, COOPBOT_REPORT_CLOSE_DAY",
            N_("cần ngày mở < các ngày nhắc < ngày đóng, không phải {open}; {remind}; {close}"),
            open=open_day,
            remind=",".join(map(str, reminders)) or "–",
            close=close_day,
        )
    return {
        "report_open_day": open_day,
        "report_remind_days": reminders,
        "report_close_day": close_day,
    }


def normalise_database_url(url: str) -> str:
    """Return ``url`` with the async driver SQLAlchemy needs (aiosqlite or asyncpg)."""
    url = url.strip()
    if re.match(r"^sqlite(\+aiosqlite)?://", url):
        return re.sub(r"^sqlite(\+aiosqlite)?://", "sqlite+aiosqlite://", url)
    if re.match(r"^(postgres|postgresql)(\+asyncpg)?://", url):
        return re.sub(r"^(postgres|postgresql)(\+asyncpg)?://", "postgresql+asyncpg://", url)
    raise SettingsError("DATABASE_URL", N_("cần sqlite:///đường/dẫn/tệp.db hoặc "
                        "postgresql://người_dùng@máy_chủ/tên, không phải một địa chỉ bắt đầu bằng "
                        "“{scheme}”"), scheme=url.split("://", 1)[0])  # fmt: skip


def _check_base_url(name: str, value: str, example: str = "https://api.telegram.org/bot") -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise SettingsError(name, N_("cần một địa chỉ http(s), ví dụ {example}"), example=example)
    return value


def _check_public_url(value: str | None) -> str | None:
    if value is None:
        return None
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
        raise SettingsError("COOPBOT_PUBLIC_URL", N_("cần địa chỉ http(s) công khai của máy chủ "
                            "web, ví dụ https://bot.example.vn"))  # fmt: skip
    return value.rstrip("/")


def _check_token(name: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not re.fullmatch(r"[A-Za-z0-9_\-]+:[A-Za-z0-9_\-]+", value):
        raise SettingsError(name, N_("cần mã bot có dạng <bot_id>:<secret>"))
    return value


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
) -> Settings:
    """Build :class:`Settings` from ``environ`` (default ``os.environ``) over ``env_file``.

    Variables set in the environment win over the same names in the file. This is the one
    place that reads settings: nothing else looks at the environment.
    """
    values: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    try:
        return _settings(values)
    except SettingsError as exc:  # word it in the operator's language when that one is valid
        chosen = (values.get("COOPBOT_LOCALE") or "").strip().lower()
        exc.locale = chosen if chosen in SUPPORTED_LOCALES else "vi"
        raise


def _settings(values: dict[str, str]) -> Settings:

    def get(name: str, default: str | None = None) -> str | None:
        value = values.get(name)
        return default if value is None or value.strip() == "" else value.strip()

    database_url = normalise_database_url(get("DATABASE_URL", DEFAULT_DATABASE_URL) or "")

    timezone = get("COOPBOT_TIMEZONE", "Asia/Ho_Chi_Minh") or ""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError("COOPBOT_TIMEZONE", N_("“{zone}” không phải múi giờ IANA (ví dụ "
                            "Asia/Ho_Chi_Minh)"), zone=timezone) from None  # fmt: skip

    locale = (get("COOPBOT_LOCALE", "vi") or "").lower()
    if locale not in SUPPORTED_LOCALES:
        raise SettingsError("COOPBOT_LOCALE", N_("cần một trong {choices}, không phải “{locale}”"),
                            choices=", ".join(SUPPORTED_LOCALES), locale=locale)  # fmt: skip

    log_level = (get("COOPBOT_LOG_LEVEL", "INFO") or "").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError("COOPBOT_LOG_LEVEL", N_("cần DEBUG, INFO, WARNING hoặc ERROR"))

    log_format = (get("COOPBOT_LOG_FORMAT", "text") or "").lower()
    if log_format not in LOG_FORMATS:
        raise SettingsError("COOPBOT_LOG_FORMAT", N_("cần text hoặc json, không phải “{value}”"),
                            value=log_format)  # fmt: skip

    metrics_token = get("COOPBOT_METRICS_TOKEN")
    if metrics_token is not None and not re.fullmatch(r"[\x21-\x7e]{16,}", metrics_token):
        raise SettingsError(
            "COOPBOT_METRICS_TOKEN", N_("cần ít nhất 16 ký tự in được, không có dấu cách")
        )

    knowledge_dir = get("COOPBOT_KNOWLEDGE_DIR")
    if knowledge_dir is not None and not Path(knowledge_dir).is_dir():
        raise SettingsError("COOPBOT_KNOWLEDGE_DIR", N_("“{path}” không phải một thư mục"),
                            path=knowledge_dir)  # fmt: skip

    return Settings(
        database_url=database_url,
        telegram_bot_token=_check_token("TELEGRAM_BOT_TOKEN", get("TELEGRAM_BOT_TOKEN")),
        telegram_base_url=_check_base_url(
            "TELEGRAM_BASE_URL", get("TELEGRAM_BASE_URL", "https://api.telegram.org/bot") or ""
        ),
        zalo_bot_token=_check_token("ZALO_BOT_TOKEN", get("ZALO_BOT_TOKEN")),
        zalo_base_url=_check_base_url(
            "ZALO_BASE_URL",
            get("ZALO_BASE_URL", "https://bot-api.zaloplatforms.com/bot") or "",
            "https://bot-api.zaloplatforms.com/bot",
        ),
        public_url=_check_public_url(get("COOPBOT_PUBLIC_URL")),
        admins=_parse_admins(get("COOPBOT_ADMINS", "") or ""),
        timezone=timezone,
        locale=locale,
        log_level=log_level,
        log_format=log_format,
        metrics_token=metrics_token,
        knowledge_dir=Path(knowledge_dir) if knowledge_dir else None,
        contact=get("COOPBOT_CONTACT"),
        **_office_hours(
            get("COOPBOT_OFFICE_HOURS", "07:30-17:00") or "",
            get("COOPBOT_OFFICE_DAYS", "1-5") or "",
        ),
        staff_chat=_staff_chat(get("COOPBOT_STAFF_CHAT")),
        ticket_renotify_minutes=_positive_int(
            "COOPBOT_TICKET_RENOTIFY_MINUTES", get("COOPBOT_TICKET_RENOTIFY_MINUTES", "120") or ""
        ),
        **_report_days(
            get("COOPBOT_REPORT_OPEN_DAY", "1") or "",
            values.get("COOPBOT_REPORT_REMIND_DAYS", "5,10").strip(),
            get("COOPBOT_REPORT_CLOSE_DAY", "15") or "",
        ),
    )
