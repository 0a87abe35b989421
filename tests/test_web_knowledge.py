"""Kho tri thức over HTTP (SQLite and PostgreSQL): list and filter, edit a draft with the
Telegram and Zalo preview, try it, publish and the bot answers anew, add a variant from the
unanswered queue, new entry from a question, roll back; CSRF on every form."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.app import App
from db import knowledge as kbdb
from db.models import AuditEntry
from tests.conftest import Chat
from tests.console_client import client, csrf, sign_in
from tests.test_knowledge_edit import NEW_ANSWER, kapp, kb_dir  # noqa: F401 (fixtures)

EDIT = "/console/kb/e/htx.min_members"


async def test_staff_edit_try_publish_variant_and_roll_back(kapp: App) -> None:  # noqa: F811
    async with client(kapp) as http:
        await sign_in(http, Chat(kapp, "boss"))
        listed = await http.get("/console/kb?q=may+nguoi")
        assert listed.status_code == 200 and "htx.min_members" in listed.text
        assert "htx.dossier" not in listed.text
        token = await csrf(http, EDIT)
        # Without the CSRF token nothing is saved.
        refused = await http.post(EDIT, data={"answer": "x"})
        assert refused.status_code == 403
        saved = await http.post(EDIT, data={"csrf": token, "answer": NEW_ANSWER,
                                            "title": "Số thành viên tối thiểu của HTX",
                                            "questions": "Thành lập hợp tác xã cần ít nhất bao nhiêu thành viên?\nMở HTX phải có mấy người?",
                                            "tags": "htx\nthành viên",
                                            "sources": "Luật Hợp tác xã số 17/2023/QH15, Điều 4",
                                            "reviewed": "2026-11-28", "certainty": "verified"})  # fmt: skip
        assert saved.status_code == 200 and "Đã lưu bản nháp." in saved.text
        preview = saved.text.split('id="kb-preview"')[1]
        assert "Telegram" in preview and "Zalo" in preview and "1. 👍" in preview
        tried = await http.post(EDIT + "/try", data={"csrf": token,
                                                     "question": "Mở HTX phải có mấy người?"})  # fmt: skip
        assert "Trả lời bằng mục htx.min_members" in tried.text
        published = await http.post(EDIT + "/publish", data={"csrf": token})
        assert "Đã đăng phiên bản 2." in published.text, published.text
        assert NEW_ANSWER in await Chat(kapp, "m1").say("Mở HTX phải có mấy người?")

        # The unanswered queue: add a question as a variant of an entry, in one click.
        await Chat(kapp, "m1").say("lập htx ở xã cần mấy hộ dân đóng góp")
        queue = await http.get("/console/questions")
        assert "Thêm làm cách hỏi của mục" in queue.text
        added = await http.post("/console/kb/variant", data={
            "csrf": token, "entry": "htx.min_members",
            "question": "lập htx ở xã cần mấy hộ dân đóng góp"})  # fmt: skip
        assert "Đã thêm câu hỏi vào bản nháp của mục htx.min_members" in added.text
        new = await http.post("/console/kb/new", data={"csrf": token,
                                                       "question": "Phí đăng ký HTX?"})  # fmt: skip
        assert "staff.phi_dang_ky_htx" in new.text

        back = await http.post(EDIT + "/rollback", data={"csrf": token, "number": "1"})
        assert re.search(r"Đã quay lại nội dung phiên bản 1 \(thành phiên bản 3\)", back.text)
        assert "05 thành viên chính thức." in await Chat(kapp, "m1").say(
            "Mở HTX phải có mấy người?")  # fmt: skip
    async with kapp.conversation.sessions() as s:
        actions = set((await s.execute(select(AuditEntry.action))).scalars())
        assert {"kb.draft", "kb.staff", "kb.variant", "kb.new", "kb.rollback"} <= actions
        assert (await kbdb.get(s, "htx.min_members")).version == 3  # type: ignore[union-attr]


async def test_flagged_entry_and_draft_from_a_marked_ticket(kapp: App, kb_dir) -> None:  # noqa: F811
    from datetime import UTC, datetime

    from db.models import Ticket, TicketMessage
    from operations import Actor
    from operations import knowledge_sync as ksync
    from tests.test_knowledge_edit import _edit_yaml

    now = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    async with client(kapp) as http:
        await sign_in(http, Chat(kapp, "boss"))
        token = await csrf(http, EDIT)
        await http.post(EDIT, data={"csrf": token, "answer": NEW_ANSWER})
        assert "Đã đăng phiên bản 2." in (await http.post(EDIT + "/publish",
                                                          data={"csrf": token})).text  # fmt: skip
        _edit_yaml(kb_dir, "htx.min_members", "Bản gốc mới về số thành viên.")
        async with kapp.conversation.sessions() as s:
            assert (await ksync.sync(s, Actor.cli(), kb_dir, now)).flagged == 1
            ticket = Ticket(question="Vay vốn ưu đãi ở đâu?", status="closed", suggest_kb=True,
                            created_at=now, updated_at=now)  # fmt: skip
            s.add(ticket)
            await s.flush()
            s.add(TicketMessage(ticket_id=ticket.id, sender="staff", text="Tại Quỹ hỗ trợ HTX.",
                                created_at=now))  # fmt: skip
            await s.commit()
            ticket_id = ticket.id
        flagged = await http.get("/console/kb?co=1")
        assert "htx.min_members" in flagged.text and "htx.dossier" not in flagged.text
        page = await http.get(EDIT)
        assert 'id="kb-flagged"' in page.text and "Bản gốc mới về số thành viên." in page.text
        taken = await http.post(EDIT + "/shipped", data={"csrf": token})
        assert "Bản gốc mới đã thành bản nháp" in taken.text
        assert "Vay vốn ưu đãi ở đâu?" in (await http.get("/console/kb")).text
        drafted = await http.post(f"/console/kb/ticket/{ticket_id}", data={"csrf": token})
        assert "Tại Quỹ hỗ trợ HTX." in drafted.text
        assert (
            await http.post("/console/kb/ticket/99999", data={"csrf": token})
        ).status_code == 400
