"""Search speed and memory: the real knowledge base and synthetic ones of 10,000 and 100,000
entries. Prints build time, resident memory added by the index, and per-question latency
(p50, p99) on one core. Run: ``.venv/bin/python bench/search.py [--sizes 10000,100000]``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge.base import Entry, KnowledgeStore  # noqa: E402
from knowledge.normalize import fold  # noqa: E402
from knowledge.search import SearchIndex  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def real_questions() -> list[str]:
    qs = []
    for path in (ROOT / "tests" / "data" / "qa_set.jsonl", ROOT / "tests/data/dev.jsonl"):
        if path.exists():
            qs += [json.loads(x)["q"] for x in path.read_text(encoding="utf-8").splitlines() if x]
    return qs


def synthetic(n: int, store: KnowledgeStore, rng: random.Random) -> list[Entry]:
    """Entries made of the real base's syllables plus invented ones, so the vocabulary grows
    with the base as a real one would."""
    words = sorted(
        {w for e in store.entries.values() for q in e.questions for w in q.lower().split()}
    )
    invented = [
        rng.choice("bcdghklmnpqrstvx") + rng.choice(["a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư"])
        + rng.choice(["", "n", "ng", "m", "t", "c", "nh", "ch", "p", "i", "y"])
        for _ in range(max(2000, n // 10))
    ]  # fmt: skip
    vocab = words + invented
    entries = []
    for i in range(n):
        questions = tuple(" ".join(rng.choices(vocab, k=rng.randint(5, 12))) for _ in range(6))
        entries.append(
            Entry(
                id=f"syn.e{i}",
                title=questions[0][:40],
                questions=questions,
                answer="…",
                tags=(),
                sources=("synthetic",),
                reviewed=date(2026, 11, 28),
            )
        )
    return entries


def perturb(text: str, rng: random.Random) -> str:
    words = text.split()
    if len(words) > 4:
        words.pop(rng.randrange(len(words)))
    if rng.random() < 0.5:
        words = fold(" ".join(words)).split()
    i = rng.randrange(len(words))
    w = words[i]
    if len(w) > 3:
        j = rng.randrange(len(w))
        words[i] = w[:j] + w[j + 1 :]
    return " ".join(words)


def measure(index: SearchIndex, questions: list[str]) -> tuple[float, float, float]:
    for q in questions[:20]:
        index.search(q)
    times = []
    for q in questions:
        t0 = time.perf_counter()
        index.search(q)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return statistics.median(times), p99, max(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--queries", type=int, default=1000)
    args = ap.parse_args()
    rng = random.Random(7)
    store = KnowledgeStore()
    questions = real_questions()
    print(
        f"{'base':>22} {'entries':>8} {'build s':>8} {'index MB':>9} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}"
    )
    before = rss_mb()
    t0 = time.perf_counter()
    index = SearchIndex(list(store.entries.values()))
    build, mem = time.perf_counter() - t0, rss_mb() - before
    p50, p99, mx = measure(index, questions)
    print(
        f"{'real':>22} {len(store.entries):>8} {build:8.2f} {mem:9.1f} {p50:7.2f} {p99:7.2f} {mx:7.2f}"
    )
    del index
    for size in (int(s) for s in args.sizes.split(",") if s):
        entries = synthetic(size, store, rng)
        before = rss_mb()
        t0 = time.perf_counter()
        index = SearchIndex(entries)
        build, mem = time.perf_counter() - t0, rss_mb() - before
        sample = [
            perturb(rng.choice(rng.choice(entries).questions), rng) for _ in range(args.queries)
        ]
        qs = sample + questions
        p50, p99, mx = measure(index, qs)
        print(
            f"{'synthetic':>22} {size:>8} {build:8.2f} {mem:9.1f} {p50:7.2f} {p99:7.2f} {mx:7.2f}"
        )
        del index, entries


if __name__ == "__main__":
    main()
