"""Question answering over the knowledge base.

Each question variant (and each title) of an entry is a document. A member's question is
normalised (:mod:`knowledge.normalize`), unknown words are corrected to the nearest known word
with rapidfuzz, and every document that shares a word is scored by

* how much of the question it explains (weighted by how rare each word is, with chatty filler
  such as "cho em hỏi" weighing little),
* how much of the document the question covers,
* how many word pairs (syllable bigrams) they share,
* a small penalty when the member typed accents and the accented reading differs.

The best document gives the entry's score; how much of the question the entry's words cover
as a whole adds to it. Below :attr:`SearchIndex.threshold` the question is not answered;
two entries closer than :attr:`SearchIndex.margin` make the answer ambiguous.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from knowledge.base import Entry
from knowledge.normalize import Token, tokenize

# Chatty words that carry little meaning on their own (folded).
FILLER = frozenset(
    """a a1 ah ai oi nhe nha nhi vay the thi la ma va cua cac nhung nay do ay roi luon lam dang
    dinh muon biet em anh chi toi minh ben xin hoi chao cho giup voi ad admin ban b oi da vang
    duoc khong co gi nao sao ve o trong tai tu khi thuc su hien nay hom nay nay vui long
    xin cam on cac ban ho tro giup do""".split()
)
FILLER_WEIGHT = 0.3
ACCENT_PENALTY = 0.15
TYPO_FACTOR = 0.8


def _canon(folded: str) -> str:
    """Numbers lose leading zeros: ``05`` and ``5`` are one word."""
    if folded.isdigit():
        return folded.lstrip("0") or "0"
    return folded


@dataclass
class Hit:
    entry: Entry
    score: float


@dataclass
class SearchResult:
    question: str
    hits: list[Hit] = field(default_factory=list)
    matched: bool = False
    ambiguous: bool = False

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


@dataclass(frozen=True)
class _QueryTerm:
    folded: str
    toned: str | None  # set when the member typed accents in this word
    weight: float


class SearchIndex:
    # Calibrated on tests/data/qa_set.jsonl and checked on ../shared/eval/dev.jsonl
    # (bench/qa_baselines.py prints both).
    threshold = 0.48
    margin = 0.04
    oov_factor = 0.3  # weight of an unknown word, relative to the rarest known word
    filler_weight = FILLER_WEIGHT
    mix = (0.35, 0.45, 0.2)  # question coverage, variant coverage, shared word pairs
    bag_weight = 0.2
    answer_factor = 0.5  # a question word found only in an entry's answer counts this much

    def __init__(self, entries: Sequence[Entry]) -> None:
        self.entries = list(entries)
        self._doc_entry: list[int] = []
        self._doc_weight: list[float] = []
        self._doc_bigram_weight: list[float] = []
        uni_post: dict[str, list[int]] = defaultdict(list)
        toned_post: dict[str, list[int]] = defaultdict(list)
        bi_post: dict[str, list[int]] = defaultdict(list)
        entry_terms: list[dict[str, float]] = []
        docs: list[tuple[set[str], set[str]]] = []
        for ei, entry in enumerate(self.entries):
            terms: dict[str, float] = {}
            for text in (*entry.questions, entry.title):
                toks = tokenize(text)
                folded = [_canon(t.folded) for t in toks]
                uni = set(folded)
                bi = {f"{a} {b}" for a, b in itertools.pairwise(folded)}
                di = len(docs)
                docs.append((uni, bi))
                self._doc_entry.append(ei)
                for u in uni:
                    uni_post[u].append(di)
                for toned in {t.toned for t in toks}:
                    toned_post[toned].append(di)
                for b in bi:
                    bi_post[b].append(di)
                terms.update(dict.fromkeys(uni, 1.0))
            for tag in entry.tags:
                terms.update({_canon(t.folded): 1.0 for t in tokenize(tag)})
            for tok in tokenize(entry.answer):
                terms.setdefault(_canon(tok.folded), self.answer_factor)
            entry_terms.append(terms)
        n = max(len(self.entries), 1)
        df: dict[str, int] = defaultdict(int)
        for terms in entry_terms:
            for t, f in terms.items():
                if f == 1.0:
                    df[t] += 1
        self.idf = {t: math.log((n + 1) / (d + 0.5)) + 0.1 for t, d in df.items()}
        self.oov_idf = math.log((n + 1) / 1.5) * self.oov_factor + 0.1
        self.entry_post: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for ei, terms in enumerate(entry_terms):
            for t, f in terms.items():
                self.entry_post[t].append((ei, f))
        self._uni_post = dict(uni_post)
        self._toned_post = {k: set(v) for k, v in toned_post.items()}
        self._bi_post = dict(bi_post)
        for uni, bi in docs:
            self._doc_weight.append(sum(self.weight(u) for u in uni) or 1.0)
            self._doc_bigram_weight.append(sum(self._bigram_weight(b) for b in bi))
        self.vocabulary = sorted(t for t in df if not t.isdigit() and len(t) >= 2)
        self._entry_index = {e.id: i for i, e in enumerate(self.entries)}

    # -- weights -----------------------------------------------------------------------------
    def weight(self, folded: str) -> float:
        idf = self.idf.get(folded, self.oov_idf)
        return idf * (self.filler_weight if folded in FILLER else 1.0)

    def _bigram_weight(self, bigram: str) -> float:
        a, _, b = bigram.partition(" ")
        return (self.weight(a) + self.weight(b)) / 2

    # -- query -------------------------------------------------------------------------------
    def _correct(self, folded: str) -> str | None:
        """The known word nearest to an unknown ``folded`` word, if one is close enough."""
        if len(folded) < 3 or folded.isdigit():
            return None
        max_dist = 1 if len(folded) <= 5 else 2
        found = process.extractOne(
            folded, self.vocabulary, scorer=Levenshtein.distance, score_cutoff=max_dist
        )
        return found[0] if found else None

    def query_terms(self, tokens: Sequence[Token]) -> tuple[list[_QueryTerm], list[str]]:
        terms: dict[str, _QueryTerm] = {}
        sequence: list[str] = []
        for tok in tokens:
            folded = _canon(tok.folded)
            factor = 1.0
            toned: str | None = tok.toned if tok.typed_toned else None
            if folded not in self.idf:
                fixed = self._correct(folded)
                if fixed is not None:
                    folded, factor, toned = fixed, TYPO_FACTOR, None
            sequence.append(folded)
            if folded not in terms:
                terms[folded] = _QueryTerm(folded, toned, self.weight(folded) * factor)
        return list(terms.values()), sequence

    def search(self, question: str, limit: int = 5) -> SearchResult:
        result = SearchResult(question)
        tokens = tokenize(question)
        if not tokens or not self.entries:
            return result
        terms, sequence = self.query_terms(tokens)
        q_weight = sum(t.weight for t in terms) or 1.0
        bigrams = {f"{a} {b}" for a, b in itertools.pairwise(sequence)}
        qb_weight = sum(self._bigram_weight(b) for b in bigrams)

        matched: dict[int, float] = defaultdict(float)
        for term in terms:
            posting = self._uni_post.get(term.folded)
            if not posting:
                continue
            w = term.weight
            toned_docs = self._toned_post.get(term.toned, ()) if term.toned else None
            for di in posting:
                if toned_docs is not None and di not in toned_docs:
                    matched[di] += w * (1 - ACCENT_PENALTY)
                else:
                    matched[di] += w
        if not matched:
            return result
        bi_matched: dict[int, float] = defaultdict(float)
        for b in bigrams:
            posting = self._bi_post.get(b)
            if posting:
                w = self._bigram_weight(b)
                for di in posting:
                    bi_matched[di] += w

        best: dict[int, float] = {}
        w_rq, w_rv, w_bq = self.mix
        for di, m in matched.items():
            rq = m / q_weight
            rv = min(m / self._doc_weight[di], 1.0)
            bq = bi_matched.get(di, 0.0) / qb_weight if qb_weight else rq
            score = w_rq * rq + w_rv * rv + w_bq * bq
            ei = self._doc_entry[di]
            if score > best.get(ei, 0.0):
                best[ei] = score
        # How much of the question the entry's words cover as a whole.
        bw_keep = 1.0 - self.bag_weight
        bag: dict[int, float] = defaultdict(float)
        for term in terms:
            for ei, f in self.entry_post.get(term.folded, ()):
                if ei in best:
                    bag[ei] += term.weight * f
        scored = sorted(
            ((bw_keep * s + self.bag_weight * bag[ei] / q_weight, ei) for ei, s in best.items()),
            reverse=True,
        )[:limit]
        result.hits = [Hit(self.entries[ei], round(s, 4)) for s, ei in scored]
        top = result.hits[0]
        result.matched = top.score >= self.threshold and top.entry.scope == "in"
        if result.matched and len(result.hits) > 1:
            second = result.hits[1]
            result.ambiguous = second.entry.scope == "in" and top.score - second.score < self.margin
        return result
