"""``coopbot links``, ``coopbot staff`` and ``coopbot tickets`` call the chat's operations."""

from pathlib import Path

from tests.test_cli import FIXTURE_KB, run


def test_links_staff_and_tickets_from_the_command_line(tmp_path: Path) -> None:
    env = {"COOPBOT_ADMINS": "console:boss", "COOPBOT_KNOWLEDGE_DIR": str(FIXTURE_KB)}
    assert run(["demo"], tmp_path, **env).returncode == 0
    assert run(["chat", "--as", "helper"], tmp_path, stdin="/start\n", **env).returncode == 0
    out = run(["staff", "add", "helper"], tmp_path, **env)  # a bare id, on its only channel
    assert out.returncode == 0 and "Đã cấp quyền cán bộ cho console:helper" in out.stdout
    assert "console:helper, staff" in run(["staff"], tmp_path, **env).stdout
    out = run(["staff", "add", "nobody"], tmp_path, **env)
    assert out.returncode == 1 and "Chưa có ai là nobody" in out.stderr

    stdin = "/dangky\nDEMO-01\n1\n2\n0900000001\n/lienhe cho hỏi về thuế\n"
    assert run(["chat", "--as", "acc"], tmp_path, stdin=stdin, **env).returncode == 0
    out = run(["links"], tmp_path, **env)
    assert "090****001" in out.stdout and "DEMO-01" in out.stdout
    member_id = out.stdout.split()[0].lstrip("#")
    out = run(["links", "approve", member_id], tmp_path, **env)
    assert out.returncode == 0 and "Đã duyệt liên kết của 090****001" in out.stdout
    out = run(["links", "approve", member_id], tmp_path, **env)
    assert out.returncode == 1 and "đã được xử lý" in out.stderr

    out = run(["tickets"], tmp_path, **env)
    assert "cho hỏi về thuế" in out.stdout
    out = run(["tickets", "answer", "1", "Hỏi Chi cục Thuế khu vực."], tmp_path, **env)
    assert out.returncode == 0 and "Đã gửi câu trả lời cho yêu cầu #1" in out.stdout
    assert run(["tickets", "close", "1", "--suggest"], tmp_path, **env).returncode == 0
    out = run(["kb", "suggestions", "--output", str(tmp_path / "drafts")], tmp_path, **env)
    assert out.returncode == 0 and "Chi cục Thuế" in (
        tmp_path / "drafts" / "suggestions.yaml"
    ).read_text(encoding="utf-8")
    assert "Không có yêu cầu nào đang chờ" in run(["tickets"], tmp_path, **env).stdout
    audit = run(["audit"], tmp_path, **env).stdout
    for action in ("grant_staff", "link_approved", "ticket_answered", "ticket_closed"):
        assert action in audit
