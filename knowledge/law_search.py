"""A small word search over the articles of the law: BM25 on syllables and syllable pairs.

Words are read by :func:`knowledge.normalize.tokenize` and compared folded (without
diacritics), so "thua ke von gop" finds what "thừa kế vốn góp" finds. The title of an article
counts three times its text; a pair of syllables ("vốn góp") counts more than its halves.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from itertools import pairwise

from knowledge.normalize import tokenize

TITLE_WEIGHT = 3.0
PAIR_WEIGHT = 1.5
K1 = 1.2
B = 0.75
# Syllables too common in this text to tell articles apart (and question words).
STOP = frozenset(
    "hop tac xa lien hiep to cua va cac co duoc theo quy dinh tai khoan dieu nay la thi "
    "cho trong ve voi khi nhu nao gi sao the nhung mot so hoac do ma de thuc hien "
    "xin chao em anh chi hoi minh toi oi a nhe vay ha khong can phai lam bao nhieu muon "
    "thi duoc roi chua ai dau".split()
)


def terms(text: str) -> list[str]:
    """Folded syllables (without the most common ones) and adjacent pairs of all syllables."""
    folded = [t.folded for t in tokenize(text) if t.folded]
    singles = [f for f in folded if f not in STOP and not f.isdigit()]
    pairs = [f"{a}_{b}" for a, b in pairwise(folded)]
    pairs = [p for p in pairs if not all(x in STOP for x in p.split("_"))]
    return singles + pairs


class WordIndex:
    """BM25 over documents given as (title, text, prior); the prior multiplies the score."""

    def __init__(self, docs: Sequence[tuple[str, str, float]]) -> None:
        self.priors = [prior for _, _, prior in docs]
        self.tf: list[Counter[str]] = []
        for title, text, _ in docs:
            counts: Counter[str] = Counter()
            for term in terms(text):
                counts[term] += 1.0 if "_" not in term else PAIR_WEIGHT
            for term in terms(title):
                counts[term] += TITLE_WEIGHT * (1.0 if "_" not in term else PAIR_WEIGHT)
            self.tf.append(counts)
        self.lengths = [sum(c.values()) for c in self.tf]
        self.avg = sum(self.lengths) / max(1, len(self.lengths))
        df: Counter[str] = Counter()
        for counts in self.tf:
            df.update(counts.keys())
        n = len(self.tf)
        self.idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self.postings: dict[str, list[int]] = {}
        for i, counts in enumerate(self.tf):
            for term in counts:
                self.postings.setdefault(term, []).append(i)

    def search(self, query: str, limit: int = 5, min_score: float = 0.0) -> list[tuple[int, float]]:
        """(document index, score) of the best matches, best first. A score is the BM25 sum
        over the best a document could get for this query, so roughly between 0 and 1."""
        asked = list(dict.fromkeys(terms(query)))
        wanted = [t for t in asked if t in self.idf]
        if not wanted:
            return []
        # A word no article has counts as the rarest: a query that mostly misses scores low.
        rarest = max(self.idf.values())
        scores: Counter[int] = Counter()
        for term in wanted:
            idf = self.idf[term]
            for i in self.postings[term]:
                f = self.tf[i][term]
                norm = K1 * (1 - B + B * self.lengths[i] / self.avg)
                scores[i] += idf * f * (K1 + 1) / (f + norm)
        ceiling = sum(self.idf.get(t, rarest) * (K1 + 1) for t in asked)
        ranked = sorted(
            ((i, s * self.priors[i] / ceiling) for i, s in scores.items()),
            key=lambda x: (-x[1], x[0]),
        )
        return [(i, s) for i, s in ranked[:limit] if s >= min_score]
