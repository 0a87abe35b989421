"""``coopbot kb check``: validate the knowledge base (and, as they come, the forms)."""

from __future__ import annotations

from pathlib import Path

from knowledge.base import Problem, load_dir


def check_all(path: Path) -> tuple[list[Problem], str]:
    loaded = load_dir(path)
    n_q = sum(len(e.questions) for e in loaded.entries)
    summary = (
        f"{len(loaded.entries)} entries, {n_q} question variants, {len(loaded.menu)} menu topics: "
        + ("OK" if not loaded.problems else f"{len(loaded.problems)} problems")
    )
    return loaded.problems, summary
