"""``coopbot web link``: a one-time sign-in link for the first admin (who may never have
written to the assistant) or a staff member; never for a plain member."""

import re
from pathlib import Path

from tests.test_cli import FIXTURE_KB, run


def test_web_link_for_the_first_admin_and_staff_only(tmp_path: Path) -> None:
    env = {"COOPBOT_ADMINS": "telegram:777", "COOPBOT_KNOWLEDGE_DIR": str(FIXTURE_KB),
           "COOPBOT_PUBLIC_URL": "https://coop.example.vn"}  # fmt: skip
    out = run(["web", "link", "telegram:777"], tmp_path, **env)
    assert out.returncode == 0, out.stderr
    assert re.fullmatch(r"https://coop\.example\.vn/console/signin/[\w-]{40,}\n", out.stdout)
    assert run(["chat", "--as", "farmer"], tmp_path, stdin="/start\n", **env).returncode == 0
    out = run(["web", "link", "console:farmer"], tmp_path, **env)
    assert (
        out.returncode == 1 and "chỉ dành cho cán bộ" in out.stderr and "signin" not in out.stdout
    )
    assert "web_link_created" in run(["audit"], tmp_path, **env).stdout
