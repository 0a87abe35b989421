"""``coopbot kb check``: validate the knowledge base and the forms (knowledge/forms)."""

from __future__ import annotations

from pathlib import Path

from knowledge.base import Problem, load_dir
from knowledge.forms import FORMS_DIR, check_forms


def check_all(path: Path, forms: Path = FORMS_DIR) -> tuple[list[Problem], str]:
    loaded = load_dir(path)
    form_problems, n_forms = check_forms(forms)
    problems = [*loaded.problems, *form_problems]
    n_q = sum(len(e.questions) for e in loaded.entries)
    summary = (
        f"{len(loaded.entries)} entries, {n_q} question variants, {len(loaded.menu)} menu topics, "
        f"{n_forms} form{'s' if n_forms != 1 else ''}: "
        + ("OK" if not problems else f"{len(problems)} problems")
    )
    return problems, summary
