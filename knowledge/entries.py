"""The records of the knowledge base: an entry, a menu topic, a problem found in the files.

Kept apart from loading (:mod:`knowledge.base`) so that search can read entries without
importing the loader, and the loader can build the search index: no import circle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    questions: tuple[str, ...]
    answer: str
    tags: tuple[str, ...]
    sources: tuple[str, ...]
    reviewed: date
    certainty: str = "verified"
    followups: tuple[str, ...] = ()
    # "out": a known out-of-scope topic (e.g. founding a company); matching it means
    # "not ours", and its answer says where to ask instead.
    scope: str = "in"
    file: str = ""
    # English: {"title": str, "answer": str, "questions": tuple[str, ...]}; empty when missing.
    en: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def title_in(self, locale: str) -> str:
        """The title in ``locale`` ("en" when the entry has English), else in Vietnamese."""
        return str(self.en["title"]) if locale == "en" and self.en else self.title

    def answer_in(self, locale: str) -> str:
        """The answer in ``locale`` ("en" when the entry has English), else in Vietnamese."""
        return str(self.en["answer"]) if locale == "en" and self.en else self.answer

    def export(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "questions": list(self.questions),
            "answer": self.answer,
            "tags": list(self.tags),
            "sources": list(self.sources),
            "reviewed": self.reviewed.isoformat(),
            "certainty": self.certainty,
            "followups": list(self.followups),
            "scope": self.scope,
            **(
                {"en": {**self.en, "questions": list(self.en.get("questions", ()))}}
                if self.en
                else {}
            ),
        }


@dataclass(frozen=True)
class Topic:
    id: str
    title: dict[str, str]
    entries: tuple[str, ...]


@dataclass(frozen=True)
class Problem:
    file: str
    entry: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}" + (f" [{self.entry}]" if self.entry else "")
        return f"{where}: {self.message}"
