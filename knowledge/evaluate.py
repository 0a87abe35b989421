"""Measure question answering on a JSONL question set.

Two kinds of expectation, in one file or mixed (see ``../shared/eval/README.md``):

* ``"expect"``: ``null`` for out of scope; otherwise groups of alternatives, each group must
  have one alternative in the folded answer;
* ``"entry"``: ``null`` for out of scope; otherwise the id (or a list of ids) of the right entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.answers import answer_record
from knowledge.base import KnowledgeStore
from knowledge.normalize import fold


@dataclass
class Case:
    question: str
    in_scope: bool
    expect: list[list[str]] | None = None
    entries: tuple[str, ...] = ()
    line: int = 0


def load_cases(path: Path) -> list[Case]:
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        raw: dict[str, Any] = json.loads(line)
        expect = raw.get("expect")
        entry = raw.get("entry")
        in_scope = expect is not None if "expect" in raw else entry is not None
        entries = (entry,) if isinstance(entry, str) else tuple(entry or ())
        cases.append(Case(raw["q"], in_scope, expect, entries, n))
    return cases


def is_correct(case: Case, record: dict[str, Any]) -> bool:
    if not case.in_scope:
        return not record["matched"]
    if not record["matched"]:
        return False
    if case.entries and record["entry_id"] not in case.entries:
        return False
    if case.expect:
        answer = fold(record["answer"] or "")
        return all(any(fold(alt) in answer for alt in group) for group in case.expect)
    return True


@dataclass
class Report:
    in_scope: int = 0
    correct: int = 0
    out_scope: int = 0
    rejected: int = 0
    misses: list[tuple[Case, dict[str, Any]]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.in_scope if self.in_scope else 1.0

    @property
    def rejection(self) -> float:
        return self.rejected / self.out_scope if self.out_scope else 1.0

    def render(self) -> str:
        lines = [
            f"in scope:     {self.correct}/{self.in_scope} correct (accuracy {self.accuracy:.3f})",
            f"out of scope: {self.rejected}/{self.out_scope} rejected "
            f"(rejection {self.rejection:.3f})",
        ]
        if self.misses:
            lines.append(f"misses ({len(self.misses)}):")
        for case, rec in self.misses:
            want = ",".join(case.entries) if case.entries else ("answer" if case.in_scope else "-")
            got = rec["entry_id"] or (
                f"no answer (best {rec['alternatives'][0]['entry_id']})"
                if rec["alternatives"]
                else "no answer"
            )
            lines.append(
                f"  line {case.line}: {case.question!r} want {want if case.in_scope else 'reject'}"
                f", got {got} score {rec['score']:.3f}"
            )
        return "\n".join(lines)


def evaluate(store: KnowledgeStore, cases: list[Case]) -> Report:
    report = Report()
    for case in cases:
        record = answer_record(store, case.question)
        ok = is_correct(case, record)
        if case.in_scope:
            report.in_scope += 1
            report.correct += ok
        else:
            report.out_scope += 1
            report.rejected += ok
        if not ok:
            report.misses.append((case, record))
    return report
