"""A new user's first day (#18), second round: every command line speaks through the
translator, a database that cannot be opened is one line naming it (never the password), a new
empty database is announced, piped chat echoes what was typed, the README's settings table and
eval line are true, and a required report question is not answered "Bỏ qua"."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.cli_common import database_label
from ground.settings import SettingsError, load_settings
from tests.conftest import PG_SERVER, Chat, _pg_admin
from tests.test_cli import FIXTURE_KB, run
from tests.test_reports import DEC_1, _cycle, _flow, _seed

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


# --- the command line in the operator's language ------------------------------------------


def test_db_upgrade_names_the_database_in_vietnamese(tmp_path: Path) -> None:
    out = run(["db", "upgrade"], tmp_path)
    assert out.returncode == 0
    db = str(tmp_path / "cli.db")
    # The database line, then the knowledge base's (db upgrade also runs kb sync).
    first, knowledge = out.stdout.splitlines()
    assert first.startswith(f"Đã tạo cơ sở dữ liệu mới {db}") and "Kho kiến thức" in knowledge
    out = run(["db", "upgrade"], tmp_path)
    assert out.stdout.splitlines()[0].startswith(f"Cơ sở dữ liệu {db} đã mới nhất (phiên bản ")
    assert out.stderr == ""


def test_audit_in_another_folder_says_which_new_database_it_made(tmp_path: Path) -> None:
    elsewhere = tmp_path / "somewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.pop("COOPBOT_LOCALE", None)

    def audit() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot.cli", "audit"], capture_output=True,
                              text=True, cwd=elsewhere, env=env, timeout=120)  # fmt: skip

    out = audit()
    assert out.returncode == 0
    assert one_line(out.stdout) == "Nhật ký thao tác của cán bộ chưa có gì."
    made = elsewhere / "var" / "coopbot.db"
    assert made.exists()
    notice = one_line(out.stderr)
    assert "cơ sở dữ liệu mới" in notice and str(made) in notice and "DATABASE_URL" in notice
    assert audit().stderr == ""  # said once, when it was new


def test_cli_lines_that_were_english(tmp_path: Path) -> None:
    assert run(["db", "upgrade"], tmp_path).returncode == 0
    out = run(["export", "reports", "--period", "2026-13"], tmp_path)
    assert out.returncode == 2 and "không phải một tháng" in one_line(out.stderr)
    out = run(["export", "reports", "--period", "2026-13"], tmp_path, COOPBOT_LOCALE="en")
    assert out.returncode == 2 and "is not a month" in one_line(out.stderr)
    out = run(["ask"], tmp_path)
    assert out.returncode == 2 and one_line(out.stderr) == (
        "coopbot ask: hãy gõ một câu hỏi, hoặc --file TỆP (mỗi dòng một câu hỏi)"
    )
    # The fixture base has no English; warnings are enough to read the summary line.
    out = run(["kb", "check", "--missing-english", "warn"], tmp_path,
              COOPBOT_KNOWLEDGE_DIR=str(FIXTURE_KB))  # fmt: skip
    assert out.returncode == 0 and "cách hỏi" in out.stdout and "không có lỗi" in out.stdout
    out = run(["kb", "suggestions"], tmp_path)
    assert "Chưa có yêu cầu đã đóng nào" in out.stdout
    out = run(["staff"], tmp_path)
    assert "Chưa có cán bộ hay quản trị nào" in out.stdout
    out = run(["reports", "progress"], tmp_path)
    assert out.returncode == 2 and "coopbot reports open" in out.stderr
    assert "/mobaocao" not in out.stderr


def test_import_export_and_demo_speak_english_when_asked(tmp_path: Path) -> None:
    out = run(["demo"], tmp_path, COOPBOT_LOCALE="en")
    assert out.returncode == 0 and "Loaded 12 demo cooperatives" in out.stdout
    out = run(["export", "cooperatives"], tmp_path, COOPBOT_LOCALE="en")
    assert out.returncode == 0 and "Exported 12 cooperatives" in out.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("Tên,Mã số\n", encoding="utf-8")
    out = run(["import", "cooperatives", str(bad)], tmp_path, COOPBOT_LOCALE="en")
    assert out.returncode == 2 and one_line(out.stderr).startswith("coopbot: cannot import")
    out = run(["audit"], tmp_path, COOPBOT_LOCALE="en")
    assert "export_cooperatives" in out.stdout


def test_settings_errors_in_the_operators_language(tmp_path: Path) -> None:
    assert run(["db", "upgrade"], tmp_path).returncode == 0
    out = run(["audit"], tmp_path, COOPBOT_TIMEZONE="Mars/Olympus")
    line = one_line(out.stderr)
    assert out.returncode == 2
    assert line.startswith("coopbot: cấu hình sai: COOPBOT_TIMEZONE:") and "múi giờ" in line
    out = run(["audit"], tmp_path, COOPBOT_TIMEZONE="Mars/Olympus", COOPBOT_LOCALE="en")
    assert "configuration error: COOPBOT_TIMEZONE" in one_line(out.stderr)
    assert "is not an IANA time zone" in out.stderr
    with pytest.raises(SettingsError) as err:
        load_settings({"COOPBOT_REPORT_CLOSE_DAY": "30"}, env_file=None)
    assert str(err.value).startswith("COOPBOT_REPORT_CLOSE_DAY:")


def test_a_wrong_value_in_dotenv_stops_with_one_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("COOPBOT_REPORT_CLOSE_DAY=30\n", encoding="utf-8")
    out = run(["reports", "progress"], tmp_path)
    assert out.returncode == 2
    assert "COOPBOT_REPORT_CLOSE_DAY" in one_line(out.stderr) and "30" in out.stderr


# --- a database that cannot be opened ---------------------------------------------------------


def test_database_label_hides_the_password_and_the_driver() -> None:
    label = database_label("postgresql+asyncpg://coop:s3cret@db.example:5433/htx")
    assert label == "postgresql://coop@db.example:5433/htx"
    assert database_label("sqlite+aiosqlite:///./var/x.db") == str(Path("var/x.db").resolve())


@pytest.mark.parametrize("command", [["db", "upgrade"], ["audit"], ["staff"], ["chat"]])
def test_no_server_is_one_line_without_the_password(tmp_path: Path, command: list[str]) -> None:
    url = "postgresql://coop:s3cret@127.0.0.1:1/htx"  # nothing listens on port 1
    out = run(command, tmp_path, DATABASE_URL=url)
    line = one_line(out.stderr)
    assert out.returncode == 2
    assert "postgresql://coop@127.0.0.1:1/htx" in line and "s3cret" not in out.stderr + out.stdout
    assert "không có máy chủ" in line


def test_an_unopenable_sqlite_file_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = run(["audit"], tmp_path, DATABASE_URL=f"sqlite:///{blocker}/inside/x.db")
    assert out.returncode == 2
    assert str(blocker / "inside" / "x.db") in one_line(out.stderr)


def test_postgresql_database_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    name = f"coopbot_missing_{uuid.uuid4().hex[:8]}"
    try:
        asyncio.run(_pg_admin("SELECT 1"))
    except Exception as exc:  # no server here
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI: {exc}")
        pytest.skip(f"PostgreSQL not reachable ({exc})")
    base = PG_SERVER.rsplit("/", 1)[0]
    with_password = base.replace("postgresql://postgres@", "postgresql://postgres:pw0rd@")
    out = run(["db", "upgrade"], tmp_path, DATABASE_URL=f"{with_password}/{name}")
    line = one_line(out.stderr)
    assert out.returncode == 2 and f"/{name}" in line and f"createdb {name}" in line
    assert "pw0rd" not in line


def test_new_postgresql_database_is_announced_once(tmp_path: Path) -> None:
    name = f"coopbot_new_{uuid.uuid4().hex[:8]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI: {exc}")
        pytest.skip(f"PostgreSQL not reachable ({exc})")
    try:
        url = f"{PG_SERVER.rsplit('/', 1)[0]}/{name}"
        out = run(["audit"], tmp_path, DATABASE_URL=url)
        assert out.returncode == 0 and f"/{name}" in one_line(out.stderr)
        assert "cơ sở dữ liệu mới" in out.stderr
        assert run(["audit"], tmp_path, DATABASE_URL=url).stderr == ""
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# --- chat, README --------------------------------------------------------------------------


def test_piped_chat_echoes_what_was_typed(tmp_path: Path) -> None:
    out = run(
        ["chat"], tmp_path, stdin="xin chào\n\n/help\n", COOPBOT_KNOWLEDGE_DIR=str(FIXTURE_KB)
    )
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    assert lines[0] == "> xin chào" and "> /help" in lines
    hello, helped = lines.index("> xin chào"), lines.index("> /help")
    assert hello < helped and any("Chào" in x for x in lines[hello:helped])
    assert "Các lệnh của trợ lý:" in "\n".join(lines[helped:])


def test_eval_minimums_are_documented_as_none_by_default(tmp_path: Path) -> None:
    assert "[--min-accuracy 0.95]" not in README
    assert "no minimum unless given" in README
    out = run(["eval", "--help"], tmp_path, COOPBOT_LOCALE="en")
    assert out.stdout.count("(default: none)") == 3  # accuracy, rejection, wrong share
    out = run(["eval", "--help"], tmp_path)
    assert out.stdout.count("(mặc định: không có)") == 3


def test_help_in_the_operators_language_even_with_a_wrong_setting(tmp_path: Path) -> None:
    out = run(["--help"], tmp_path)
    assert out.returncode == 0 and "trò chuyện trong cửa sổ lệnh" in out.stdout
    out = run(["--help"], tmp_path, COOPBOT_LOCALE="en")
    assert "chat in the terminal (the console channel)" in out.stdout
    out = run(["reports", "open", "--help"], tmp_path, COOPBOT_TIMEZONE="Mars/Olympus")
    assert out.returncode == 0 and "không hỏi lại trước khi mời" in out.stdout
    out = run(["audit"], tmp_path, COOPBOT_TIMEZONE="Mars/Olympus")
    assert out.returncode == 2 and "COOPBOT_TIMEZONE" in one_line(out.stderr)


def _settings_read() -> set[str]:
    source = (ROOT / "ground" / "settings.py").read_text(encoding="utf-8")
    return set(re.findall(r"\bget\(\s*\"([A-Z_]+)\"", source)) | set(
        re.findall(r"values\.get\(\"([A-Z_]+)\"", source)
    )


def test_every_setting_is_in_the_readme_table_and_nothing_else() -> None:
    read = _settings_read()
    assert {"DATABASE_URL", "COOPBOT_REPORT_CLOSE_DAY", "COOPBOT_OFFICE_DAYS"} <= read
    table = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([A-Z_]+)`", table, re.M)) | set(
        re.findall(r"^\| `[A-Z_]+`, `([A-Z_]+)`", table, re.M)
    )
    assert read == listed, (read - listed, listed - read)


def test_nothing_but_settings_reads_the_environment() -> None:
    readers = []
    for folder in ("bot", "handlers", "operations", "outputs", "db", "knowledge", "ground"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if re.search(r"os\.environ(\.get)?\[?\(?\s*[\"']|os\.getenv", text):
                readers.append(str(path.relative_to(ROOT)))
    assert readers == [], readers


# --- the report form ------------------------------------------------------------------------


async def test_required_question_is_not_answered_bo_qua(app: App, clock: Any) -> None:
    await _seed(app)
    clock.now = DEC_1
    await _cycle(app, clock.now)
    lan = Chat(app, "lan")
    await lan.say("/baocao")
    for answer in ("12", "2", "0", "15", "46 triệu"):
        await lan.say(answer)
    reply = await lan.say("Bỏ qua")  # the main products: required, no skip button
    assert "không bỏ qua được" in reply and "Câu 6/11" in reply
    _, data = await _flow(app, "lan")
    assert data is not None and "main_products" not in data["answers"]
    assert "Câu 7/11" in await lan.say("bò")  # a cow is a product, not a skip
    _, data = await _flow(app, "lan")
    assert data is not None and data["answers"]["main_products"] == "bò"


def test_broadcast_count_says_what_value_it_needs(tmp_path: Path) -> None:
    out = run(["broadcasts", "count", "sector"], tmp_path)
    assert out.returncode == 2 and "nong_lam_thuy_san" in one_line(out.stderr)
    assert "bấm" not in out.stderr  # no chat buttons on the command line
    out = run(["broadcasts", "count", "kind", "htx"], tmp_path)
    assert out.returncode == 0 and out.stdout.startswith("Người nhận: 0")


def test_readme_names_every_command() -> None:
    from bot.cli import _parser

    parser = _parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    missing = [name for name in sub.choices if f"coopbot {name}" not in README]  # type: ignore[union-attr]
    assert missing == []


def test_staff_lists_admins_who_have_not_written_yet(tmp_path: Path) -> None:
    out = run(["staff"], tmp_path, COOPBOT_ADMINS="telegram:5")
    assert out.returncode == 0
    assert "telegram:5" in out.stdout and "chưa nhắn cho trợ lý" in out.stdout


def test_ask_with_a_file_it_cannot_read_is_one_line(tmp_path: Path) -> None:
    out = run(["ask", "--file", "nothere.txt"], tmp_path)
    assert out.returncode == 2
    assert one_line(out.stderr) == "coopbot ask: không đọc được nothere.txt: không có tệp này"
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00")
    out = run(["ask", "--file", "bin.txt"], tmp_path, COOPBOT_LOCALE="en")
    assert out.returncode == 2 and one_line(out.stderr).endswith("not UTF-8 text")
