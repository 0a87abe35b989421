"""The console and the command line with broadcasts, run as staff would run them: a notice
written in ``coopbot chat`` reaches console members and ends with a final report;
``coopbot broadcasts`` counts an audience and stops a broadcast (after ``--yes``)."""

from pathlib import Path

from tests.test_cli import FIXTURE_KB, run

STAFF = {"COOPBOT_ADMINS": "console:boss", "COOPBOT_KNOWLEDGE_DIR": str(FIXTURE_KB)}


def test_console_broadcast_arrives_and_cli_stops_a_scheduled_one(tmp_path: Path) -> None:
    assert run(["chat", "--as", "m1"], tmp_path, stdin="xin chào\n", **STAFF).returncode == 0
    # all members (1), send now (1): no event to attach, so the audience comes first
    out = run(["chat", "--as", "boss"], tmp_path, stdin="/thongbao Họp ngày 5/12\n1\n1\n", **STAFF)
    assert out.returncode == 0, out.stderr
    assert "cho 1 người" in out.stdout and "Đã gửi: 1/1" in out.stdout  # not "sending" forever
    out = run(["chat", "--as", "m1"], tmp_path, stdin="xin chào\n", **STAFF)
    assert "Họp ngày 5/12" in out.stdout

    count = run(["broadcasts", "count", "all"], tmp_path, **STAFF)
    assert count.returncode == 0 and "Người nhận: 2" in count.stdout, count.stderr
    bad = run(["broadcasts", "count", "commune", "abc"], tmp_path, **STAFF)
    assert bad.returncode == 2 and "Không có nhóm người nhận này" in bad.stderr

    stdin = "/thongbao Lần hai\n1\n2\n01/12/2027 08:00\n"  # all members, schedule, when
    out = run(["chat", "--as", "boss"], tmp_path, stdin=stdin, **STAFF)
    assert "Đã hẹn gửi thông báo #2" in out.stdout, out.stdout
    shown = run(["broadcasts", "cancel", "2"], tmp_path, **STAFF)
    assert shown.returncode == 1 and "Lần hai" in shown.stdout and "--yes" in shown.stdout
    assert run(["broadcasts", "cancel", "abc"], tmp_path, **STAFF).returncode == 2
    done = run(["broadcasts", "cancel", "2", "--yes"], tmp_path, **STAFF)
    assert done.returncode == 0 and "Đã dừng thông báo #2" in done.stdout
    again = run(["broadcasts", "cancel", "2", "--yes"], tmp_path, **STAFF)
    assert again.returncode == 1 and "Không có thông báo #2" in again.stderr
    audit = run(["audit"], tmp_path, **STAFF).stdout
    assert "broadcast_cancelled" in audit and "cli" in audit
