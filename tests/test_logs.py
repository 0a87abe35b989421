import io
import json
import logging

from ground.logs import log_event, redact, setup_logging, user_hash


def test_redact_tokens_and_phones() -> None:
    line = "POST https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe 0912345678 +84 912 345 678"
    out = redact(line)
    assert "AAHdqTcv" not in out
    assert "0912345678" not in out and "912 345 678" not in out
    assert "getMe" in out


def test_one_json_line_per_event() -> None:
    stream = io.StringIO()
    setup_logging("INFO", stream)
    log_event(
        logging.getLogger("t"),
        "update handled",
        channel="telegram",
        user=user_hash("telegram", "42"),
        duration_ms=1.5,
    )
    lines = stream.getvalue().strip().splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert data["msg"] == "update handled"
    assert data["channel"] == "telegram"
    assert data["user"] != "42" and len(data["user"]) == 12
    logging.getLogger().handlers.clear()
