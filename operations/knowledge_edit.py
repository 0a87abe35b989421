"""Staff edit the knowledge base: drafts, try a question on a draft, publish (after the
checks of ``kb check`` and the evaluation), roll back to any version, and new drafts from
the unanswered queue or a closed ticket. Each checks the actor is staff when it runs; each
step is audited. Nothing a person wrote is overwritten: every publish is a new version.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db import audit
from db import knowledge as kbdb
from db import tickets as ticket_db
from db.models import TICKET_CLOSED, KbEntry, Ticket
from ground.i18n import N_
from knowledge import drafts
from knowledge.answers import answer_record
from knowledge.base import MAX_TITLE, KnowledgeStore
from knowledge.entries import Entry, Problem
from knowledge.evaluate import Case, CaseError, load_cases, outcome
from operations.knowledge_sync import base_entries, ensure_synced, new_problems
from operations.rights import Actor, NotPossible, require_staff

QA_SET = Path(__file__).resolve().parent.parent / "tests" / "data" / "qa_set.jsonl"
NOT_FOUND = N_("Không tìm thấy mục kiến thức {id}.")
NO_DRAFT = N_("Mục {id} không có bản nháp nào để đăng.")
NO_VERSION = N_("Mục {id} không có phiên bản {number}.")
DRAFT_BROKEN = N_("Bản nháp của mục {id} chưa đủ để đăng: {problem}")
CHANGE_BROKEN = N_("Thay đổi này làm kho tri thức có lỗi: {problem}")
EMPTY_QUESTION = N_("Câu hỏi đang trống.")
PUBLISHED_MEANWHILE = N_("Ai đó vừa đăng mục {id} cùng lúc. Anh/chị tải lại trang rồi thử lại.")
NOT_FLAGGED = N_("Bản gốc của mục {id} không có gì mới.")
TICKET_NOT_MARKED = N_("Yêu cầu #{id} chưa đóng hoặc chưa được đánh dấu đưa vào kho tri thức.")
FIELDS = ("title", "answer", "questions", "tags", "sources", "reviewed", "certainty",
          "title_en", "answer_en", "questions_en")  # fmt: skip


async def _row(session: AsyncSession, entry_id: str) -> KbEntry:
    row = await kbdb.get(session, entry_id[:120])
    if row is None:
        raise NotPossible(NOT_FOUND, id=entry_id[:120])
    return row


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def apply_fields(draft: dict[str, Any], fields: dict[str, str]) -> dict[str, Any]:
    """A draft mapping with the console's form fields written in (lists one per line)."""
    out = dict(draft)
    en = dict(out.get("en") or {})
    for key, value in fields.items():
        if key not in FIELDS:
            continue
        if key in ("questions", "tags", "sources"):
            out[key] = _lines(value)
        elif key == "questions_en":
            en["questions"] = _lines(value)
        elif key in ("title_en", "answer_en"):
            en[key[:-3]] = value.strip()
        else:
            out[key] = value.strip()
    if any(en.values()):
        out["en"] = en
    else:
        out.pop("en", None)
    return out


async def open_draft(
    session: AsyncSession, actor: Actor, kb: KnowledgeStore, entry_id: str, now: datetime
) -> KbEntry:
    """The entry with its draft (a copy of the live text when there was none)."""
    await require_staff(session, actor)
    await ensure_synced(session, kb, now)
    row = await _row(session, entry_id)
    if row.draft is None and row.data is not None:
        kbdb.set_draft(row, dict(row.data), actor.name, now)
    return row


async def save_draft(
    session: AsyncSession, actor: Actor, kb: KnowledgeStore, entry_id: str,
    fields: dict[str, str], now: datetime,
) -> tuple[KbEntry, list[Problem]]:  # fmt: skip
    """Save the draft (even one not ready to publish) and say what keeps it from publishing."""
    row = await open_draft(session, actor, kb, entry_id, now)
    draft = apply_fields(row.draft or {"id": row.entry_id}, fields)
    draft["id"] = row.entry_id
    changed = kbdb.changed_fields(row.draft, draft)
    kbdb.set_draft(row, draft, actor.name, now)
    audit.record(session, actor.name, "kb.draft", now, row.entry_id, {"changed": changed})
    return row, drafts.parse(draft, row.file)[1]


async def candidate(session: AsyncSession, kb: KnowledgeStore, row: KbEntry,
                    data: dict[str, Any] | None = None) -> tuple[list[Entry], list[Entry]]:  # fmt: skip
    """(the live base, the base with ``data`` (the draft by default) in place of the entry)."""
    before = await base_entries(session, kb)
    entry, problems = drafts.parse(data if data is not None else row.draft, row.file)
    if entry is None:
        raise NotPossible(DRAFT_BROKEN, id=row.entry_id, problem=problems[0].message)
    return before, [*(e for e in before if e.id != entry.id), entry]


@dataclass
class Tried:
    question: str
    outcome: str  # "answer", "which" (asks which one) or "unknown" (I don't know)
    entry_id: str | None
    title: str | None
    score: float
    runner_up: tuple[str, float] | None
    choices: list[str] = field(default_factory=list)
    answer: str | None = None


def _store(entries: list[Entry], kb: KnowledgeStore) -> KnowledgeStore:
    return KnowledgeStore.from_entries(entries, kb.menu, kb.path)


def tried(store: KnowledgeStore, question: str, locale: str = "vi") -> Tried:
    record = answer_record(store, question, locale)
    kind = "which" if record["ambiguous"] else "answer" if record["matched"] else "unknown"
    others = record["alternatives"]
    best = (record["entry_id"], record["score"]) if record["matched"] else None
    runner = (others[0]["entry_id"], float(others[0]["score"])) if others else None
    return Tried(question, kind, best[0] if best else None, record["title"],
                 float(record["score"]), runner, [c["entry_id"] for c in record["choices"]],
                 record["answer"])  # fmt: skip


async def try_question(
    session: AsyncSession, actor: Actor, kb: KnowledgeStore, entry_id: str, question: str,
    now: datetime, locale: str = "vi",
) -> Tried:  # fmt: skip
    """What a member asking ``question`` would get if the draft were published."""
    row = await open_draft(session, actor, kb, entry_id, now)
    question = question.strip()[:500]
    if not question:
        raise NotPossible(EMPTY_QUESTION)
    key = (str(kb.path), row.entry_id, kbdb.data_hash(row.draft or {}),
           await kbdb.counter(session))  # fmt: skip
    store = _TRIED.get(key)
    if store is None:  # built once per draft text and live base: the next tries are instant
        _, after = await candidate(session, kb, row)
        store = await asyncio.to_thread(_store, after, kb)
        _TRIED.clear()
        _TRIED[key] = store
    return tried(store, question, locale)


_TRIED: dict[tuple[str, str, str, int], KnowledgeStore] = {}


async def cases(session: AsyncSession) -> list[Case]:
    """The project's question set and the questions staff saved."""
    found: list[Case] = []
    if QA_SET.exists():
        try:
            found = load_cases(QA_SET)
        except CaseError:
            found = []
    for saved in await kbdb.saved_questions(session):
        entries = (saved.entry_id,) if saved.entry_id else ()
        found.append(Case(saved.text, bool(entries), None, entries, -saved.id))
    return found


def regressions(before: KnowledgeStore, after: KnowledgeStore, found: list[Case]) -> list[Tried]:
    """Questions answered right before the change and not after it."""
    worse = []
    for case in found:
        old = answer_record(before, case.question, case.locale)
        if outcome(case, old) != "right":
            continue
        new = answer_record(after, case.question, case.locale)
        if outcome(case, new) != "right":
            worse.append(tried(after, case.question, case.locale))
    return worse


@dataclass
class Published:
    published: bool
    problems: list[Problem] = field(default_factory=list)
    regressions: list[Tried] = field(default_factory=list)
    version: int = 0


async def _checked_publish(
    session: AsyncSession, actor: Actor, kb: KnowledgeStore, row: KbEntry, data: dict[str, Any],
    source: str, now: datetime, on_purpose: bool,
) -> Published:  # fmt: skip
    before, after = await candidate(session, kb, row, data)
    problems = new_problems(before, after)
    if problems:
        return Published(False, problems)
    found = await cases(session)
    old_store, new_store = await asyncio.gather(asyncio.to_thread(_store, before, kb),
                                                asyncio.to_thread(_store, after, kb))  # fmt: skip
    worse = await asyncio.to_thread(regressions, old_store, new_store, found)
    if worse and not on_purpose:
        return Published(False, [], worse)
    try:
        kept = await kbdb.publish(session, row, data, source, actor.name, now)
    except IntegrityError:  # another publish of this entry took the same version number
        raise NotPossible(PUBLISHED_MEANWHILE, id=row.entry_id) from None
    audit.record(session, actor.name, f"kb.{source}", now, row.entry_id,
                 {"version": kept.number, "changed": kept.changed,
                  "regressions": [w.question for w in worse]})  # fmt: skip
    return Published(True, [], worse, kept.number)


async def publish(
    session: AsyncSession, actor: Actor, kb: KnowledgeStore, entry_id: str, now: datetime,
    on_purpose: bool = False,
) -> Published:  # fmt: skip
    """Publish the draft: refused while it brings a ``kb check`` problem; held back, unless
    ``on_purpose``, while it makes a question of the evaluation answer wrongly."""
    await require_staff(session, actor)
    row = await _row(session, entry_id)
    if row.draft is None:
        raise NotPossible(NO_DRAFT, id=row.entry_id)
    entry, problems = drafts.parse(row.draft, row.file)
    if entry is None:
        return Published(False, problems)
    done = await _checked_publish(session, actor, kb, row, entry.export(), kbdb.STAFF, now,
                                  on_purpose)  # fmt: skip
    if done.published:
        kbdb.set_draft(row, None, None, now)
    return done


async def rollback(
    session: AsyncSession, actor: Actor, kb: KnowledgeStore, entry_id: str, number: int,
    now: datetime, on_purpose: bool = True,
) -> Published:  # fmt: skip
    """Publish version ``number`` again, as a new version (history is never rewritten)."""
    await require_staff(session, actor)
    row = await _row(session, entry_id)
    old = await kbdb.version(session, row.entry_id, number)
    if old is None:
        raise NotPossible(NO_VERSION, id=row.entry_id, number=number)
    return await _checked_publish(session, actor, kb, row, dict(old.data), kbdb.ROLLBACK, now,
                                  on_purpose)  # fmt: skip


async def add_variant(
    session: AsyncSession, actor: Actor, kb: KnowledgeStore, entry_id: str, question: str,
    now: datetime,
) -> KbEntry:  # fmt: skip
    """Add ``question`` (from the unanswered queue) to the entry's draft questions."""
    question = " ".join(question.split())[:300]
    if not question:
        raise NotPossible(EMPTY_QUESTION)
    row = await open_draft(session, actor, kb, entry_id, now)
    draft = dict(row.draft or {})
    questions = list(draft.get("questions") or [])
    if question not in questions:
        questions.append(question)
    draft["questions"] = questions
    kbdb.set_draft(row, draft, actor.name, now)
    audit.record(session, actor.name, "kb.variant", now, row.entry_id, {"question": question})
    return row


def _new_id(question: str, taken: set[str]) -> str:
    from knowledge.normalize import fold

    words = re.findall(r"[a-z0-9]+", fold(question))[:4] or ["moi"]
    base = "staff." + "_".join(words)
    eid, n = base, 2
    while eid in taken:
        eid, n = f"{base}_{n}", n + 1
    return eid


async def new_entry(
    session: AsyncSession, actor: Actor, kb: KnowledgeStore, question: str, now: datetime,
    answer: str = "", source: str = "new",
) -> KbEntry:  # fmt: skip
    """A new entry, not yet published, whose draft asks ``question``."""
    await require_staff(session, actor)
    question = " ".join(question.split())[:300]
    if not question:
        raise NotPossible(EMPTY_QUESTION)
    await ensure_synced(session, kb, now)
    taken = {r.entry_id for r in await kbdb.all_rows(session)}
    row = await kbdb.create(session, _new_id(question, taken), "console", now)
    draft = {"id": row.entry_id, "title": question[:MAX_TITLE], "questions": [question],
             "answer": answer.strip(), "tags": [], "sources": [],
             "reviewed": now.date().isoformat(), "certainty": "verified"}  # fmt: skip
    kbdb.set_draft(row, draft, actor.name, now)
    audit.record(session, actor.name, f"kb.{source}", now, row.entry_id, {"question": question})
    return row


async def from_ticket(
    session: AsyncSession, actor: Actor, kb: KnowledgeStore, ticket_id: int, now: datetime
) -> KbEntry:
    """A draft from a closed ticket staff marked for the knowledge base: its question, and
    the staff's last answer."""
    await require_staff(session, actor)
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None or ticket.status != TICKET_CLOSED or not ticket.suggest_kb:
        raise NotPossible(TICKET_NOT_MARKED, id=ticket_id)
    answers = [m.text for m in await ticket_db.messages_of(session, ticket.id, "staff")]
    return await new_entry(session, actor, kb, ticket.question, now,
                           answers[-1] if answers else "", "ticket")  # fmt: skip


async def save_question(
    session: AsyncSession, actor: Actor, text: str, entry_id: str | None, now: datetime
) -> None:
    """Save a question that must keep getting ``entry_id`` (``None``: no answer)."""
    await require_staff(session, actor)
    text = " ".join(text.split())[:500]
    if not text:
        raise NotPossible(EMPTY_QUESTION)
    await kbdb.save_question(session, text, entry_id or None, actor.name, now)
    audit.record(session, actor.name, "kb.saved_question", now, entry_id, {"question": text})


async def view(
    session: AsyncSession, actor: Actor, kb: KnowledgeStore, entry_id: str, now: datetime
) -> tuple[KbEntry, list[kbdb.KbVersion]]:
    """The entry (draft and live text, the shipped text when flagged) and its versions."""
    await require_staff(session, actor)
    await ensure_synced(session, kb, now)
    row = await _row(session, entry_id)
    return row, await kbdb.versions(session, row.entry_id)


async def marked_tickets(session: AsyncSession, actor: Actor) -> list[tuple[int, str]]:
    """Closed tickets staff marked for the knowledge base: (id, question)."""
    await require_staff(session, actor)
    return [(t.id, t.question) for t, _ in await ticket_db.marked_for_knowledge(session)]


async def take_shipped(
    session: AsyncSession, actor: Actor, kb: KnowledgeStore, entry_id: str, now: datetime
) -> KbEntry:
    """For a flagged entry: the new shipped text becomes the draft, to compare and publish
    (the live text stays until then)."""
    row = await open_draft(session, actor, kb, entry_id, now)
    if not row.flagged or row.shipped is None:
        raise NotPossible(NOT_FLAGGED, id=row.entry_id)
    kbdb.set_draft(row, dict(row.shipped), actor.name, now)
    audit.record(session, actor.name, "kb.take_shipped", now, row.entry_id, None)
    return row
