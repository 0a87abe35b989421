"""Cross-validation over the knowledge base's own question variants.

Each variant is held out in turn (ten folds), the index is built without it, and the variant is
asked as a question: an in-scope variant should find its own entry, an out-of-scope one should
be refused. It needs no test set, so it can check a search parameter on data the parameter was
not chosen on, and it shows KB authors which entries are weak and which pairs get confused.

    .venv/bin/python bench/kb_crossval.py [--folds 10] [--worst 12]
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge.base import DATA_DIR, Entry, KnowledgeStore  # noqa: E402
from knowledge.search import SearchIndex  # noqa: E402


def crossval(entries: list[Entry], folds: int, seed: int = 7) -> tuple[Counter, Counter, Counter]:
    """(right per entry, asked per entry, confusions (entry, answered as)) over all folds."""
    items = [(ei, qi) for ei, e in enumerate(entries) for qi in range(len(e.questions))]
    random.Random(seed).shuffle(items)
    right: Counter[str] = Counter()
    asked: Counter[str] = Counter()
    confused: Counter[tuple[str, str]] = Counter()
    for fold in (items[i::folds] for i in range(folds)):
        held: dict[int, set[int]] = defaultdict(set)
        for ei, qi in fold:
            held[ei].add(qi)
        index = SearchIndex(
            [
                dataclasses.replace(
                    e, questions=tuple(q for i, q in enumerate(e.questions) if i not in held[ei])
                )
                for ei, e in enumerate(entries)
            ]
        )
        for ei, qi in fold:
            entry = entries[ei]
            result = index.search(entry.questions[qi])
            got = result.best.entry.id if result.matched and result.best else "(refused)"
            ok = got == entry.id if entry.scope == "in" else got == "(refused)"
            asked[entry.id] += 1
            right[entry.id] += ok
            if not ok:
                confused[(entry.id, got)] += 1
    return right, asked, confused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--worst", type=int, default=12)
    args = parser.parse_args()
    entries = KnowledgeStore(DATA_DIR).index.entries
    right, asked, confused = crossval(entries, args.folds)
    scope = {e.id: e.scope for e in entries}
    for name, wanted in (("in scope (own entry found)", "in"), ("out of scope (refused)", "out")):
        ids = [k for k in asked if scope[k] == wanted]
        r, n = sum(right[k] for k in ids), sum(asked[k] for k in ids)
        print(f"{name:28} {r:5}/{n:<5} {r / max(n, 1):.3f}")
    print(f"\nweakest entries ({args.folds} folds):")
    for k in sorted(asked, key=lambda k: right[k] / asked[k])[: args.worst]:
        print(f"  {k:28} {right[k]:3}/{asked[k]:<3} {right[k] / asked[k]:.2f}")
    print("\nmost frequent confusions (held-out variant of → answered as):")
    for (a, b), n in confused.most_common(args.worst):
        print(f"  {a:28} → {b:28} {n}")


if __name__ == "__main__":
    main()
