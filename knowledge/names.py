"""Finding a cooperative by the name a member types, without scoring every name.

``/dangky`` used to score the typed text against every cooperative's name with rapidfuzz's
WRatio: fine for 100 cooperatives, 2 s for 100,000, while every other member waits. A
``NameIndex`` keeps an inverted index of the folded syllables of each name. A query gathers
candidates through its rare syllables (a syllable in more than a tenth of the names, like
"hợp", "tác", "xã", only counts when nothing rarer matched), corrects a syllable the index
has never seen to the closest known ones, and scores only the best few hundred candidates with
WRatio. The result agrees with scoring everything (see ``bench/lookup.py``).

Names are folded (no diacritics, lower case), so "bat xat" finds "Bát Xát". The index is pure
data: the caller builds it from the database and keeps it fresh with ``put`` and ``remove``.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

from rapidfuzz import fuzz, process

from knowledge.normalize import fold

K = TypeVar("K", bound=Hashable)

_SYLLABLE = re.compile(r"[0-9a-z]+")
# Words of a cooperative's kind, not of its name: they match every entry.
_KIND_WORDS = re.compile(r"\b(?:hop tac xa|htx|to hop tac|tht|lien hiep|\(demo\))\b")
COMMON_SHARE = 0.1
MAX_SCORED = 300
MAX_GATHERED = 3000


def name_key(text: str) -> str:
    """The folded form of a name used for scoring: no kind words, single spaces."""
    return " ".join(_KIND_WORDS.sub(" ", fold(text)).split())


class NameIndex(Generic[K]):
    """An inverted index of names by folded syllable."""

    def __init__(self, items: Iterable[tuple[K, str]] = ()) -> None:
        self._names: dict[K, str] = {}
        self._postings: dict[str, set[K]] = defaultdict(set)
        self._vocabulary: list[str] | None = None
        for key, name in items:
            self.put(key, name)

    def __len__(self) -> int:
        return len(self._names)

    def put(self, key: K, name: str) -> None:
        """Add ``key`` with ``name``, or rename it."""
        if key in self._names:
            self.remove(key)
        folded = name_key(name)
        self._names[key] = folded
        for syllable in set(_SYLLABLE.findall(folded)):
            if syllable not in self._postings:
                self._vocabulary = None
            self._postings[syllable].add(key)

    def remove(self, key: K) -> None:
        folded = self._names.pop(key, None)
        if folded is None:
            return
        for syllable in set(_SYLLABLE.findall(folded)):
            keys = self._postings.get(syllable)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._postings[syllable]
                    self._vocabulary = None

    def _known(self, syllable: str) -> list[tuple[str, float]]:
        """``syllable`` itself when indexed, else up to three close ones with their weight."""
        if syllable in self._postings:
            return [(syllable, 1.0)]
        if len(syllable) < 3:
            return []
        if self._vocabulary is None:
            self._vocabulary = list(self._postings)
        close = process.extract(
            syllable, self._vocabulary, scorer=fuzz.ratio, limit=3, score_cutoff=75
        )
        return [(word, score / 100) for word, score, _ in close]

    def search(self, text: str, limit: int = 5, cutoff: float = 60) -> list[tuple[K, float]]:
        """Up to ``limit`` keys whose name is close to ``text``, best first, with WRatio scores."""
        query = name_key(text)
        if not query or not self._names:
            return []
        total = len(self._names)
        weighted: list[tuple[set[K], float]] = []
        common: list[set[K]] = []
        for syllable in dict.fromkeys(_SYLLABLE.findall(query)):
            for word, weight in self._known(syllable):
                keys = self._postings[word]
                if len(keys) > COMMON_SHARE * total and total > 20:
                    common.append(keys)
                else:
                    weighted.append((keys, math.log(1 + total / len(keys)) * weight))
        # Rarest first: they pick the candidates; commoner ones only add to candidates' scores.
        weighted.sort(key=lambda kw: len(kw[0]))
        rare: dict[K, float] = {}
        for keys, idf in weighted:
            if len(rare) < MAX_GATHERED:
                for key in keys:
                    rare[key] = rare.get(key, 0.0) + idf
            else:
                for key in rare.keys() & keys:
                    rare[key] += idf
        if rare:
            ranked = heapq.nlargest(MAX_SCORED, rare, key=rare.__getitem__)
        else:  # only common syllables: the names that have all of them
            ranked = list(set.intersection(*common))[:MAX_SCORED] if common else []
        choices = {key: self._names[key] for key in ranked}
        found = process.extract(
            query, choices, scorer=fuzz.WRatio, limit=limit, score_cutoff=cutoff
        )
        return [(key, score) for _, score, key in found]
