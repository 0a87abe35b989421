"""Knowledge-base entries: loading, validation and hot reload.

Entries are YAML under ``knowledge/data/``; a file holds ``entries:`` (a list) and may hold
``menu:`` (the topics shown by /menu). See ``README.md`` for the entry format.
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from rapidfuzz import fuzz

from knowledge.entries import Entry, Problem, Topic
from knowledge.normalize import has_diacritics, tokenize
from knowledge.search import SearchIndex, SearchResult

if TYPE_CHECKING:
    from knowledge.search import SearchIndex

DATA_DIR = Path(__file__).parent / "data"
MAX_ANSWER = 700
MAX_TITLE = 60
ID_RE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
CERTAINTIES = ("verified", "uncertain")
SCOPES = ("in", "out")

log = logging.getLogger("coopbot.knowledge")


class KnowledgeError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class Loaded:
    entries: list[Entry] = field(default_factory=list)
    menu: list[Topic] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _str_list(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(v.strip() for v in value)
    return None


def _parse_entry(raw: Any, file: str, problems: list[Problem]) -> Entry | None:
    if not isinstance(raw, dict):
        problems.append(Problem(file, None, "an entry must be a mapping"))
        return None
    eid = raw.get("id")
    if not isinstance(eid, str) or not ID_RE.match(eid):
        problems.append(Problem(file, str(eid), "id must be lower-case ASCII words joined by dots"))
        return None
    errors: list[str] = []
    known = {
        "id", "title", "questions", "answer", "tags", "sources",
        "reviewed", "certainty", "followups", "scope", "en",
    }  # fmt: skip
    for key in raw:
        if key not in known:
            errors.append(f"unknown field '{key}'")
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        errors.append("title is missing")
    elif len(title) > MAX_TITLE:
        errors.append(f"title is {len(title)} characters (at most {MAX_TITLE})")
    questions = _str_list(raw.get("questions"))
    if not questions:
        errors.append("questions must be a non-empty list of texts")
    answer = raw.get("answer")
    if not isinstance(answer, str) or not answer.strip():
        errors.append("answer is missing")
    elif len(answer.strip()) > MAX_ANSWER:
        errors.append(f"answer is {len(answer.strip())} characters (at most {MAX_ANSWER})")
    tags = _str_list(raw.get("tags", [])) if raw.get("tags") else ()
    if tags is None:
        errors.append("tags must be a list of texts")
    sources = _str_list(raw.get("sources"))
    if not sources:
        errors.append("sources are missing: every entry cites a document, article or URL")
    reviewed = raw.get("reviewed")
    if isinstance(reviewed, str):
        try:
            reviewed = date.fromisoformat(reviewed)
        except ValueError:
            reviewed = None
    if not isinstance(reviewed, date):
        errors.append("reviewed must be a date (YYYY-MM-DD)")
    certainty = raw.get("certainty", "verified")
    if certainty not in CERTAINTIES:
        errors.append(f"certainty must be one of {', '.join(CERTAINTIES)}")
    scope = raw.get("scope", "in")
    if scope not in SCOPES:
        errors.append(f"scope must be one of {', '.join(SCOPES)}")
    followups = _str_list(raw.get("followups", [])) if raw.get("followups") else ()
    if followups is None:
        errors.append("followups must be a list of entry ids")
    en = _parse_english(raw.get("en"), errors)
    if errors:
        problems.extend(Problem(file, eid, e) for e in errors)
        return None
    return Entry(
        id=eid,
        title=str(title).strip(),
        questions=questions or (),
        answer=str(answer).strip(),
        tags=tags or (),
        sources=sources or (),
        reviewed=reviewed,  # type: ignore[arg-type]
        certainty=str(certainty),
        followups=followups or (),
        scope=str(scope),
        file=file,
        en=en,
    )


def _parse_english(raw: Any, errors: list[str]) -> dict[str, Any]:
    """The optional ``en:`` block: ``title``, ``answer`` and ``questions`` in English."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        errors.append("en must be a mapping with title, answer and questions")
        return {}
    for key in raw:
        if key not in ("title", "answer", "questions"):
            errors.append(f"unknown field 'en.{key}'")
    title, answer = raw.get("title"), raw.get("answer")
    questions = _str_list(raw.get("questions"))
    if not isinstance(title, str) or not title.strip():
        errors.append("en.title is missing")
    if not isinstance(answer, str) or not answer.strip():
        errors.append("en.answer is missing")
    elif len(answer.strip()) > MAX_ANSWER:
        errors.append(f"en.answer is {len(answer.strip())} characters (at most {MAX_ANSWER})")
    if not questions:
        errors.append("en.questions must be a non-empty list of texts")
    if not isinstance(title, str) or not isinstance(answer, str) or not questions:
        return {}
    return {"title": title.strip(), "answer": answer.strip(), "questions": questions}


def _parse_menu(raw: Any, file: str, problems: list[Problem]) -> list[Topic]:
    topics = []
    if not isinstance(raw, list):
        problems.append(Problem(file, None, "menu must be a list of topics"))
        return topics
    for item in raw:
        if not isinstance(item, dict):
            problems.append(Problem(file, None, "a menu topic must be a mapping"))
            continue
        tid, title, entries = item.get("id"), item.get("title"), _str_list(item.get("entries"))
        if not isinstance(tid, str) or not ID_RE.match(tid):
            problems.append(Problem(file, str(tid), "menu topic id must be lower-case ASCII"))
            continue
        if not (
            isinstance(title, dict) and all(isinstance(title.get(k), str) for k in ("vi", "en"))
        ):
            problems.append(Problem(file, tid, "menu topic title needs 'vi' and 'en'"))
            continue
        if not entries:
            problems.append(Problem(file, tid, "menu topic needs a list of entries"))
            continue
        topics.append(Topic(tid, dict(title), entries))
    return topics


# libyaml's safe loader (ten times faster) when PyYAML was built with it; the same safety
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_dir(path: Path = DATA_DIR) -> Loaded:
    """Read every ``*.yaml`` under ``path``; collect problems instead of raising."""
    loaded = Loaded()
    files = sorted(path.glob("*.yaml"))
    if not files:
        loaded.problems.append(Problem(str(path), None, "no *.yaml files"))
    for file in files:
        name = file.name
        try:
            doc = yaml.load(file.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            loaded.problems.append(Problem(name, None, f"not valid YAML: {exc}".splitlines()[0]))
            continue
        if not isinstance(doc, dict):
            loaded.problems.append(Problem(name, None, "expected a mapping with 'entries:'"))
            continue
        for key in doc:
            if key not in ("entries", "menu"):
                loaded.problems.append(Problem(name, None, f"unknown top-level key '{key}'"))
        for raw in doc.get("entries") or []:
            entry = _parse_entry(raw, name, loaded.problems)
            if entry:
                loaded.entries.append(entry)
        if "menu" in doc:
            loaded.menu.extend(_parse_menu(doc["menu"], name, loaded.problems))
    loaded.problems.extend(cross_check(loaded.entries, loaded.menu))
    return loaded


def _question_key(text: str) -> str:
    return " ".join(t.folded for t in tokenize(text))


def cross_check(entries: Iterable[Entry], menu: Iterable[Topic] = ()) -> list[Problem]:
    """Checks across entries: duplicate ids, dangling follow-ups, colliding questions."""
    problems: list[Problem] = []
    entries = list(entries)
    by_id: dict[str, Entry] = {}
    for e in entries:
        if e.id in by_id:
            problems.append(Problem(e.file, e.id, f"duplicate id (also in {by_id[e.id].file})"))
        by_id.setdefault(e.id, e)
    for e in entries:
        for f in e.followups:
            if f not in by_id:
                problems.append(Problem(e.file, e.id, f"follow-up '{f}' does not exist"))
            elif f == e.id:
                problems.append(Problem(e.file, e.id, "an entry cannot follow itself"))
    for topic in menu:
        for eid in topic.entries:
            if eid not in by_id:
                problems.append(Problem("menu", topic.id, f"entry '{eid}' does not exist"))
    # Question variants that collide across entries (same text once normalised, or nearly).
    keyed: list[tuple[str, Entry, str]] = [
        (_question_key(q), e, q) for e in entries for q in e.questions
    ]
    seen: dict[str, tuple[Entry, str]] = {}
    for key, e, q in keyed:
        other = seen.get(key)
        if other and other[0].id != e.id:
            problems.append(
                Problem(e.file, e.id, f"question '{q}' collides with '{other[1]}' in {other[0].id}")
            )
        seen.setdefault(key, (e, q))
    # The same wording twice in one entry counts twice in its score: a slip, not a variant.
    for e in entries:
        written: set[str] = set()
        for q in e.questions:
            plain = " ".join(unicodedata.normalize("NFC", q).lower().split())
            if plain in written:
                problems.append(Problem(e.file, e.id, f"question '{q}' is listed twice"))
            written.add(plain)
    keys = [(k, e, q) for k, e, q in keyed if len(k) >= 12]
    keys.sort(key=lambda x: x[0])
    for i, (k1, e1, q1) in enumerate(keys):
        for k2, e2, q2 in keys[i + 1 : i + 4]:
            if e1.id != e2.id and k1 != k2 and fuzz.ratio(k1, k2) >= 96:
                problems.append(
                    Problem(e2.file, e2.id, f"question '{q2}' nearly repeats '{q1}' in {e1.id}")
                )
    return problems


class KnowledgeStore:
    """Holds the current knowledge base and swaps it on reload.

    A reload that finds problems keeps the old base and returns the problems. A reload may
    run in a thread (:meth:`reload_in_thread`): ``entries``, ``menu`` and ``index`` change
    together, in one assignment, when the new index is built.
    """

    def __init__(self, path: Path = DATA_DIR) -> None:
        self.path = path
        loaded = load_dir(path)
        if loaded.problems:
            raise KnowledgeError(loaded.problems)
        self._base = (
            {e.id: e for e in loaded.entries},
            loaded.menu,
            *_indexes(loaded.entries),  # the Vietnamese index, the English one
        )
        self._stamp = self._files_stamp()
        self._reloading: asyncio.Task[list[Problem] | None] | None = None

    @property
    def entries(self) -> dict[str, Entry]:
        return self._base[0]

    @property
    def menu(self) -> list[Topic]:
        return self._base[1]

    @property
    def index(self) -> SearchIndex:
        return self._base[2]

    @property
    def en_index(self) -> SearchIndex:
        return self._base[3]

    @classmethod
    def from_entries(
        cls, entries: list[Entry], menu: list[Topic] | None = None, path: Path = DATA_DIR
    ) -> KnowledgeStore:
        """A store over ``entries`` given by the caller (the live base read from the database
        by operations/knowledge_live.py); the menu comes from the YAML when not given."""
        store = cls.__new__(cls)
        store.path = path
        store._base = ({}, menu if menu is not None else load_dir(path).menu, *_indexes([]))
        store._stamp = ()
        store._reloading = None
        store.swap(entries)
        return store

    def swap(self, entries: list[Entry]) -> None:
        """Serve ``entries`` (already checked) from now on; file changes no longer reload."""
        # One assignment: a message being answered sees the old base or the new, never a mix.
        self._base = ({e.id: e for e in entries}, self.menu, *_indexes(entries))
        self.live = True

    live = False  # serving entries handed over by swap(), not the YAML files

    def _files_stamp(self) -> tuple[tuple[str, float, int], ...]:
        files = [*sorted(self.path.glob("*.yaml")), self.path / ".reload"]
        return tuple((p.name, p.stat().st_mtime, p.stat().st_size) for p in files if p.exists())

    def reload(self) -> list[Problem]:
        loaded = load_dir(self.path)
        self._stamp = self._files_stamp()
        if loaded.problems:
            log.error("knowledge reload refused: %d problems", len(loaded.problems))
            return loaded.problems
        self._base = ({e.id: e for e in loaded.entries}, loaded.menu, *_indexes(loaded.entries))
        log.info("knowledge reloaded: %d entries", len(self.entries))
        return []

    def reload_if_changed(self) -> list[Problem] | None:
        """Reload when a file under the data folder changed; ``None`` when nothing did."""
        if self.live or self._files_stamp() == self._stamp:
            return None
        return self.reload()

    def reload_in_thread(self) -> asyncio.Task[list[Problem] | None]:
        """:meth:`reload_if_changed` in a worker thread, so reading the files and building
        the index (seconds for a large base) never stall the event loop; conversations go on
        with the old base until the new one is swapped in. One reload at a time: while one
        runs, its task is returned again."""
        if self._reloading is None or self._reloading.done():
            self._reloading = asyncio.ensure_future(asyncio.to_thread(self.reload_if_changed))
        return self._reloading

    def get(self, entry_id: str) -> Entry | None:
        return self.entries.get(entry_id)

    def search(self, question: str, locale: str = "vi") -> SearchResult:
        """Answer in the member's language. A member who chose English may still type
        Vietnamese: the question is searched in the wordings of the language it is written
        in (Vietnamese when it has Vietnamese accents or more of its words are Vietnamese)."""
        if locale != "en" or self.written_in_vietnamese(question):
            return self.index.search(question)
        return self.en_index.search(question)

    def written_in_vietnamese(self, question: str) -> bool:
        if has_diacritics(question):
            return True
        words = [t.folded for t in tokenize(question)]
        vi = sum(self.index.knows(w) for w in words)
        en = sum(self.en_index.knows(w) for w in words)
        return vi > en


def _indexes(entries: list[Entry]) -> tuple[SearchIndex, SearchIndex]:
    """The Vietnamese index, and the English one over the entries that have English."""
    return SearchIndex(entries), SearchIndex([e for e in entries if e.en], language="en")
