"""Staff keep the knowledge base in the database (SQLite and PostgreSQL): draft, try, publish
and the bot answers from it without a restart; roll back; a change that breaks a saved
question is held back; a shipped update over a staff edit is flagged, not applied; export and
import round trip; every operation refused to a member."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.app import App, build_app
from db import knowledge as kbdb
from db.models import AuditEntry, Member, Ticket, TicketMessage
from ground.settings import Settings
from knowledge import drafts
from knowledge.base import KnowledgeStore
from operations import Actor, NotPossible, Refused
from operations import knowledge_edit as ked
from operations import knowledge_sync as ksync
from tests.conftest import FIXTURE_KB, Chat, Clock, _truncate

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
NEW_ANSWER = (
    "Hợp tác xã cần ít nhất 05 thành viên chính thức (cá nhân, hộ gia đình hoặc pháp nhân)."
)


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, folder)
    return folder


@pytest.fixture
async def kapp(settings: Settings, kb_dir: Path, clock: Clock) -> AsyncIterator[App]:
    """An app on its own copy of the small base (the shared store is never swapped)."""
    application = build_app(replace(settings, knowledge_dir=kb_dir), KnowledgeStore(kb_dir))
    application.conversation.clock = clock
    application.live.interval = 0
    yield application
    await application.close()
    await _truncate(settings.database_url)


async def _people(app: App) -> tuple[Actor, Actor]:
    async with app.conversation.sessions() as s:
        staff = Member(channel="console", user_id="staff", role="staff", locale="vi",
                       created_at=NOW, opted_out=False, unreachable=False)  # fmt: skip
        member = Member(channel="console", user_id="farmer", locale="vi", created_at=NOW,
                        opted_out=False, unreachable=False)  # fmt: skip
        s.add_all([staff, member])
        await s.commit()
        return Actor.of(staff), Actor.of(member)


async def test_edit_try_publish_and_the_bot_answers_without_restart(kapp: App) -> None:
    staff, _ = await _people(kapp)
    kb = kapp.kb
    async with kapp.conversation.sessions() as s:
        _, problems = await ked.save_draft(s, staff, kb, "htx.min_members",
                                             {"answer": NEW_ANSWER}, NOW)  # fmt: skip
        assert problems == []
        tried = await ked.try_question(s, staff, kb, "htx.min_members",
                                       "Mở HTX phải có mấy người?", NOW)  # fmt: skip
        assert (tried.outcome, tried.entry_id, tried.answer) == ("answer", "htx.min_members",
                                                                 NEW_ANSWER)  # fmt: skip
        assert tried.score > 0
        unknown = await ked.try_question(s, staff, kb, "htx.min_members", "giá vàng hôm nay", NOW)
        assert unknown.outcome == "unknown"
        await s.commit()
    # Not published yet: the member still gets the old answer.
    assert "05 thành viên chính thức." in await Chat(kapp, "m1").say("Mở HTX phải có mấy người?")
    async with kapp.conversation.sessions() as s:
        done = await ked.publish(s, staff, kb, "htx.min_members", NOW)
        assert done.published and done.version == 2
        await s.commit()
    assert NEW_ANSWER in await Chat(kapp, "m1").say("Mở HTX phải có mấy người?")
    async with kapp.conversation.sessions() as s:
        history = await kbdb.versions(s, "htx.min_members")
        assert [(v.number, v.source, v.actor) for v in history] == [
            (2, "staff", "console:staff"), (1, "shipped", "shipped")]  # fmt: skip
        assert history[0].changed == ["answer"]
        actions = set((await s.execute(select(AuditEntry.action))).scalars())
        assert {"kb.draft", "kb.staff"} <= actions
        # Roll back to version 1: a new version 3 with version 1's text.
        back = await ked.rollback(s, staff, kb, "htx.min_members", 1, NOW)
        assert back.published and back.version == 3
        assert (await kbdb.get(s, "htx.min_members")).data == history[1].data  # type: ignore[union-attr]
        await s.commit()
    assert "05 thành viên chính thức." in await Chat(kapp, "m1").say("Mở HTX phải có mấy người?")


async def test_a_change_that_breaks_a_saved_question_is_held_back(kapp: App) -> None:
    staff, _ = await _people(kapp)
    async with kapp.conversation.sessions() as s:
        await ked.save_question(s, staff, "Mở HTX phải có mấy người?", "htx.min_members", NOW)
        await ked.save_draft(s, staff, kapp.kb, "htx.min_members", {
            "title": "Giá phân bón", "questions": "Giá phân bón năm nay bao nhiêu?",
        }, NOW)  # fmt: skip
        held = await ked.publish(s, staff, kapp.kb, "htx.min_members", NOW)
        assert not held.published
        # The saved question, and questions of the project's set that were answered right.
        assert "Mở HTX phải có mấy người?" in [r.question for r in held.regressions]
        assert (await kbdb.get(s, "htx.min_members")).version == 1  # type: ignore[union-attr]
        forced = await ked.publish(s, staff, kapp.kb, "htx.min_members", NOW, on_purpose=True)
        assert forced.published and forced.version == 2
        # A draft that breaks a kb check rule is refused, even on purpose.
        await ked.save_draft(s, staff, kapp.kb, "htx.dossier", {"sources": ""}, NOW)
        broken = await ked.publish(s, staff, kapp.kb, "htx.dossier", NOW, on_purpose=True)
        assert not broken.published and "sources" in broken.problems[0].message


async def test_variant_new_entry_and_ticket_drafts(kapp: App) -> None:
    staff, _ = await _people(kapp)
    async with kapp.conversation.sessions() as s:
        row = await ked.add_variant(s, staff, kapp.kb, "htx.min_members", "htx can may nguoi", NOW)
        assert row.draft["questions"][-1] == "htx can may nguoi"  # type: ignore[index]
        new = await ked.new_entry(s, staff, kapp.kb, "Phí đăng ký HTX là bao nhiêu?", NOW)
        assert new.entry_id == "staff.phi_dang_ky_htx" and new.data is None
        assert new.draft["questions"] == ["Phí đăng ký HTX là bao nhiêu?"]  # type: ignore[index]
        ticket = Ticket(question="Vay vốn ưu đãi ở đâu?", status="closed", suggest_kb=True,
                        created_at=NOW, updated_at=NOW)  # fmt: skip
        s.add(ticket)
        await s.flush()
        s.add(TicketMessage(ticket_id=ticket.id, sender="staff", text="Tại Quỹ hỗ trợ HTX.",
                            created_at=NOW))  # fmt: skip
        drafted = await ked.from_ticket(s, staff, kapp.kb, ticket.id, NOW)
        assert drafted.draft["answer"] == "Tại Quỹ hỗ trợ HTX."  # type: ignore[index]
        ticket.suggest_kb = False
        with pytest.raises(NotPossible):
            await ked.from_ticket(s, staff, kapp.kb, ticket.id, NOW)


async def test_a_member_may_not_touch_the_base(kapp: App, kb_dir: Path) -> None:
    _, member = await _people(kapp)
    async with kapp.conversation.sessions() as s:
        for attempt in (
            ked.open_draft(s, member, kapp.kb, "htx.min_members", NOW),
            ked.save_draft(s, member, kapp.kb, "htx.min_members", {"answer": "x"}, NOW),
            ked.publish(s, member, kapp.kb, "htx.min_members", NOW),
            ked.rollback(s, member, kapp.kb, "htx.min_members", 1, NOW),
            ked.add_variant(s, member, kapp.kb, "htx.min_members", "q", NOW),
            ked.new_entry(s, member, kapp.kb, "q", NOW),
            ked.save_question(s, member, "q", None, NOW),
            ksync.sync(s, member, kb_dir, NOW),
            ksync.listing(s, member, kapp.kb, NOW),
            ksync.export(s, member, kapp.kb),
        ):
            with pytest.raises(Refused):
                await attempt
        assert await kbdb.count(s) == 0


def _edit_yaml(folder: Path, entry_id: str, answer: str) -> None:
    path = folder / "sample.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    next(e for e in doc["entries"] if e["id"] == entry_id)["answer"] = answer
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


async def test_a_shipped_update_over_a_staff_edit_is_flagged_not_applied(
    kapp: App, kb_dir: Path
) -> None:
    staff, _ = await _people(kapp)
    cli = Actor.cli()
    async with kapp.conversation.sessions() as s:
        first = await ksync.sync(s, cli, kb_dir, NOW)
        assert (first.added, first.updated, first.flagged) == (4, 0, 0)
        again = await ksync.sync(s, cli, kb_dir, NOW)
        assert (again.added, again.unchanged) == (0, 4)
        await ked.save_draft(s, staff, kapp.kb, "htx.min_members", {"answer": NEW_ANSWER}, NOW)
        assert (await ked.publish(s, staff, kapp.kb, "htx.min_members", NOW)).published
        _edit_yaml(kb_dir, "htx.min_members", "Bản mới: ít nhất 05 thành viên chính thức.")
        _edit_yaml(kb_dir, "htx.dossier", "Bản mới của hồ sơ đăng ký HTX.")
        counts = await ksync.sync(s, cli, kb_dir, NOW)
        assert (counts.updated, counts.flagged) == (1, 1)
        edited = await kbdb.get(s, "htx.min_members")
        assert edited and edited.flagged and edited.data["answer"] == NEW_ANSWER  # type: ignore[index]
        assert edited.shipped["answer"] == "Bản mới: ít nhất 05 thành viên chính thức."  # type: ignore[index]
        untouched = await kbdb.get(s, "htx.dossier")
        assert untouched and not untouched.flagged
        assert untouched.data["answer"] == "Bản mới của hồ sơ đăng ký HTX."  # type: ignore[index]
        flagged = await ksync.listing(s, staff, kapp.kb, NOW, flagged=True)
        assert [x.entry_id for x in flagged] == ["htx.min_members"]
        # A person compares, takes the shipped text into the draft and publishes it.
        with pytest.raises(NotPossible):
            await ked.take_shipped(s, staff, kapp.kb, "htx.dossier", NOW)
        row = await ked.take_shipped(s, staff, kapp.kb, "htx.min_members", NOW)
        assert row.draft["answer"] == "Bản mới: ít nhất 05 thành viên chính thức."  # type: ignore[index]
        assert row.data["answer"] == NEW_ANSWER  # type: ignore[index]
        assert (await ked.publish(s, staff, kapp.kb, "htx.min_members", NOW)).published
        assert not row.flagged
        assert (await ksync.sync(s, cli, kb_dir, NOW)).flagged == 0


async def test_export_import_round_trip(kapp: App, tmp_path: Path) -> None:
    staff, _ = await _people(kapp)
    async with kapp.conversation.sessions() as s:
        await ked.save_draft(s, staff, kapp.kb, "htx.min_members", {"answer": NEW_ANSWER}, NOW)
        await ked.publish(s, staff, kapp.kb, "htx.min_members", NOW)
        for fmt in drafts.FORMATS:
            out = tmp_path / f"kb.{fmt}"
            out.write_text(drafts.dump(await ksync.export(s, staff, kapp.kb), fmt), "utf-8")
            raws, problems = drafts.read(out)
            entries, more = drafts.parse_all(raws)
            assert not problems and not more
            assert {e.id: e.export() for e in entries} == {
                e.id: e.export() for e in await ksync.export(s, staff, kapp.kb)}  # fmt: skip
            assert (await ksync.import_file(s, staff, kapp.kb, out, NOW)).changed == []
        doc = yaml.safe_load((tmp_path / "kb.yaml").read_text("utf-8"))
        doc["entries"][0]["answer"] = "Đã sửa qua tệp nhập."
        changed_id = doc["entries"][0]["id"]
        (tmp_path / "kb.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
        done = await ksync.import_file(s, staff, kapp.kb, tmp_path / "kb.yaml", NOW)
        assert done.changed == [changed_id] and not done.problems
        # The same checks as kb check: a dangling follow-up is refused, nothing written.
        doc["entries"][0]["followups"] = ["khong.co"]
        doc["entries"][0]["answer"] = "Không được ghi."
        (tmp_path / "kb.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
        bad = await ksync.import_file(s, staff, kapp.kb, tmp_path / "kb.yaml", NOW)
        assert bad.changed == [] and "khong.co" in bad.problems[0].message
        assert (await kbdb.get(s, changed_id)).data["answer"] == "Đã sửa qua tệp nhập."  # type: ignore[union-attr,index]


async def test_the_shipped_knowledge_alone_does_not_make_a_database_full(
    kapp: App, kb_dir: Path
) -> None:
    """`coopbot db upgrade` loads the shipped entries; restoring a backup onto that database
    needs no --force. A draft or a person's version is data."""
    from db.backup import data_rows as row_count

    async with kapp.conversation.sessions() as s:
        await ksync.sync(s, Actor.cli(), kb_dir, NOW)
        await s.commit()
    assert await row_count(kapp.engine) == 0
    async with kapp.conversation.sessions() as s:
        await ked.save_draft(s, Actor.cli(), kapp.kb, "htx.min_members", {"answer": "x"}, NOW)
        await s.commit()
    assert await row_count(kapp.engine) == 2  # the draft and its audit line
