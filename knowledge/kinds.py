"""Kinds of organisation: a question about one is not answered by an entry about another.

"hợp tác xã" and "tổ hợp tác" differ by one low-weight word, but they are different things;
a household business or a company is not a cooperative at all. :func:`kinds_of` reads the
kinds a text names; :class:`KindTable` gives, for a question's kinds, what each entry of an
index loses (:mod:`knowledge.search` subtracts it from the entry's score).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Kinds of organisation a question may name (folded syllables, longest first). A question
# that names one kind and not another should not get an entry about the other kind: "hợp
# tác xã" and "tổ hợp tác" differ by one low-weight word, but they are different things.
KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("lhhtx", ("lien", "hiep", "hop", "tac", "xa")),
    ("tht", ("to", "hop", "tac")),
    ("htx", ("hop", "tac", "xa")),
    ("dn", ("doanh", "nghiep")),
    ("dn", ("cong", "ti")),  # "công ty": y is folded to i
    ("hkd", ("ho", "kinh", "doanh")),  # a household business is not a cooperative
    ("hkd", ("ho", "ca", "the")),
    ("hkd", ("ho", "kd")),
)
KIND_PENALTY = 0.2
# A question naming a federation of cooperatives (and a cooperative, its member): entries
# about a single cooperative lose this much.
FEDERATION_PENALTY = 0.1
# A question naming a group, a federation or a household business: an entry about no kind
# in particular (general meetings, funds) that never names the asked kind loses this much.
# Such entries speak of cooperatives; a group's or a federation's rules are their own.
UNNAMED_KIND_PENALTY = 0.1
SPECIFIC_KINDS = ("lhhtx", "tht", "hkd")
# Kinds outside the cooperative family (companies, household businesses): a question that
# names one of them and no cooperative kind is about that organisation, and entries about
# cooperatives lose this much instead (their rules do not apply to it).
OUTSIDE_KINDS = frozenset({"dn", "hkd"})
OUTSIDE_KIND_PENALTY = 0.35
KIND_SHARE = 0.5  # an entry is about a kind when this share of its wordings names it
KIND_ORDER = ("lhhtx", "tht", "htx", "hkd", "dn")  # most specific first


def kinds_of(folded: Sequence[str]) -> set[str]:
    """The kinds of organisation named in a folded syllable sequence."""
    found: set[str] = set()
    i = 0
    while i < len(folded):
        for kind, words in KINDS:
            if tuple(folded[i : i + len(words)]) == words:
                found.add(kind)
                i += len(words)
                break
        else:
            i += 1
    return found


def main_kind(counts: dict[str, int], n_texts: int) -> str | None:
    """The kind of organisation an entry is about: the most specific kind that at least
    half of its wordings name (a federation before a group before a cooperative; a company
    last, as entries about companies joining a cooperative are about the cooperative)."""
    for kind in KIND_ORDER:
        if counts.get(kind, 0) >= KIND_SHARE * n_texts:
            return kind
    return None


class KindTable:
    """What each entry of an index loses for a question naming some kinds of organisation.

    ``kinds``: each entry's main kind (:func:`main_kind`); ``named``: the kinds any of its
    wordings name."""

    def __init__(self, kinds: Sequence[str | None], named: Sequence[set[str]]) -> None:
        self._n = len(kinds)
        self._has = {k: np.asarray([e == k for e in kinds], dtype=bool) for k in KIND_ORDER}
        self._any = np.asarray([e is not None for e in kinds], dtype=bool)
        self._names = {k: np.asarray([k in n for n in named], dtype=bool) for k in SPECIFIC_KINDS}

    def penalties(self, asked: set[str]) -> np.ndarray:
        total = np.zeros(self._n)
        if not asked:
            return total
        fits = np.zeros(self._n, dtype=bool)
        for kind in asked & self._has.keys():
            fits |= self._has[kind]
        cost = OUTSIDE_KIND_PENALTY if asked <= OUTSIDE_KINDS else KIND_PENALTY
        total += np.where(self._any & ~fits, cost, 0.0)
        specific = [k for k in SPECIFIC_KINDS if k in asked]
        if specific:
            names = np.zeros(self._n, dtype=bool)
            for kind in specific:
                names |= self._names[kind]
            total += np.where(~self._any & ~names, UNNAMED_KIND_PENALTY, 0.0)
        if "lhhtx" in asked:
            # "HTX ra khỏi liên hiệp HTX": the cooperative named is the federation's member;
            # the question is about the federation.
            total += np.where(self._has["htx"], FEDERATION_PENALTY, 0.0)
        return total
