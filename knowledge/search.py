"""Question answering over the knowledge base.

Each question variant (and each title) of an entry is a document. A member's question is
normalised (:mod:`knowledge.normalize`), unknown syllables are corrected to the nearest known
one with rapidfuzz, and every document that shares a word is scored by

* how much of the question it explains (weighted by how rare each word is, with chatty filler
  such as "cho em hỏi" weighing little),
* how much of the document the question covers,
* how many word pairs they share,
* a small penalty when the member typed accents and the accented reading differs.

The best document gives the entry's score; how much of the question the entry as a whole
covers (its questions, title and tags, and, at half weight, its answer) adds to it. Then the
answers to *other* questions lose: an entry about another kind of organisation than the
question names (:mod:`knowledge.kinds`), about an opposite or sibling act
(:mod:`knowledge.contrasts`), or about Lào Cai when the question names another province
(:data:`PLACE_PENALTY`). Typed accents are evidence: where the member's accented word is a
word of the base, the same letters with other accents are another word
(:data:`OTHER_WORD_FACTOR`). Below :attr:`SearchIndex.threshold` the question is not
answered; two entries closer than :attr:`SearchIndex.margin` make it ambiguous when the
runner-up explains a part of the question the best does not.

Postings are numpy arrays, so a question costs a few vector operations over the documents
that share its words, not a Python loop over them.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from knowledge import contrasts
from knowledge.entries import Entry
from knowledge.kinds import KindTable, kinds_of, main_kind
from knowledge.normalize import Token, tokenize
from knowledge.places import HOME_PROVINCE, provinces_named

# Chatty words that carry little meaning on their own (folded).
FILLER = frozenset(
    """a a1 ah ai oi nhe nha nhi vay the thi la ma va cua cac nhung nay do ay roi luon lam dang
    dinh muon biet em anh chi toi minh ben xin hoi chao cho giup voi ad admin ban b da vang
    duoc khong co gi nao sao ve o trong tai tu khi thuc su hien hom vui long cam on ho tro
    do""".split()
)
ENGLISH_FILLER = frozenset(
    """a an the is are am be do does did i we you my our your it its of to in on at for with
    and or can could should would will how what which who when where why there this that me
    please hello hi tell about any get have has want need us they their some""".split()
)
ACCENT_PENALTY = 0.15
# The member typed accents that make another word of the base ("thuê" where the base has
# "thuế" in one entry and "thuê" in another): the match counts only this much.
OTHER_WORD_FACTOR = 0.3
# A question that names another province than Lào Cai: entries about Lào Cai lose this much.
PLACE_PENALTY = 0.5
# … and every other entry this much: national rules still apply there, but the member is
# asking about another province, where the alliance of that province is the one to ask.
ELSEWHERE_PENALTY = 0.15

SHORT_QUESTION = 2  # words; a question this short is ambiguous when two entries are close

TYPO_FACTOR = 0.8

# English wordings: the Vietnamese names members type among English words ("HTX" is
# expanded to "hợp tác xã" by the normaliser) and the short forms, read as the English word.
EN_ALIASES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("lien", "hiep", "hop", "tac", "xa"), "union"),
    (("to", "hop", "tac"), "group"),
    (("hop", "tac", "xa"), "cooperative"),
    (("co", "op"), "cooperative"),
    (("coop",), "cooperative"),
    (("coops",), "cooperative"),
)


def english_terms(seq: Sequence[Term]) -> list[Term]:
    """English search terms: aliases read as the English word, plurals as the singular
    ("members" is "member"; words of three letters or fewer, "-ss" and filler are kept)."""
    out: list[Term] = []
    i = 0
    while i < len(seq):
        for words, word in EN_ALIASES:
            if tuple(t.folded for t in seq[i : i + len(words)]) == words:
                out.append(Term(word, None, min(t.factor for t in seq[i : i + len(words)])))
                i += len(words)
                break
        else:
            t = seq[i]
            w = t.folded
            if len(w) > 3 and w.endswith("s") and not w.endswith("ss") and w not in ENGLISH_FILLER:
                w = w[:-3] + "y" if w.endswith("ies") else w[:-1]
                t = Term(w, None, t.factor)
            out.append(t)
            i += 1
    return out


def _canon(folded: str) -> str:
    """Numbers lose leading zeros: ``05`` and ``5`` are one word."""
    if folded.isdigit():
        return folded.lstrip("0") or "0"
    return folded


@dataclass(frozen=True)
class Term:
    folded: str
    toned: str | None  # the accented reading; for a question, only where accents were typed
    factor: float = 1.0  # below 1 when the word was a corrected typo


def terms_of(
    tokens: Sequence[Token], correct: Callable[[str], str | None] | None = None
) -> list[Term]:
    """Tokens → search terms, with typos corrected when ``correct`` is given (questions)."""
    seq: list[Term] = []
    for tok in tokens:
        folded = _canon(tok.folded)
        if correct is None:
            seq.append(Term(folded, tok.toned))
            continue
        fixed = correct(folded)
        if fixed is not None:
            seq.append(Term(fixed, None, TYPO_FACTOR))
        else:
            seq.append(Term(folded, tok.toned if tok.typed_toned else None))
    return seq


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


def _subsequence(short: str, long: str) -> bool:
    """Whether ``long`` is ``short`` with letters added."""
    letters = iter(long)
    return all(ch in letters for ch in short)


def _member(scratch: np.ndarray, items: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Which ``items`` are in ``members`` (ids below ``len(scratch)``); ``scratch`` is an
    all-False array, left all-False again. Faster than ``np.isin`` on short postings."""
    scratch[members] = True
    found = scratch[items]
    scratch[members] = False
    return found


def _arrays(postings: dict[str, list[int]]) -> dict[str, np.ndarray]:
    return {k: np.asarray(v, dtype=np.int32) for k, v in postings.items()}


class SearchIndex:
    # Calibrated on tests/data/qa_set.jsonl and checked on ../shared/eval/dev.jsonl
    # (bench/qa_baselines.py prints both).
    threshold = 0.46
    margin = 0.04
    # English entries have a few wordings each: two close English entries are two questions,
    # and the member is asked which one they meant.
    en_margin = 0.07
    oov_factor = 0.3  # weight of an unknown word, relative to the rarest known word
    filler_weight = 0.3
    mix = (0.35, 0.45, 0.2)  # question coverage, document coverage, shared word pairs
    bag_weight = 0.2
    second_weight = 0.15  # the second-best variant of an entry: support from another wording
    answer_factor = 0.5  # a question word found only in an entry's answer counts this much

    def __init__(self, entries: Sequence[Entry], language: str = "vi") -> None:
        """``language="en"`` indexes the English wordings (entries without one are left out);
        the Vietnamese checks (kinds of organisation, contrasting acts, provinces) are off."""
        self.entries = list(entries)
        self.language = language
        english = language == "en"
        self._filler = ENGLISH_FILLER if english else FILLER
        uni: dict[str, list[int]] = defaultdict(list)
        toned: dict[str, list[int]] = defaultdict(list)
        bi: dict[str, list[int]] = defaultdict(list)
        doc_entry: list[int] = []
        doc_terms: list[tuple[set[str], set[str]]] = []
        entry_terms: list[dict[str, float]] = []
        syllables: set[str] = set()
        self._entry_kind: list[str | None] = []
        named_kinds: list[set[str]] = []
        contrast_terms: list[dict[tuple[int, int], float]] = []
        entry_toned: dict[str, list[int]] = defaultdict(list)  # accented word → entries
        local: list[bool] = []
        for ei, entry in enumerate(self.entries):
            terms: dict[str, float] = {}
            kind_count: dict[str, int] = defaultdict(int)
            wordings: list[list[str]] = []
            toned_words: set[str] = set()
            questions = entry.en["questions"] if english else entry.questions
            title = entry.en["title"] if english else entry.title
            for text in (*questions, title):
                toks = tokenize(text)
                syllables.update(_canon(t.folded) for t in toks)
                seq = self._terms(toks)
                folded = [t.folded for t in seq]
                wordings.append(folded)
                toned_words.update(t.toned for t in seq if t.toned)
                for kind in kinds_of(folded):
                    kind_count[kind] += 1
                u, b = set(folded), {f"{x} {y}" for x, y in itertools.pairwise(folded)}
                di = len(doc_entry)
                doc_entry.append(ei)
                doc_terms.append((u, b))
                for w in u:
                    uni[w].append(di)
                for w in {t.toned for t in seq if t.toned}:
                    toned[w].append(di)
                for w in b:
                    bi[w].append(di)
                terms.update(dict.fromkeys(u, 1.0))
            self._entry_kind.append(main_kind(kind_count, len(questions) + 1))
            named_kinds.append(set(kind_count))
            for tag in () if english else entry.tags:
                seq = terms_of(tokenize(tag))
                wordings.append([t.folded for t in seq])
                toned_words.update(t.toned for t in seq if t.toned)
                terms.update(dict.fromkeys((t.folded for t in seq), 1.0))
            answer = self._terms(tokenize(entry.en["answer"] if english else entry.answer))
            for t in answer:
                terms.setdefault(t.folded, self.answer_factor)
            entry_terms.append(terms)
            contrast_terms.append(contrasts.entry_terms(wordings, wordings[len(questions)]))
            for w in toned_words | {t.toned for t in answer if t.toned}:
                entry_toned[w].append(ei)
            local.append(
                any(HOME_PROVINCE in " ".join(w) for w in wordings)
                or HOME_PROVINCE in " ".join(t.folded for t in answer)
            )
        self._local = np.asarray(local, dtype=bool)
        # Out-of-scope entries refuse: a contrast never holds them back from doing so.
        self._in_scope = np.asarray([e.scope == "in" for e in self.entries], dtype=bool)
        self._entry_toned_post = _arrays(entry_toned)
        self._contrast_table = contrasts.Table(contrast_terms)
        self._doc_mask = np.zeros(len(doc_entry), dtype=bool)
        self._entry_mask = np.zeros(len(self.entries), dtype=bool)
        self._kind_table = KindTable(self._entry_kind, named_kinds)
        # Words named in an entry's own wordings (not only its answer): who explains what.
        self._entry_words = [{t for t, f in terms.items() if f == 1.0} for terms in entry_terms]

        n = max(len(self.entries), 1)
        df: dict[str, int] = defaultdict(int)
        for terms in entry_terms:
            for t, f in terms.items():
                if f == 1.0:
                    df[t] += 1
        self.idf = {t: math.log((n + 1) / (d + 0.5)) + 0.1 for t, d in df.items()}
        self.oov_idf = math.log((n + 1) / 1.5) * self.oov_factor + 0.1

        bag: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
        for ei, terms in enumerate(entry_terms):
            for t, f in terms.items():
                bag[t][0].append(ei)
                bag[t][1].append(f)
        self._bag = {
            t: (np.asarray(e, dtype=np.int32), np.asarray(f, dtype=np.float64))
            for t, (e, f) in bag.items()
        }
        self._uni = _arrays(uni)
        self._toned = _arrays(toned)
        self._known_toned = frozenset(toned)
        self._bi = _arrays(bi)
        self._doc_entry = np.asarray(doc_entry, dtype=np.int32)
        self._doc_weight = np.asarray(
            [sum(self.weight(w) for w in u) or 1.0 for u, _ in doc_terms], dtype=np.float64
        )
        self._syllables = syllables
        self._frequency = {w: len(p) for w, p in uni.items()}
        self.vocabulary = sorted(s for s in syllables if not s.isdigit() and len(s) >= 2)

    def _terms(
        self, tokens: Sequence[Token], correct: Callable[[str], str | None] | None = None
    ) -> list[Term]:
        seq = terms_of(tokens, correct)
        return english_terms(seq) if self.language == "en" else seq

    def knows(self, folded: str) -> bool:
        """Whether ``folded`` is a word of the indexed wordings."""
        return folded in self._syllables

    # -- weights -----------------------------------------------------------------------------
    def weight(self, folded: str) -> float:
        idf = self.idf.get(folded, self.oov_idf)
        return idf * (self.filler_weight if folded in self._filler else 1.0)

    def _bigram_weight(self, bigram: str) -> float:
        a, _, b = bigram.partition(" ")
        return (self.weight(a) + self.weight(b)) / 2

    def _correct(self, folded: str) -> str | None:
        """The known syllable nearest to an unknown ``folded`` one, if one is close enough.

        Among equally near syllables, one the member's letters are all part of wins (phone
        typing mostly drops letters: "thog" → "thong", not "tho"), then the more common one.
        """
        if folded in self._syllables or len(folded) < 3 or folded.isdigit():
            return None
        max_dist = 1 if len(folded) <= 5 else 2
        found = process.extract(
            folded, self.vocabulary, scorer=Levenshtein.distance, score_cutoff=max_dist, limit=None
        )
        if not found:
            return None
        best = min(
            found,
            key=lambda f: (f[1], not _subsequence(folded, f[0]), -self._frequency.get(f[0], 0)),
        )
        return best[0]

    # -- search ------------------------------------------------------------------------------
    def search(self, question: str, limit: int = 5) -> SearchResult:
        result = SearchResult(question)
        seq = self._terms(tokenize(question), self._correct)
        if not seq or not self.entries:
            return result
        terms: dict[str, Term] = {}
        for t in seq:
            terms.setdefault(t.folded, t)
        weights = {w: self.weight(w) * t.factor for w, t in terms.items()}
        q_weight = sum(weights.values()) or 1.0

        idx_parts, w_parts = [], []
        for w, t in terms.items():
            post = self._uni.get(w)
            if post is None:
                continue
            wt = weights[w]
            values = np.full(len(post), wt)
            if t.toned is not None and t.toned != w:
                same = self._toned.get(t.toned)
                if same is None:
                    values *= 1 - ACCENT_PENALTY
                else:
                    # The typed word is a word of the base: where the base has the same
                    # letters with other accents, it is another word; where it was written
                    # without accents, we cannot tell.
                    other = ~_member(self._doc_mask, post, same)
                    plain = self._toned.get(w)
                    if plain is not None:
                        unsure = other & _member(self._doc_mask, post, plain)
                        values[unsure] *= 1 - ACCENT_PENALTY
                        other &= ~unsure
                    values[other] *= OTHER_WORD_FACTOR
            idx_parts.append(post)
            w_parts.append(values)
        if not idx_parts:
            return result
        n_docs = len(self._doc_entry)
        matched_all = np.bincount(
            np.concatenate(idx_parts), weights=np.concatenate(w_parts), minlength=n_docs
        )
        docs = np.flatnonzero(matched_all)
        matched = matched_all[docs]

        bigrams = {f"{a} {b}" for a, b in itertools.pairwise(t.folded for t in seq)}
        qb_weight = sum(self._bigram_weight(b) for b in bigrams)
        pairs = np.zeros(len(docs))
        for b in bigrams:
            post = self._bi.get(b)
            if post is not None:
                pairs[np.searchsorted(docs, post)] += self._bigram_weight(b)

        w_rq, w_rv, w_bq = self.mix
        rq = matched / q_weight
        rv = np.minimum(matched / self._doc_weight[docs], 1.0)
        bq = pairs / qb_weight if qb_weight else rq
        score = w_rq * rq + w_rv * rv + w_bq * bq

        # The best document of each entry: an entry's documents are numbered consecutively,
        # so the candidates come grouped by entry.
        ents = self._doc_entry[docs]
        starts = np.flatnonzero(np.r_[True, ents[1:] != ents[:-1]])
        cand = ents[starts]
        best = np.maximum.reduceat(score, starts)
        if self.second_weight:
            # The entry's second-best wording also counts: support from another paraphrase.
            segment = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(ents)]))
            others = np.where(score < best[segment], score, 0.0)
            second = np.maximum.reduceat(others, starts)
            best = (1 - self.second_weight) * best + self.second_weight * second

        # How much of the question each candidate entry covers as a whole.
        e_parts, b_parts = [], []
        for w, t in terms.items():
            found = self._bag.get(w)
            if found is not None:
                e_parts.append(found[0])
                values = found[1] * weights[w]
                if t.toned is not None and t.toned != w and t.toned in self._known_toned:
                    other = self._other_word(found[0], w, t.toned)
                    values = np.where(other, values * OTHER_WORD_FACTOR, values)
                b_parts.append(values)
        bag = np.bincount(
            np.concatenate(e_parts), weights=np.concatenate(b_parts), minlength=len(self.entries)
        )[cand]

        final = (1 - self.bag_weight) * best + self.bag_weight * bag / q_weight
        folded_q = [t.folded for t in seq] if self.language == "vi" else []
        asked = kinds_of(folded_q)
        if asked:
            final = final - self._kind_table.penalties(asked)[cand]
        named = contrasts.terms_named(folded_q)
        if named:
            final = final - np.where(
                self._in_scope[cand], self._contrast_table.penalties(named)[cand], 0.0
            )
        places = provinces_named(folded_q, [t.toned for t in seq])
        if places and HOME_PROVINCE not in places:
            final = final - np.where(self._local[cand], PLACE_PENALTY, ELSEWHERE_PENALTY)
        k = min(limit, len(final))
        top = np.argpartition(-final, k - 1)[:k]
        top = top[np.argsort(-final[top], kind="stable")]
        result.hits = [Hit(self.entries[int(cand[i])], round(float(final[i]), 4)) for i in top]
        first_hit = result.hits[0]
        english = self.language == "en"
        result.matched = first_hit.score >= self.threshold and first_hit.entry.scope == "in"
        if result.matched and len(result.hits) > 1:
            second = result.hits[1]
            result.ambiguous = (
                second.entry.scope == "in"
                and first_hit.score - second.score < (self.en_margin if english else self.margin)
                and (
                    english
                    or self._about_something_else(int(cand[top[0]]), int(cand[top[1]]), terms)
                )
            )
        return result

    def _other_word(self, entries: np.ndarray, folded: str, toned: str) -> np.ndarray:
        """Which of ``entries`` have ``folded`` only as another word than the typed ``toned``
        (not with these accents, nor written without accents)."""
        other = np.ones(len(entries), dtype=bool)
        for form in (toned, folded):
            post = self._entry_toned_post.get(form)
            if post is not None:
                other &= ~_member(self._entry_mask, entries, post)
        return other

    def _about_something_else(self, best: int, second: int, terms: dict[str, Term]) -> bool:
        """Whether the runner-up explains a part of the question the best entry does not.

        When every question word the runner-up names is named by the best entry too, the
        runner-up is a weaker reading of the same question, not another question: no need to
        ask the member which one they meant. A question of one or two words ("đăng ký")
        says too little to tell: two close entries are two questions.
        """
        if len(terms) <= SHORT_QUESTION:
            return True
        mine, theirs = self._entry_words[best], self._entry_words[second]
        return any(w in theirs and w not in mine and w not in self._filler for w in terms)
