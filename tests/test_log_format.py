"""``COOPBOT_LOG_FORMAT``: one line per event, as text (default) or JSON, never a secret."""

from __future__ import annotations

import io
import json
import logging

import pytest

from ground.log_format import configure_logging
from ground.logs import log_event
from ground.settings import SettingsError, load_settings

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.fixture(autouse=True)
def _restore_logging():  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _log(fmt: str) -> list[str]:
    stream = io.StringIO()
    configure_logging("INFO", fmt, stream)
    log = logging.getLogger("coopbot.test")
    log_event(log, "update handled", channel="telegram", user="3f2a9c", ok=True, note="a b\nc")
    log.warning("call failed for %s at 0912 345 678", f"https://api.telegram.org/bot{TOKEN}/x")
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        log.exception("handler failed")
    return stream.getvalue().splitlines()


def test_text_lines_one_per_event_with_fields() -> None:
    lines = _log("text")
    assert len(lines) == 3
    first = lines[0].split(" ")
    assert first[0].endswith("Z") and first[1] == "INFO" and first[2] == "coopbot.test"
    assert "update handled channel=telegram user=3f2a9c ok=true" in lines[0]
    assert 'note="a b\\nc"' in lines[0]
    assert "Traceback" in lines[2] and "ValueError" in lines[2]  # the traceback stays on it


def test_json_lines_one_object_per_event() -> None:
    lines = _log("json")
    assert len(lines) == 3
    data = [json.loads(line) for line in lines]
    assert data[0]["msg"] == "update handled" and data[0]["channel"] == "telegram"
    assert "ValueError" in data[2]["exc"]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_no_token_or_phone_in_either_format(fmt: str) -> None:
    text = "\n".join(_log(fmt))
    assert "AAHdqTcv" not in text
    assert "345 678" not in text


def test_settings_check_the_log_format_and_metrics_token() -> None:
    assert load_settings({}, env_file=None).log_format == "text"
    assert load_settings({"COOPBOT_LOG_FORMAT": "JSON"}, env_file=None).log_format == "json"
    with pytest.raises(SettingsError, match="COOPBOT_LOG_FORMAT"):
        load_settings({"COOPBOT_LOG_FORMAT": "xml"}, env_file=None)
    assert load_settings({}, env_file=None).metrics_token is None
    token = "abcdefghijklmnop-0123"
    assert load_settings({"COOPBOT_METRICS_TOKEN": token}, env_file=None).metrics_token == token
    with pytest.raises(SettingsError, match="COOPBOT_METRICS_TOKEN"):
        load_settings({"COOPBOT_METRICS_TOKEN": "short"}, env_file=None)
