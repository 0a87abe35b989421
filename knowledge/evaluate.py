"""Measure question answering on a JSONL question set.

Two kinds of expectation, in one file or mixed (see ``../shared/eval/README.md``):

* ``"expect"``: ``null`` for out of scope; otherwise groups of alternatives, each group must
  have one alternative in the folded answer;
* ``"entry"``: ``null`` for out of scope; otherwise the id (or a list of ids) of the right entry.

Optional keys: ``"avoid"``, ids that must never answer the question (an opposite or sibling
act: they make the answer wrong, whatever else is expected); ``"lang"`` (or ``"locale"``),
``"vi"`` or ``"en"``, the language the member chose (default: the one given to
:func:`load_cases`).

Every question ends up right, refused (no answer claimed) or **wrong** (an answer claimed, but
not the right one: another entry, or any entry for an out-of-scope question). A wrong answer
is worse than a refusal, so the report gives its share of all questions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.answers import answer_record
from knowledge.base import KnowledgeStore
from knowledge.normalize import fold

LOCALES = ("vi", "en")


class CaseError(ValueError):
    """A question set that cannot be read; the message names the file and line."""


@dataclass
class Case:
    question: str
    in_scope: bool
    expect: list[list[str]] | None = None
    entries: tuple[str, ...] = ()
    line: int = 0
    avoid: tuple[str, ...] = ()
    locale: str = "vi"


def _ids(value: Any, what: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise CaseError(f"{where}: '{what}' must be an entry id or a list of ids")


def load_cases(path: Path, locale: str = "vi") -> list[Case]:
    """Read a JSONL question set; :class:`CaseError` names the first line that is wrong."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CaseError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseError(f"{path}: cannot be read ({exc.__class__.__name__})") from None
    cases = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}, line {n}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CaseError(f"{where}: not valid JSON ({exc.msg})") from None
        if not isinstance(raw, dict):
            raise CaseError(f'{where}: expected an object like {{"q": …, "entry": …}}')
        question = raw.get("q")
        if not isinstance(question, str) or not question.strip():
            raise CaseError(f"{where}: 'q' (the question) is missing")
        if "expect" not in raw and "entry" not in raw:
            raise CaseError(f"{where}: give 'entry' (an id, or null) or 'expect'")
        expect = raw.get("expect")
        if expect is not None and not (
            isinstance(expect, list)
            and all(isinstance(g, list) and all(isinstance(a, str) for a in g) for g in expect)
        ):
            raise CaseError(f"{where}: 'expect' must be null or a list of lists of texts")
        entries = _ids(raw.get("entry"), "entry", where)
        in_scope = expect is not None if "expect" in raw else bool(entries)
        lang = raw.get("lang", raw.get("locale", locale))
        if lang not in LOCALES:
            raise CaseError(f"{where}: 'lang' must be one of {', '.join(LOCALES)}")
        avoid = _ids(raw.get("avoid"), "avoid", where)
        cases.append(Case(question, in_scope, expect, entries, n, avoid, lang))
    return cases


def outcome(case: Case, record: dict[str, Any]) -> str:
    """``"right"``, ``"refused"``, ``"asked"`` or ``"wrong"``.

    "asked": the chat asks which of a few topics the member meant, and the right one is
    among them (or, out of scope, it offers topics without claiming an answer): not right,
    but no wrong answer either. Asked back with none of the right entries is wrong.
    """
    if not record["matched"]:
        return "refused" if case.in_scope else "right"
    if is_correct(case, record):
        return "right"
    if record.get("ambiguous"):
        if not case.in_scope:
            return "asked"
        offered = {c["entry_id"] for c in record.get("choices", ())}
        if offered & set(case.entries) and not offered & set(case.avoid):
            return "asked"
    return "wrong"


def is_correct(case: Case, record: dict[str, Any]) -> bool:
    if not case.in_scope:
        return not record["matched"]
    if not record["matched"] or record["entry_id"] in case.avoid:
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
    wrong: int = 0
    refused: int = 0  # in scope, but no answer claimed
    asked: int = 0  # asked which topic was meant, no wrong answer given
    misses: list[tuple[Case, dict[str, Any], str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.in_scope + self.out_scope

    @property
    def wrong_share(self) -> float:
        """Questions answered with an answer that is not the right one, of all questions."""
        return self.wrong / self.total if self.total else 0.0

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
            f"all:          {self.total - self.wrong - self.refused - self.asked} right, "
            f"{self.refused} refused, {self.asked} asked back, "
            f"{self.wrong} wrong (wrong share {self.wrong_share:.3f})",
        ]
        if self.misses:
            lines.append(f"misses ({len(self.misses)}):")
        for case, rec, result in self.misses:
            want = ",".join(case.entries) if case.entries else ("answer" if case.in_scope else "-")
            got = rec["entry_id"] or (
                f"no answer (best {rec['alternatives'][0]['entry_id']})"
                if rec["alternatives"]
                else "no answer"
            )
            mark = {"wrong": "WRONG ", "asked": "asked "}.get(result, "")
            lines.append(
                f"  {mark}line {case.line}: {case.question!r} want "
                f"{want if case.in_scope else 'reject'}, got {got} score {rec['score']:.3f}"
            )
        return "\n".join(lines)


def evaluate(store: KnowledgeStore, cases: list[Case]) -> Report:
    report = Report()
    for case in cases:
        record = answer_record(store, case.question, case.locale)
        result = outcome(case, record)
        ok = result == "right"
        if case.in_scope:
            report.in_scope += 1
            report.correct += ok
            report.refused += result == "refused"
        else:
            report.out_scope += 1
            report.rejected += ok
        report.wrong += result == "wrong"
        report.asked += result == "asked"
        if not ok:
            report.misses.append((case, record, result))
    return report
