"""Held-out probes: member questions across the whole cooperative law, written from the law text
by someone who had not read the knowledge base (qa_probe, qa_probe_more), then written after
rounds of fixes (qa_probe2, qa_probe3, qa_probe4; the last never tuned against). The floors keep what was
measured, so a change to the content or the search cannot quietly lose it."""

from pathlib import Path

import pytest

from knowledge.base import KnowledgeStore
from knowledge.evaluate import evaluate, load_cases

DATA = Path(__file__).resolve().parent / "data"

# (accuracy in scope, rejection out of scope); measured 2026-11-29: probe 0.975 / 0.983,
# more 0.899, probe2 0.963 / 0.950, probe3 0.934 / 0.950, probe4 0.957 / 0.867.
FLOORS = {
    "qa_probe.jsonl": (0.95, 0.95),
    "qa_probe_more.jsonl": (0.87, 1.0),
    "qa_probe2.jsonl": (0.93, 0.90),
    "qa_probe3.jsonl": (0.90, 0.90),
    "qa_probe4.jsonl": (0.93, 0.85),
}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_probe_floor(real_kb: KnowledgeStore, name: str) -> None:
    min_accuracy, min_rejection = FLOORS[name]
    report = evaluate(real_kb, load_cases(DATA / name))
    assert report.accuracy >= min_accuracy, report.render()
    assert report.rejection >= min_rejection, report.render()


def test_probe_wrong_answers_are_rarer_than_three_in_a_hundred(real_kb: KnowledgeStore) -> None:
    """A wrong answer (another entry's) is worse than "I don't know": on the probe, fewer than
    3 % of the answerable questions may get a claimed but wrong answer."""
    report = evaluate(real_kb, load_cases(DATA / "qa_probe.jsonl"))
    wrong = [case for case, record, *_ in report.misses if case.in_scope and record["matched"]]
    assert len(wrong) / report.in_scope < 0.03, report.render()


def test_probe_sets_cover_the_law_and_its_neighbours() -> None:
    cases = load_cases(DATA / "qa_probe.jsonl")
    assert sum(c.in_scope for c in cases) == 240
    assert sum(not c.in_scope for c in cases) == 60
    for name in FLOORS:
        for case in load_cases(DATA / name):
            assert case.question.strip()
            assert case.expect is None or all(case.expect), f"{name} line {case.line}"
