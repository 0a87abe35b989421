"""The report form as a new user met it (#18): the counter keeps each question's number,
"Xong" can be typed on the several-choice question, and numbers written as words are read.
Also the report days as settings, checked at start-up. Both databases where a database is
used."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.scheduler import run_due_jobs
from ground.settings import SettingsError, load_settings
from knowledge.number_words import words_to_digits
from tests.conftest import Chat
from tests.test_reports import DEC_1, _cycle, _flow, _outbox, _seed, _text


async def test_counter_xong_and_number_words(app: App, clock: Any) -> None:
    await _seed(app)
    clock.now = DEC_1
    await _cycle(app, clock.now)
    lan = Chat(app, "lan")
    assert "Câu 1/11" in await lan.say("/baocao")
    assert "Câu 2/11" in await lan.say("mười lăm")
    assert "Câu 3/11" in await lan.say("hai người")
    assert "Câu 4/11" in await lan.say("một")
    assert "Câu 5/11" in await lan.say("Hai mươi mốt")
    assert "Câu 6/11" in await lan.say("bốn mươi sáu triệu")
    _, data = await _flow(app, "lan")
    assert data is not None
    assert [data["answers"][k] for k in ("members_official", "members_joined", "members_left")] == [
        15,
        2,
        1,
    ]
    assert data["answers"]["workers_regular"] == 21 and data["answers"]["revenue"] == 46_000_000
    assert "Câu 7/11" in await lan.say("Chè")
    await lan.send("1")  # VietGAP ticked
    assert "Câu 8/11" in _text(await lan.send("Xong"))  # typed instead of pressing 7
    _, data = await _flow(app, "lan")
    assert data and data["answers"]["certifications"] == ["vietgap"]
    assert "Câu 9/11" in await lan.say("không")
    await lan.say("0")
    # "Không" to support: its details (question 10) do not apply; the total stays 11.
    reply = _text(await lan.send("không"))
    assert "Câu 11/11" in reply and "/10" not in reply


async def test_xong_with_nothing_chosen_asks_again(app: App, clock: Any) -> None:
    await _seed(app)
    clock.now = DEC_1
    await _cycle(app, clock.now)
    lan = Chat(app, "lan")
    await lan.say("/baocao")
    for answer in ("12", "2", "0", "15", "46 triệu", "Chè"):
        await lan.say(answer)
    reply = await lan.say("xong")
    assert "Câu 7/11" in reply and "ít nhất một lựa chọn" in reply


def test_number_words() -> None:
    assert words_to_digits("hai") == "2"
    assert words_to_digits("Mười lăm người") == "15 nguoi"
    assert words_to_digits("một trăm linh năm") == "105"
    assert words_to_digits("chín mươi chín") == "99"
    assert words_to_digits("hai triệu") == "2 trieu"
    assert words_to_digits("chè") is None and words_to_digits("") is None
    # Words that only look like numbers once the diacritics are gone are not read (#16).
    for text in ("sau Tết", "sau tet", "bây giờ", "bay gio", "năm nay", "sau người"):
        assert words_to_digits(text) is None, text
    assert words_to_digits("sáu người") == "6 nguoi" and words_to_digits("sau") == "6"


def test_report_days_are_settings(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"COOPBOT_REPORT_CLOSE_DAY.*1 đến 28"):
        load_settings({"COOPBOT_REPORT_CLOSE_DAY": "30"}, env_file=None)
    with pytest.raises(SettingsError, match="COOPBOT_REPORT_REMIND_DAYS"):
        load_settings({"COOPBOT_REPORT_REMIND_DAYS": "5,x"}, env_file=None)
    with pytest.raises(SettingsError, match="ngày mở < các ngày nhắc < ngày đóng"):
        load_settings({"COOPBOT_REPORT_REMIND_DAYS": "5,20"}, env_file=None)
    env = tmp_path / ".env"
    env.write_text("COOPBOT_REPORT_OPEN_DAY=2\nCOOPBOT_REPORT_REMIND_DAYS=6,9\n", encoding="utf-8")
    s = load_settings({"COOPBOT_REPORT_CLOSE_DAY": "20"}, env_file=env)
    assert (s.report_open_day, s.report_remind_days, s.report_close_day) == (2, (6, 9), 20)
    assert load_settings({"COOPBOT_REPORT_REMIND_DAYS": ""}, env_file=None).report_remind_days == ()


def test_a_bad_report_day_stops_the_command_line_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COOPBOT_REPORT_CLOSE_DAY", "30")
    assert main(["reports", "open", "2026-11"]) == 2
    err = capsys.readouterr().err
    assert "COOPBOT_REPORT_CLOSE_DAY" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


async def test_the_deadline_follows_the_settings(app: App, clock: Any) -> None:
    await _seed(app)
    app.conversation.settings = replace(app.settings, report_close_day=20)
    clock.now = DEC_1
    await run_due_jobs(app, clock.now)  # the scheduler's job reads the settings
    (prompt,) = await _outbox(app, "lan")
    assert "Hạn gửi: hết ngày 20/12/2026" in prompt.text
