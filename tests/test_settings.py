from pathlib import Path

import pytest

from ground.settings import SettingsError, load_settings


def test_defaults() -> None:
    s = load_settings({}, env_file=None)
    assert s.database_url == "sqlite+aiosqlite:///./var/coopbot.db"
    assert s.telegram_base_url == "https://api.telegram.org/bot"
    assert s.timezone == "Asia/Ho_Chi_Minh"
    assert s.locale == "vi"
    assert s.telegram_bot_token is None and s.zalo_bot_token is None
    assert s.admins == frozenset()


def test_values_and_admins() -> None:
    s = load_settings(
        {
            "DATABASE_URL": "postgresql://u@localhost/coop",
            "TELEGRAM_BOT_TOKEN": "123456:ABC-def_ghi",
            "COOPBOT_ADMINS": "telegram:12345, console:local,zalo:a1b2c3",
            "COOPBOT_LOCALE": "EN",
        },
        env_file=None,
    )
    assert s.database_url == "postgresql+asyncpg://u@localhost/coop"
    assert s.telegram_bot_token == "123456:ABC-def_ghi"
    assert s.is_admin("telegram", "12345") and s.is_admin("console", "local")
    assert s.is_admin("zalo", "a1b2c3") and not s.is_admin("telegram", "local")
    assert s.locale == "en"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://x@y/z"),
        ("COOPBOT_ADMINS", "12345"),
        ("COOPBOT_ADMINS", "facebook:1"),
        ("COOPBOT_TIMEZONE", "Mars/Olympus"),
        ("COOPBOT_LOCALE", "fr"),
        ("TELEGRAM_BOT_TOKEN", "not a token"),
        ("TELEGRAM_BASE_URL", "api.telegram.org"),
    ],
)
def test_wrong_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings({name: value}, env_file=None)
    message = str(err.value)
    assert message.startswith(name + ":")
    assert "\n" not in message


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("COOPBOT_LOCALE=en\nCOOPBOT_TIMEZONE=Asia/Bangkok\n", encoding="utf-8")
    s = load_settings({"COOPBOT_TIMEZONE": "Asia/Ho_Chi_Minh"}, env_file=env)
    assert s.locale == "en"
    assert s.timezone == "Asia/Ho_Chi_Minh"
