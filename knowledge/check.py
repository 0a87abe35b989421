"""``coopbot kb check``: validate the knowledge base and the forms (knowledge/forms)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from knowledge.base import Entry, Problem, load_dir
from knowledge.forms import FORMS_DIR, check_forms
from knowledge.law import citations, law_text


@dataclass(frozen=True)
class CheckCounts:
    """What ``check_all`` looked at; the command line words it in the operator's language."""

    entries: int
    questions: int
    topics: int
    forms: int
    problems: int

    def __str__(self) -> str:
        return (
            f"{self.entries} entries, {self.questions} question variants, {self.topics} menu "
            f"topics, {self.forms} form{'s' if self.forms != 1 else ''}: "
            + ("OK" if not self.problems else f"{self.problems} problems")
        )


def check_all(path: Path, forms: Path = FORMS_DIR) -> tuple[list[Problem], CheckCounts]:
    loaded = load_dir(path)
    form_problems, n_forms = check_forms(forms)
    problems = [*loaded.problems, *form_problems, *check_citations(loaded.entries)]
    n_q = sum(len(e.questions) for e in loaded.entries)
    counts = CheckCounts(len(loaded.entries), n_q, len(loaded.menu), n_forms, len(problems))
    return problems, counts


def check_citations(entries: Iterable[Entry]) -> list[Problem]:
    """Every article a source line cites ("Luật Hợp tác xã số 17/2023/QH15, Điều 42") must
    exist in the text of the law (knowledge/law); sources naming other documents are skipped."""
    text = law_text()
    problems: list[Problem] = []
    for entry in entries:
        for source in entry.sources:
            for doc, num in citations(source, text) or []:
                if text.get(doc, num) is None:
                    message = f"source {source!r} cites Điều {num} of {doc}, not in the law text"
                    problems.append(Problem(entry.file, entry.id, message))
    return problems
