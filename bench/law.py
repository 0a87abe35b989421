"""The law at hand: how fast an article opens and related articles are found, and how often a
refused question is offered the right article.

Prints p50/p99 of: opening an article from a typed reference (parse, look up, cut into parts
for Zalo's 2,000 characters) and finding the three related articles of a question. Then, for
the project's own questions (tests/data/qa_set.jsonl, out-of-scope ones left out) that the
knowledge base refuses, the share for which an article cited by the expected entry's sources
is among the three offered under the refusal (and, because the base refuses few of its own
questions, the same share over every in-scope question whose entry cites an article).
``../shared/eval/dev.jsonl`` is added when present. A refusal's related articles change no
answer; the only answers that can change are questions read as a reference ("điều 90 luật
htx"), counted too.

Run: ``.venv/bin/python bench/law.py``.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handlers.law import RELATED  # noqa: E402
from knowledge.base import DATA_DIR, KnowledgeStore  # noqa: E402
from knowledge.law import (  # noqa: E402
    article_blocks,
    cited_articles,
    law_text,
    parse_number_or_reference,
    parse_reference,
    split_parts,
)

SETS = {
    "own": ROOT / "tests" / "data" / "qa_set.jsonl",
    "shared dev": next(
        (
            p / "shared/eval/dev.jsonl"
            for p in ROOT.parents
            if (p / "shared/eval/dev.jsonl").exists()
        ),
        ROOT.parent / "shared/eval/dev.jsonl",
    ),
}


def percentiles(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"p50 {statistics.median(ms):.3f} ms, p99 {p99:.3f} ms (n={len(ms)})"


def references(rng: random.Random) -> list[str]:
    text = law_text()
    forms = ["/luat {n}", "điều {n} luật htx", "dieu {n} luat hop tac xa", "k{c} d{n}"]
    out = []
    for _ in range(2000):
        a = rng.choice(text.articles)
        if a.doc != "17/2023/QH15":
            kind = text.documents[a.doc].kind
            short = {"nghidinh": "nghị định", "thongtu": "thông tư", "quyetdinh": "quyết định"}
            out.append(f"điều {a.num} {short[kind]} {a.doc.split('/')[0]}/{a.doc.split('/')[1]}")
            continue
        form = rng.choice(forms)
        out.append(form.format(n=a.num, c=max(1, len(a.clauses))).removeprefix("/luat "))
    return out


def open_times(refs: list[str]) -> list[float]:
    text = law_text()
    times = []
    for typed in refs:
        start = time.perf_counter()
        ref = parse_number_or_reference(typed)
        article = text.get(ref.doc, ref.num) if ref and ref.doc else None
        if article is not None:
            split_parts(article_blocks(article, ref.clause, ref.point), 1700, per_para=3)
        times.append(time.perf_counter() - start)
        assert article is not None, typed
    return times


def rows(path: Path) -> list[tuple[str, list[str]]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        ids = row.get("entry", row.get("topic"))
        ids = [ids] if isinstance(ids, str) else list(ids or [])
        out.append((row["q"], ids))
    return out


def main() -> int:
    store = KnowledgeStore(DATA_DIR)
    text = law_text()
    text.index  # build the word index outside the timings  # noqa: B018
    print(f"law text: {len(text.articles)} articles, {len(text.documents)} documents")
    print("open an article:     ", percentiles(open_times(references(random.Random(7)))))
    questions = [q for path in SETS.values() if path.exists() for q, _ in rows(path)]
    times = []
    for q in questions:
        start = time.perf_counter()
        text.related(q, RELATED)
        times.append(time.perf_counter() - start)
    print("find related articles:", percentiles(times))
    for name, path in SETS.items():
        if not path.exists():
            continue
        taken = [q for q, _ in rows(path) if parse_reference(q, whole=True) is not None]
        print(f"{name}: questions taken as a reference to an article (not answered): {len(taken)}")
        refused = refused_right = offered = cited_all = right_all = offered_all = 0
        for q, ids in rows(path):
            entries = [e for e in (store.get(i) for i in ids) if e and e.scope == "in"]
            if not entries:
                continue  # out of scope, or an entry the base no longer has
            cited = {a.key for e in entries for a in cited_articles(e.sources)}
            found = {a.key for a in text.related(q, RELATED)}
            right = bool(cited & found)
            if cited:
                cited_all += 1
                right_all += right
                offered_all += bool(found)
            if store.index.search(q).matched:
                continue
            refused += 1
            offered += bool(found)
            refused_right += right
        share = f"{refused_right}/{refused}" + (
            f" = {refused_right / refused:.0%}" if refused else ""
        )
        print(
            f"{name}: refused in-scope questions {refused}, offered articles {offered}, "
            f"right article among the {RELATED} offered: {share}"
        )
        if cited_all:
            print(
                f"{name}: every in-scope question whose entry cites an article: right article "
                f"offered {right_all}/{cited_all} = {right_all / cited_all:.0%} "
                f"(articles offered for {offered_all}, right in "
                f"{right_all / max(1, offered_all):.0%} of those)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
