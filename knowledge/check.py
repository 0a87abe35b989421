"""``coopbot kb check``: validate the knowledge base and the forms (knowledge/forms).

Every entry must have an English ``en:`` block (title, answer, questions) for members who
chose English. A missing block is a problem (:data:`MISSING_ENGLISH_DEFAULT`);
``--missing-english warn`` reports it as a warning instead, e.g. while drafting a new base.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from knowledge.base import Problem, load_dir
from knowledge.entries import Entry
from knowledge.forms import FORMS_DIR, check_forms
from knowledge.law import citations, law_text

MISSING_ENGLISH = "no English: add an 'en:' block with title, answer and questions"
# While the English content is being written, a missing block is a warning by default; switch
# this to "error" once every entry has its English (``--missing-english`` overrides it).
MISSING_ENGLISH_DEFAULT = "error"


@dataclass(frozen=True)
class CheckCounts:
    """What ``check_all`` looked at; the command line words it in the operator's language."""

    entries: int
    english: int
    questions: int
    topics: int
    forms: int
    problems: int
    warnings: int = 0

    def __str__(self) -> str:
        return (
            f"{self.entries} entries ({self.english} in English), {self.questions} question "
            f"variants, {self.topics} menu topics, {self.forms} form"
            f"{'s' if self.forms != 1 else ''}: "
            + ("OK" if not self.problems else f"{self.problems} problems")
            + (f", {self.warnings} warnings" if self.warnings else "")
        )


def missing_english(entries: Iterable[Entry]) -> list[Problem]:
    return [Problem(e.file, e.id, MISSING_ENGLISH) for e in entries if not e.en]


def check_all(
    path: Path, forms: Path = FORMS_DIR, english: str = MISSING_ENGLISH_DEFAULT
) -> tuple[list[Problem], CheckCounts, list[Problem]]:
    """(problems, counts, warnings). ``english="warn"`` makes a missing English block a
    warning instead of a problem."""
    loaded = load_dir(path)
    form_problems, n_forms = check_forms(forms)
    no_english = missing_english(loaded.entries)
    problems = [*loaded.problems, *form_problems, *check_citations(loaded.entries)]
    warnings: list[Problem] = []
    (warnings if english == "warn" else problems).extend(no_english)
    counts = CheckCounts(
        entries=len(loaded.entries),
        english=sum(1 for e in loaded.entries if e.en),
        questions=sum(len(e.questions) for e in loaded.entries),
        topics=len(loaded.menu),
        forms=n_forms,
        problems=len(problems),
        warnings=len(warnings),
    )
    return problems, counts, warnings


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
