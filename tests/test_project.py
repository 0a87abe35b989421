"""The project is whole by itself: what it needs ships in the repository, and packaging is current."""

import json
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_license_is_an_spdx_string_not_a_deprecated_table() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"


def test_the_development_question_set_ships_with_the_project() -> None:
    lines = (ROOT / "tests" / "data" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    cases = [json.loads(line) for line in lines if line.strip()]
    assert len(cases) >= 50
    assert all("q" in c and "expect" in c for c in cases)
    assert "../shared" not in (ROOT / "Makefile").read_text(encoding="utf-8")
