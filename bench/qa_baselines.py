"""Compare coopbot's search with two plain baselines on the same question sets.

(a) rapidfuzz WRatio between the folded question and every folded question variant;
(b) BM25 over folded syllables (each entry one document: its variants and title);
(c) coopbot's search (knowledge.search).

Every method is shown at its best threshold for that set (the fairest view of a baseline) and
coopbot also at its fixed, shipped threshold. A case counts as right when an in-scope question
gets the right entry (or an answer containing the expected text) and an out-of-scope question
gets no answer. Run: ``.venv/bin/python bench/qa_baselines.py``.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz, process  # noqa: E402

from knowledge.base import KnowledgeStore  # noqa: E402
from knowledge.evaluate import Case, is_correct, load_cases  # noqa: E402
from knowledge.normalize import fold  # noqa: E402

SETS = {
    "own (tests/data/qa_set.jsonl)": ROOT / "tests" / "data" / "qa_set.jsonl",
    "dev (tests/data/dev.jsonl)": ROOT / "tests" / "data" / "dev.jsonl",
}

Ranker = Callable[[str], tuple[str | None, float]]


def wratio_ranker(store: KnowledgeStore) -> Ranker:
    choices, owners = [], []
    for e in store.entries.values():
        if e.scope != "in":
            continue
        for q in (*e.questions, e.title):
            choices.append(fold(q))
            owners.append(e.id)

    def rank(question: str) -> tuple[str | None, float]:
        found = process.extractOne(fold(question), choices, scorer=fuzz.WRatio)
        return (owners[found[2]], found[1] / 100) if found else (None, 0.0)

    return rank


def bm25_ranker(store: KnowledgeStore, k1: float = 1.2, b: float = 0.75) -> Ranker:
    docs: list[tuple[str, Counter[str]]] = []
    for e in store.entries.values():
        if e.scope != "in":
            continue
        words = [w for q in (*e.questions, e.title) for w in fold(q).split()]
        docs.append((e.id, Counter(words)))
    n = len(docs)
    avg = sum(sum(c.values()) for _, c in docs) / n
    df: Counter[str] = Counter(w for _, c in docs for w in c)
    idf = {w: math.log(1 + (n - d + 0.5) / (d + 0.5)) for w, d in df.items()}
    max_possible = {}

    def rank(question: str) -> tuple[str | None, float]:
        words = fold(question).split()
        best_id, best = None, 0.0
        for eid, c in docs:
            length = sum(c.values())
            s = 0.0
            for w in words:
                f = c.get(w, 0)
                if f:
                    s += idf[w] * f * (k1 + 1) / (f + k1 * (1 - b + b * length / avg))
            if s > best:
                best_id, best = eid, s
        # Normalise by the best score the question could reach, so one threshold fits all.
        key = tuple(words)
        if key not in max_possible:
            max_possible[key] = sum(idf.get(w, 0.0) * (k1 + 1) for w in words) or 1.0
        return best_id, best / max_possible[key]

    return rank


def coopbot_ranker(store: KnowledgeStore) -> Ranker:
    def rank(question: str) -> tuple[str | None, float]:
        r = store.index.search(question)
        if not r.best or r.best.entry.scope != "in":
            return None, 0.0
        return r.best.entry.id, r.best.score

    return rank


def score(
    store: KnowledgeStore, cases: list[Case], ranked, threshold: float
) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    ok_in = n_in = ok_out = n_out = 0
    for case, (eid, s) in zip(cases, ranked, strict=True):
        matched = eid is not None and s >= threshold
        entry = store.entries.get(eid) if matched else None
        record = {"matched": matched, "entry_id": eid if matched else None,
                  "answer": entry.answer if entry else None}  # fmt: skip
        ok = is_correct(case, record)
        if case.in_scope:
            n_in += 1
            ok_in += ok
        else:
            n_out += 1
            ok_out += ok
    return ok_in / max(n_in, 1), ok_out / max(n_out, 1)


def best_threshold(store, cases, ranked) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    best = (0.0, 0.0, 0.0)
    for i in range(0, 101):
        th = i / 100
        acc, rej = score(store, cases, ranked, th)
        if (acc + rej) / 2 > (best[1] + best[2]) / 2:
            best = (th, acc, rej)
    return best


def main() -> None:
    store = KnowledgeStore()
    methods = {
        "rapidfuzz WRatio": wratio_ranker(store),
        "BM25 (folded syllables)": bm25_ranker(store),
        "coopbot": coopbot_ranker(store),
    }
    print(f"{len(store.entries)} entries")
    for set_name, path in SETS.items():
        if not path.exists():
            continue
        cases = load_cases(path)
        n_in = sum(c.in_scope for c in cases)
        print(f"\n{set_name}: {n_in} in scope, {len(cases) - n_in} out of scope")
        print(f"{'method':28} {'threshold':>9} {'top-1 in scope':>15} {'rejection':>10}")
        for name, rank in methods.items():
            ranked = [rank(c.question) for c in cases]
            th, acc, rej = best_threshold(store, cases, ranked)
            print(f"{name + ' (best th.)':28} {th:9.2f} {acc:15.3f} {rej:10.3f}")
        acc, rej = 0, 0
        from knowledge.evaluate import evaluate

        report = evaluate(store, cases)
        print(
            f"{'coopbot (shipped)':28} {store.index.threshold:9.2f} "
            f"{report.accuracy:15.3f} {report.rejection:10.3f}"
        )


if __name__ == "__main__":
    main()
