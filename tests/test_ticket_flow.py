"""A member writing into a ticket (#18): they see they are in it, leave it easily, and every
message reaches staff or is answered; staff see every message; without staff the member is
told so (SQLite and PostgreSQL)."""

from sqlalchemy import select

from bot.app import App
from db.models import Member, OutboxMessage, Ticket
from tests.conftest import Chat


async def _staff(app: App) -> Chat:
    boss = Chat(app, "boss")  # an admin from the settings
    await boss.send("/start")
    return boss


async def _outbox_texts(app: App, user_id: str) -> list[str]:
    async with app.conversation.sessions() as s:
        stmt = (
            select(OutboxMessage.text)
            .join(Member, Member.id == OutboxMessage.member_id)
            .where(Member.user_id == user_id)
            .order_by(OutboxMessage.id)
        )
        return list((await s.execute(stmt)).scalars())


async def test_a_member_in_a_ticket_sees_it_and_leaves_with_a_button(small_app: App) -> None:
    await _staff(small_app)
    member = Chat(small_app, "farmer")
    await member.send("giá phân bón tháng này bao nhiêu")
    out = await member.send(action="contact:")
    assert "đang nhắn trong yêu cầu #" in out.replies[0].text
    assert out.replies[0].flat_buttons()[-1].action.startswith("tk:leave:")
    out = await member.send("Cho hỏi thêm: đại lý nào gần nhất?")
    assert "Đã chuyển cho cán bộ" in out.replies[0].text
    assert "đang nhắn trong yêu cầu" in out.replies[0].text  # said on every reply
    # "1" on the console presses the only button shown: back to questions.
    out = await member.send("1")
    assert "Đã quay lại hỏi đáp" in out.replies[0].text
    out = await member.send("xin chào")
    assert out.handler == "text"
    async with small_app.conversation.sessions() as s:
        ticket = (await s.execute(select(Ticket))).scalar_one()
    assert ticket.status == "open"  # leaving does not close it: staff still answer


async def test_cancel_in_a_ticket_goes_back_to_questions(small_app: App) -> None:
    await _staff(small_app)
    member = Chat(small_app, "m")
    await member.send("/lienhe cho hỏi về quỹ hỗ trợ")
    out = await member.send("/huy")
    assert "Đã quay lại hỏi đáp" in out.replies[0].text and "vẫn chờ cán bộ" in out.replies[0].text
    assert (await member.send("xin chào")).handler == "text"


async def test_a_question_the_knowledge_base_knows_is_answered_and_still_filed(
    small_app: App,
) -> None:
    await _staff(small_app)
    member = Chat(small_app, "m")
    await member.send("/lienhe cho hỏi về quỹ hỗ trợ")
    out = await member.send("Thành lập hợp tác xã cần ít nhất bao nhiêu thành viên?")
    texts = [r.text for r in out.replies]
    assert "Đã chuyển cho cán bộ" in texts[0]
    assert len(texts) == 2 and "05 thành viên" in texts[1]
    assert "Thành lập hợp tác xã" in (await _outbox_texts(small_app, "boss"))[-1]


async def test_staff_list_shows_every_message_of_a_ticket(small_app: App) -> None:
    boss = await _staff(small_app)
    member = Chat(small_app, "m")
    await member.send("/lienhe câu hỏi đầu tiên")
    await member.send("bổ sung thứ hai")
    await member.send("bổ sung thứ ba")
    out = await boss.send("/vecho")
    card = out.replies[1].text
    assert "câu hỏi đầu tiên" in card and "bổ sung thứ hai" in card and "bổ sung thứ ba" in card


async def test_without_staff_the_member_is_told_honestly(small_app: App) -> None:
    member = Chat(small_app, "m")  # nobody is staff yet: the admins never wrote
    out = await member.send("/lienhe có ai không")
    assert "chưa có cán bộ nào nhận tin" in out.replies[0].text
    out = await member.send("alo")
    assert "chưa có cán bộ nào nhận tin" in out.replies[0].text


async def test_staff_see_a_name_or_a_masked_phone_not_a_dash(small_app: App) -> None:
    from tests.test_members import _add_coops, _link

    boss = await _staff(small_app)
    await _add_coops(small_app)
    await _link(Chat(small_app, "acc"), "duoc lieu bac ha", "0901 111 222")
    (note,) = await _outbox_texts(small_app, "boss")
    assert "Người gửi: 090****222 (console)" in note
    async with small_app.conversation.sessions() as s:
        acc = (await s.execute(select(Member).where(Member.user_id == "acc"))).scalar_one()
    out = await boss.send(action=f"lk:ok:{acc.id}")
    assert "Đã duyệt liên kết của 090****222 với HTX Dược liệu Bắc Hà" in out.replies[0].text
    await Chat(small_app, "nophone").send("/lienhe cho hỏi")
    card = (await _outbox_texts(small_app, "boss"))[-1]
    assert "từ console:nophone" in card


async def test_roles_list_and_bare_ids_on_the_console(small_app: App) -> None:
    boss = await _staff(small_app)
    await Chat(small_app, "member1").send("/start")
    async with small_app.conversation.sessions() as s:  # an admin since taken off the list
        s.add(Member(channel="console", user_id="local", locale="vi", role="admin",
                     opted_out=False, unreachable=False))  # fmt: skip
        await s.commit()
    listing = await boss.say("/quyen")
    assert "console:boss" in listing and "console:local" not in listing
    assert "Đã cấp quyền cán bộ cho console:member1" in await boss.say("/quyen them member1")
    assert "console:member1, staff" in await boss.say("/quyen")
    assert "Đã bỏ quyền cán bộ" in await boss.say("/quyen bo console:member1")
    assert "ví dụ telegram:12345" in await boss.say("/quyen them nobody")


async def test_staff_removed_while_answering_cannot_send_the_answer(small_app: App) -> None:
    boss = await _staff(small_app)
    helper = Chat(small_app, "helper")
    await helper.send("/start")
    await boss.say("/quyen them console:helper")
    await Chat(small_app, "farmer").send("/lienhe cho hỏi về thuế")
    async with small_app.conversation.sessions() as s:
        ticket = (await s.execute(select(Ticket))).scalar_one()
    assert "gõ câu trả lời" in (await helper.send(action=f"tk:ans:{ticket.id}")).replies[0].text
    await boss.say("/quyen bo console:helper")
    out = await helper.send("Câu trả lời của người đã bị bỏ quyền")
    assert "chỉ dành cho cán bộ" in out.replies[0].text and out.handler.endswith(":refused")
    assert await _outbox_texts(small_app, "farmer") == []
    assert (await helper.send("xin chào")).handler == "text"  # out of the answering step
    # Boss can take the ticket over.
    assert "gõ câu trả lời" in (await boss.send(action=f"tk:ans:{ticket.id}")).replies[0].text


async def test_a_detail_the_search_matches_only_weakly_is_not_answered(app: App) -> None:
    await _staff(app)
    member = Chat(app, "m")  # the real knowledge base: "them chi tiet" is a weak match there
    await member.send("/lienhe cho hỏi về quỹ")
    out = await member.send("them chi tiet")
    assert len(out.replies) == 1 and "Đã chuyển cho cán bộ" in out.replies[0].text
    out = await member.send("thanh lap htx can may nguoi")
    assert len(out.replies) == 2 and "05 thành viên" in out.replies[1].text
