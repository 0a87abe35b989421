"""The command line, run as a member would run it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_KB = ROOT / "tests" / "fixtures" / "kb"


def run(
    args: list[str], tmp_path: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("COOPBOT_", "TELEGRAM_", "ZALO_"))
    }
    environ.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", **env})
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environ,
        timeout=120,
    )


def test_version_and_help(tmp_path: Path) -> None:
    out = run(["--version"], tmp_path)
    assert out.returncode == 0 and out.stdout.startswith("coopbot ")
    for cmd in (["--help"], ["chat", "--help"], ["run", "--help"], ["db", "upgrade", "--help"],
                ["ask", "--help"], ["eval", "--help"], ["kb", "check", "--help"]):  # fmt: skip
        res = run(cmd, tmp_path)
        assert res.returncode == 0 and "usage: coopbot" in res.stdout, cmd


def test_piped_chat_prints_replies_and_exits_zero(tmp_path: Path) -> None:
    out = run(["chat"], tmp_path, stdin="xin chào\n/help\n", COOPBOT_KNOWLEDGE_DIR=str(FIXTURE_KB))
    assert out.returncode == 0, out.stderr
    assert "Chào anh/chị" in out.stdout
    assert "Các lệnh của trợ lý:" in out.stdout
    assert (tmp_path / "cli.db").exists()


def test_chat_as_admin_user(tmp_path: Path) -> None:
    out = run(
        ["chat", "--as", "boss"],
        tmp_path,
        stdin="/chuahoi\n",
        COOPBOT_ADMINS="console:boss",
        COOPBOT_KNOWLEDGE_DIR=str(FIXTURE_KB),
    )
    assert out.returncode == 0
    assert "30 ngày qua" in out.stdout


def test_run_without_tokens_says_what_to_set(tmp_path: Path) -> None:
    out = run(["run"], tmp_path)
    assert out.returncode != 0
    assert "TELEGRAM_BOT_TOKEN" in out.stderr and "ZALO_BOT_TOKEN" in out.stderr


def test_bad_setting_stops_with_one_line(tmp_path: Path) -> None:
    out = run(["chat"], tmp_path, COOPBOT_TIMEZONE="Nowhere/Land")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "COOPBOT_TIMEZONE" in lines[0]


def test_db_upgrade(tmp_path: Path) -> None:
    out = run(["db", "upgrade"], tmp_path, COOPBOT_LOCALE="en")
    assert out.returncode == 0 and "upgraded from empty" in out.stdout
    out = run(["db", "upgrade"], tmp_path, COOPBOT_LOCALE="en")
    assert "up to date" in out.stdout


def test_kb_sync_export_import(tmp_path: Path) -> None:
    kb = {"COOPBOT_KNOWLEDGE_DIR": str(FIXTURE_KB), "COOPBOT_LOCALE": "en"}  # lines in English
    out = run(["db", "upgrade"], tmp_path, **kb)
    assert out.returncode == 0 and "knowledge base: 4 new" in out.stdout
    assert "0 new, 0 updated, 4 unchanged" in run(["kb", "sync"], tmp_path, **kb).stdout
    for fmt in ("yaml", "json"):
        target = tmp_path / f"kb.{fmt}"
        out = run(["kb", "export", "--format", fmt, "--output", str(target)], tmp_path, **kb)
        assert out.returncode == 0 and "htx.min_members" in target.read_text(encoding="utf-8")
        out = run(["kb", "import", str(target)], tmp_path, **kb)
        assert out.returncode == 0 and "imported: 0 entries changed" in out.stdout
    # An imported change is what `coopbot ask` (and members) get from now on.
    changed = (tmp_path / "kb.json").read_text(encoding="utf-8")
    changed = changed.replace("Hợp tác xã phải có ít nhất 05", "Theo luật, HTX cần tối thiểu 05")
    (tmp_path / "kb.json").write_text(changed, encoding="utf-8")
    out = run(["kb", "import", str(tmp_path / "kb.json")], tmp_path, **kb)
    assert "imported: 1 entries changed" in out.stdout
    out = run(["ask", "Mở HTX phải có mấy người?"], tmp_path, **kb)
    assert "Theo luật, HTX cần tối thiểu 05" in out.stdout
    bad = tmp_path / "bad.json"
    bad.write_text('{"entries": [{"id": "x.y", "title": "T"}]}', encoding="utf-8")
    out = run(["kb", "import", str(bad)], tmp_path, **kb)
    assert out.returncode == 1 and "sources are missing" in out.stdout


def test_ask_json_file(tmp_path: Path) -> None:
    qfile = tmp_path / "q.txt"
    qfile.write_text("ho so dang ky htx gom nhung gi\ngiá vàng hôm nay\n", encoding="utf-8")
    out = run(
        ["ask", "--json", "--file", str(qfile)], tmp_path, COOPBOT_KNOWLEDGE_DIR=str(FIXTURE_KB)
    )
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["question"] for r in rows] == ["ho so dang ky htx gom nhung gi", "giá vàng hôm nay"]
    assert rows[0]["matched"] and rows[0]["entry_id"] == "htx.dossier"
    assert not rows[1]["matched"] and rows[1]["entry_id"] is None
    for r in rows:
        assert set(r) >= {"question", "matched", "entry_id", "score", "answer", "alternatives"}


@pytest.mark.parametrize("broken", ["dangling", "long"])
def test_kb_check_reports_problems(tmp_path: Path, broken: str) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    text = (FIXTURE_KB / "sample.yaml").read_text(encoding="utf-8")
    if broken == "dangling":
        text = text.replace("followups: [htx.dossier]", "followups: [htx.nowhere]")
    else:
        text = text.replace(
            "answer: Hợp tác xã phải", "answer: " + "rất dài " * 100 + "Hợp tác xã phải"
        )
    (kb / "sample.yaml").write_text(text, encoding="utf-8")
    out = run(["kb", "check"], tmp_path, COOPBOT_KNOWLEDGE_DIR=str(kb))
    assert out.returncode == 1
    assert ("htx.nowhere" if broken == "dangling" else "at most 700") in out.stdout


def test_console_users_link_and_approve_through_the_outbox(tmp_path: Path) -> None:
    env = {"COOPBOT_ADMINS": "console:boss", "COOPBOT_KNOWLEDGE_DIR": str(FIXTURE_KB)}
    assert run(["demo"], tmp_path, **env).returncode == 0
    out = run(["chat", "--as", "boss"], tmp_path, stdin="/start\n", **env)
    assert out.returncode == 0
    out = run(
        ["chat", "--as", "acc"], tmp_path, stdin="/dangky\nDEMO-01\n1\n2\n0900000001\n", **env
    )
    assert "cán bộ sẽ duyệt" in out.stdout, out.stdout
    out = run(["chat", "--as", "boss"], tmp_path, stdin="/hoptacxa\n1\n", **env)
    assert "Yêu cầu liên kết tài khoản" in out.stdout and "090****001" in out.stdout
    assert "Đã duyệt liên kết" in out.stdout, out.stdout
    out = run(["chat", "--as", "acc"], tmp_path, stdin="/hoptacxa\n", **env)
    assert "Cán bộ đã duyệt" in out.stdout and "DEMO-01" in out.stdout
    audit = run(["audit"], tmp_path, **env)
    assert "link_approved" in audit.stdout and "console:boss" in audit.stdout
