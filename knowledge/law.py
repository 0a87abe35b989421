"""The cooperative law and its decrees and circulars, article by article.

The text is ``knowledge/law/articles.json.gz``, made by ``scripts/build_law.py`` from the
consolidated text (Pháp điển, topic 12.4). It is loaded once, on first use. This module finds an
article by (document, number), reads references typed by members ("điều 90 luật htx",
"k2 d90", "điều 12 nghị định 92"), finds articles by words, and cuts an article into parts
that fit a message, at clause boundaries. It holds no wording: handlers say things.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from knowledge.law_search import WordIndex

DATA = Path(__file__).resolve().parent / "law" / "articles.json.gz"
LAW = "17/2023/QH15"  # the document a reference means when it names none
# Articles are offered as related to a question only above this score: on the project's own
# questions, about two in three of those offered are cited by the expected answer, and
# out-of-scope questions rarely reach it (bench/law.py).
RELATED_MIN_SCORE = 0.3
KIND_NAMES = {
    "luat": "Luật",
    "nghidinh": "Nghị định",
    "thongtu": "Thông tư",
    "quyetdinh": "Quyết định",
}
KIND_SHORT = {"luat": "Luật HTX", "nghidinh": "NĐ", "thongtu": "TT", "quyetdinh": "QĐ"}


@dataclass(frozen=True)
class Clause:
    n: str
    paras: tuple[str, ...]
    points: tuple[tuple[str, int], ...]  # (letter, index of its first paragraph in paras)

    def point_paras(self, letter: str) -> tuple[str, ...] | None:
        """The lead paragraph of the clause and the paragraphs of point ``letter``."""
        for i, (p, start) in enumerate(self.points):
            if p == letter:
                end = self.points[i + 1][1] if i + 1 < len(self.points) else len(self.paras)
                return (self.paras[0], *self.paras[start:end])
        return None


@dataclass(frozen=True)
class Article:
    key: str  # ASCII Pháp điển key: "LQ.90", "ND.3.12"
    pd: str  # Pháp điển number: "12.4.LQ.90"
    doc: str  # "17/2023/QH15", "92/2024/NĐ-CP"
    num: int  # the article's number in its document
    title: str
    chapter: str  # the Pháp điển chapter, "I" … "XII"
    section: str
    in_force: str  # ISO date
    amended: str
    intro: tuple[str, ...]
    clauses: tuple[Clause, ...]

    @property
    def doc_key(self) -> str:
        return self.key.rsplit(".", 1)[0]

    def paragraphs(self) -> list[str]:
        return [*self.intro, *(p for c in self.clauses for p in c.paras)]

    def text(self) -> str:
        return "\n".join(self.paragraphs())

    def clause(self, n: int) -> Clause | None:
        return self.clauses[n - 1] if 1 <= n <= len(self.clauses) else None


@dataclass(frozen=True)
class Document:
    code: str  # "92/2024/NĐ-CP"
    kind: str  # luat, nghidinh, thongtu, quyetdinh
    title: str

    @property
    def name(self) -> str:
        """``Luật Hợp tác xã số 17/2023/QH15``, ``Nghị định số 92/2024/NĐ-CP``."""
        if self.kind == "luat":
            return f"Luật Hợp tác xã số {self.code}"
        return f"{KIND_NAMES[self.kind]} số {self.code}"

    @property
    def short(self) -> str:
        """``Luật HTX``, ``NĐ 92/2024``: for buttons."""
        if self.kind == "luat":
            return KIND_SHORT["luat"]
        return f"{KIND_SHORT[self.kind]} {self.code.rsplit('/', 1)[0]}"


@dataclass(frozen=True)
class Reference:
    """What a member asked to open; ``doc`` is None when the document typed is unknown."""

    doc: str | None
    num: int
    clause: int | None = None
    point: str | None = None
    doc_typed: str = ""  # the document as typed, to name it when it is unknown


@dataclass
class LawText:
    source: str
    documents: dict[str, Document]
    chapters: dict[str, str]
    articles: list[Article]
    by_key: dict[str, Article] = field(default_factory=dict)
    by_ref: dict[tuple[str, int], Article] = field(default_factory=dict)
    _index: WordIndex | None = None

    def __post_init__(self) -> None:
        self.by_key = {a.key: a for a in self.articles}
        self.by_ref = {(a.doc, a.num): a for a in self.articles}

    def get(self, doc: str, num: int) -> Article | None:
        return self.by_ref.get((doc, num))

    def document_of(self, article: Article) -> Document:
        return self.documents[article.doc]

    def in_document(self, doc: str) -> list[Article]:
        return sorted((a for a in self.articles if a.doc == doc), key=lambda a: a.num)

    def neighbours(self, article: Article) -> tuple[Article | None, Article | None]:
        """The previous and next article of the same document."""
        return self.get(article.doc, article.num - 1), self.get(article.doc, article.num + 1)

    def chapter_articles(self, chapter: str, doc: str) -> list[Article]:
        return [a for a in self.in_document(doc) if a.chapter == chapter]

    def closest(self, doc: str, num: int, n: int = 3) -> list[Article]:
        """The articles of ``doc`` whose numbers are nearest to ``num``."""
        return sorted(self.in_document(doc), key=lambda a: (abs(a.num - num), a.num))[:n]

    def resolve_doc(self, kind: str, number: str, year: str | None) -> str | None:
        """``("nghidinh", "92", None)`` → ``"92/2024/NĐ-CP"``; newest when the year is left out."""
        found = [
            d
            for d in self.documents.values()
            if d.kind == kind
            and int(d.code.split("/")[0]) == int(number)
            and (year is None or d.code.split("/")[1] == year)
        ]
        found.sort(key=lambda d: d.code.split("/")[1], reverse=True)
        return found[0].code if found else None

    @property
    def index(self) -> WordIndex:
        if self._index is None:
            self._index = WordIndex(
                [(a.title, a.text(), 1.15 if a.doc == LAW else 1.0) for a in self.articles]
            )
        return self._index

    def find(self, words: str, limit: int = 5, min_score: float = 0.0) -> list[Article]:
        """Articles matching ``words`` best (title counts most), best first."""
        return [self.articles[i] for i, _ in self.index.search(words, limit, min_score)]

    def related(self, question: str, limit: int = 3) -> list[Article]:
        """Articles that may be related to ``question`` (possibly none): to read, not an answer."""
        return self.find(question, limit, RELATED_MIN_SCORE)


def _load(path: Path) -> LawText:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        raw = json.load(fh)
    documents = {
        code: Document(code, d["kind"], d["title"]) for code, d in raw["documents"].items()
    }
    articles = [
        Article(
            key=a["pd"].removeprefix("12.4.").replace("NĐ", "ND").replace("QĐ", "QD"),
            pd=a["pd"],
            doc=a["doc"],
            num=a["num"],
            title=a["title"],
            chapter=a["chapter"],
            section=a["section"],
            in_force=a["in_force"],
            amended=a["amended"],
            intro=tuple(a["intro"]),
            clauses=tuple(
                Clause(c["n"], tuple(c["paras"]), tuple((p, i) for p, i in c["points"]))
                for c in a["clauses"]
            ),
        )
        for a in raw["articles"]
    ]
    chapters = {c["n"]: c["title"] for c in raw["chapters"]}
    return LawText(raw["source"], documents, chapters, articles)


@cache
def law_text(path: Path = DATA) -> LawText:
    """The law, loaded on first use and kept."""
    return _load(path)


# --- references typed by members -----------------------------------------------------------


def light(text: str) -> str:
    """Lower case without tone or vowel marks, but keeping đ (``Điểm đ`` → ``điem đ``)."""
    text = unicodedata.normalize("NFD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(unicodedata.normalize("NFC", text).split())


_ART = r"(?:[dđ]ieu|[dđ])\s?\.?\s?(?P<art>\d{1,3})(?![\d/])"
_CL = r"(?:khoan|k)\s?\.?\s?(?P<cl>\d{1,2})(?!\d)"
_PT = r"(?:[dđ]iem\s?(?P<pt>[a-zđ])|(?P<pt2>[a-zđ])\))"
_LAW = (
    r"(?P<law>(?:lu[aâ]t|law)(?:\s+(?:htx|hop tac xa))?(?:\s+(?:so\s+)?17/2023(?:/qh15)?)?"
    r"(?:\s+(?:nam\s+)?2023)?)"
)
_OTHER = (
    r"(?P<kind>nghi [dđ]inh|n[dđ](?:-cp)?|thong tu|tt|quyet [dđ]inh|q[dđ])\s?(?:so\s?)?"
    r"(?P<dnum>\d{1,3})(?:\s?/\s?(?P<dyear>\d{4}))?(?:/[a-zđ\-]+)?(?![\d])"
)
_DOC = rf"(?:{_LAW}|{_OTHER})"
_SEP = r"\s*(?:,|cua|thuoc|trong)?\s*"
REF_AFTER = re.compile(
    rf"(?<![a-z0-9])(?:{_PT}{_SEP})?(?:{_CL}{_SEP})?{_ART}(?:{_SEP}{_DOC})?(?![a-z0-9])"
)
REF_BEFORE = re.compile(
    rf"(?<![a-z0-9]){_DOC}{_SEP}(?:{_PT}{_SEP})?(?:{_CL}{_SEP})?{_ART}(?![a-z0-9])"
)
_KINDS = {
    "nghi": "nghidinh",
    "nd": "nghidinh",
    "nđ": "nghidinh",
    "thong": "thongtu",
    "tt": "thongtu",
    "quyet": "quyetdinh",
    "qd": "quyetdinh",
    "qđ": "quyetdinh",
}
# Words around a reference that do not make it a question of its own: "điều 90 nói gì?".
_FILLER = set(
    "noi gi ve quy dinh the nao la sao xem doc cho toi minh em anh chi hoi oi a a. nhe "
    "voi noi dung toan van mo tra cuu ghi nhu nao ntn".split()
)


def _ref_from(m: re.Match[str], text: LawText) -> Reference:
    g = m.groupdict()
    point = g.get("pt") or g.get("pt2")
    clause = int(g["cl"]) if g.get("cl") else None
    doc: str | None = LAW
    typed = ""
    if g.get("kind"):
        kind = _KINDS[g["kind"].split()[0].split("-")[0]]
        doc = text.resolve_doc(kind, g["dnum"], g.get("dyear"))
        typed = f"{KIND_NAMES[kind]} {g['dnum']}" + (f"/{g['dyear']}" if g.get("dyear") else "")
    return Reference(doc, int(g["art"]), clause, point, typed)


def parse_reference(
    typed: str, text: LawText | None = None, whole: bool = False
) -> Reference | None:
    """The article ``typed`` points at, or None.

    With ``whole``, the reference must be (nearly) the whole message: "điều 90", "k2 d90",
    "khoản 2 điều 90 luật htx nói gì?". Otherwise it must name its document ("điều 33 luật
    htx") so that a question merely mentioning "điều 18" still goes to the knowledge base.
    """
    text = text or law_text()
    s = light(typed).strip(" ?.!")
    if not s:
        return None
    for pattern in (REF_BEFORE, REF_AFTER):
        m = pattern.search(s)
        if m is None:
            continue
        named = bool(m.group("law") or m.group("kind"))
        rest = (s[: m.start()] + " " + s[m.end() :]).replace("đ", "d").replace("?", " ").split()
        extra = [w for w in rest if w.strip(",.:;!") not in _FILLER]
        if (whole and len(extra) <= 1) or (named and len(extra) <= 3):
            return _ref_from(m, text)
    return None


def parse_number_or_reference(arg: str, text: LawText | None = None) -> Reference | None:
    """``/luat`` arguments: ``90``, ``90.2`` (clause 2), ``12 nđ 92``, or any reference."""
    s = light(arg).strip(" ?.!")
    m = re.fullmatch(r"(\d{1,3})(?:\s?[.,]\s?(\d{1,2}))?", s)
    if m:
        return Reference(LAW, int(m.group(1)), int(m.group(2)) if m.group(2) else None)
    ref = parse_reference(arg, text, whole=True)
    if ref is None and s[:1].isdigit():  # "/luat 12 nđ 92": the number, then the document
        ref = parse_reference("điều " + arg, text, whole=True)
    return ref


_CITE = re.compile(r"[Đđ]iều\s+(\d{1,3})(?:\s+đến\s+(?:[Đđ]iều\s+)?(\d{1,3}))?")


def citations(source: str, text: LawText | None = None) -> list[tuple[str, int]] | None:
    """The articles a knowledge-base source line cites, as (document, number).

    ``"Nghị định số 92/2024/NĐ-CP, Điều 11"`` → ``[("92/2024/NĐ-CP", 11)]``; "Điều 17 đến
    Điều 29" gives every article between. None when the line names a document the text does
    not hold (and so cannot be checked), [] when it cites no article.
    """
    text = text or law_text()
    nums: list[int] = []
    for m in _CITE.finditer(source):
        first, last = int(m.group(1)), int(m.group(2) or m.group(1))
        nums.extend(range(first, max(first, last) + 1))
    if not nums:
        return []
    codes = [c for c in text.documents if c.lower() in source.lower()]
    if codes:
        return [(codes[0], n) for n in nums]
    if re.search(r"luật h(ợ|o)p tác xã|luật htx", source, re.I):
        return [(LAW, n) for n in nums]
    return None


def cited_articles(sources: Iterable[str], text: LawText | None = None) -> list[Article]:
    """Articles cited by ``sources`` that exist, in order, without repeats."""
    text = text or law_text()
    out: list[Article] = []
    for source in sources:
        for doc, num in citations(source, text) or []:
            article = text.get(doc, num)
            if article is not None and article not in out:
                out.append(article)
    return out


# --- parts that fit a message ----------------------------------------------------------------


def _cut_paragraph(para: str, budget: int) -> list[str]:
    """A paragraph longer than ``budget``, cut after a sentence, a semicolon or a word."""
    pieces: list[str] = []
    rest = para
    while len(rest) > budget:
        window = rest[:budget]
        cut = max(window.rfind(". "), window.rfind("; "))
        if cut < budget // 2:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = budget - 1
        pieces.append(rest[: cut + 1].rstrip())
        rest = rest[cut + 1 :].lstrip()
    pieces.append(rest)
    return pieces


def split_parts(blocks: list[list[str]], budget: int | None, per_para: int = 1) -> list[list[str]]:
    """Pack ``blocks`` (a clause is a block of paragraphs) into parts whose paragraphs, each
    counted with ``per_para`` more characters (a quote mark, a newline), fit ``budget``.

    A part starts at a clause boundary unless one clause alone is too long; then at a point
    or a paragraph; a paragraph too long for a part is cut after a sentence. ``None``: one part.
    """
    if budget is None:
        return [[p for b in blocks for p in b]]
    parts: list[list[str]] = []
    current: list[str] = []
    size = 0

    def add(paras: list[str]) -> None:
        nonlocal current, size
        length = sum(len(p) + per_para for p in paras)
        if current and size + length > budget:
            parts.append(current)
            current, size = [], 0
        current.extend(paras)
        size += length

    for block in blocks:
        if sum(len(p) + per_para for p in block) <= budget:
            add(block)
            continue
        for para in block:
            for piece in _cut_paragraph(para, budget - per_para):
                add([piece])
    if current or not parts:
        parts.append(current)
    return parts


def article_blocks(
    article: Article, clause: int | None = None, point: str | None = None
) -> list[list[str]]:
    """The article as blocks (introduction, then one block per clause), or only one clause,
    or only one point with its clause's lead paragraph."""
    if clause is not None:
        c = article.clause(clause)
        if c is None:
            return []
        if point is not None:
            paras = c.point_paras(point)
            return [list(paras)] if paras else []
        return [list(c.paras)]
    blocks = [[p] for p in article.intro]
    blocks.extend(list(c.paras) for c in article.clauses)
    return blocks
