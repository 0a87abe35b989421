"""Linking members to cooperatives, approvals, roles, audit and erasure (SQLite and PostgreSQL)."""

from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.app import App
from db.models import AuditEntry, Cooperative, Member, OutboxMessage, Question
from ground.messages import Incoming
from tests.conftest import Chat

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


async def _add_coops(app: App) -> None:
    async with app.conversation.sessions() as s:
        for code, name, phone in [
            ("5201000123", "HTX Chè Shan tuyết Suối Giàng", "0912345678"),
            ("5201000456", "HTX Dược liệu Bắc Hà", "0987654321"),
        ]:
            s.add(
                Cooperative(
                    code=code,
                    name=name,
                    kind="htx",
                    sector="nong_lam_thuy_san",
                    commune="Xã Khao Mang",
                    commune_code=4465,
                    phone=phone,
                    status="active",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        await s.commit()


async def _member(app: App, user_id: str) -> Member | None:
    async with app.conversation.sessions() as s:
        stmt = select(Member).where(Member.user_id == user_id)
        return (await s.execute(stmt)).scalar_one_or_none()


async def _count(app: App, model, *where) -> int:  # type: ignore[no-untyped-def]
    async with app.conversation.sessions() as s:
        return (await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def _link(chat: Chat, name: str, phone: str) -> str:
    await chat.send("/dangky")
    out = await chat.send(name)
    assert out.replies[0].flat_buttons()[0].action.startswith("lk:c:")
    await chat.send("1")  # the first cooperative found
    out = await chat.send("1")  # Chủ tịch / Giám đốc
    assert out.replies[0].contact_button  # Telegram offers the share-contact button
    return "\n".join(r.text for r in (await chat.send(phone)).replies)


async def test_a_typed_phone_is_a_claim_that_staff_approve(small_app: App) -> None:
    # Typing the cooperative's registered phone proves nothing: anyone can type it (#16).
    await _add_coops(small_app)
    await Chat(small_app, "boss").send("/start")
    chat = Chat(small_app, "farmer")
    text = await _link(chat, "che suoi giang", "+84 912 345 678")
    assert "Đã gửi yêu cầu liên kết với HTX Chè Shan tuyết Suối Giàng" in text
    assert "gõ tay chưa chứng minh" in text
    m = await _member(small_app, "farmer")
    assert m and m.link_status == "pending" and m.coop_role == "manager"
    assert m.phone == "0912345678"
    assert "đang chờ cán bộ duyệt" in await chat.say("/hoptacxa")
    async with small_app.conversation.sessions() as s:
        note = (await s.execute(select(OutboxMessage))).scalar_one()
    assert "gõ tay, chưa được xác minh" in note.text


async def _link_by_contact(app: App, user_id: str, phone: str, verified: bool) -> str:
    chat = Chat(app, user_id, channel="telegram")
    await chat.send("/dangky")
    out = await chat.send("che suoi giang")
    await chat.send(action=out.replies[0].flat_buttons()[0].action)
    out = await chat.send(action="lk:r:manager")
    assert out.replies[0].contact_button
    shared = Incoming(channel="telegram", user_id=user_id, text=phone if verified else "",
                      contact_phone=phone, contact_verified=verified)  # fmt: skip
    return "\n".join(r.text for r in (await app.conversation.handle(shared)).replies)


async def test_only_a_contact_shared_from_the_senders_own_account_links_at_once(
    small_app: App,
) -> None:
    await _add_coops(small_app)
    text = await _link_by_contact(small_app, "111", "+84912345678", verified=True)
    assert "Đã liên kết tài khoản với HTX Chè Shan tuyết Suối Giàng" in text
    m = await _member(small_app, "111")
    assert m and m.link_status == "approved" and m.phone == "0912345678"
    assert await _count(small_app, AuditEntry, AuditEntry.action == "link_approved_by_phone") == 1
    # Someone else's contact card carries the right number but proves nothing.
    text = await _link_by_contact(small_app, "222", "+84912345678", verified=False)
    assert "Đã gửi yêu cầu liên kết" in text
    m = await _member(small_app, "222")
    assert m and m.link_status == "pending"
    # The sender's own contact with another number waits for staff too.
    await _link_by_contact(small_app, "333", "0900000000", verified=True)
    m = await _member(small_app, "333")
    assert m and m.link_status == "pending"


async def test_no_staff_configured_is_said_honestly(small_app: App) -> None:
    await _add_coops(small_app)
    text = await _link(Chat(small_app, "lonely"), "duoc lieu bac ha", "0933333333")
    assert "chưa có cán bộ nào nhận yêu cầu" in text


async def test_link_by_code_and_staff_approval_with_notifications(small_app: App) -> None:
    await _add_coops(small_app)
    boss = Chat(small_app, "boss")  # admin from settings
    await boss.send("/start")
    chat = Chat(small_app, "acc")
    await chat.send("/dangky")
    out = await chat.send("5201000456")
    assert out.replies[0].flat_buttons()[0].label.startswith("HTX Dược liệu Bắc Hà")
    await chat.send("1")
    await chat.send("2")  # Kế toán
    out = await chat.send("0901 111 222")
    assert "cán bộ sẽ duyệt" in out.replies[0].text
    m = await _member(small_app, "acc")
    assert m and m.link_status == "pending"
    # The admin was notified, with the phone masked.
    async with small_app.conversation.sessions() as s:
        note = (await s.execute(select(OutboxMessage))).scalar_one()
    assert "090****222" in note.text and "0901111222" not in note.text
    assert note.buttons[0][0][1] == f"lk:ok:{m.id}"
    # A member cannot press the staff button.
    assert "chỉ dành cho cán bộ" in (await chat.send(action=f"lk:ok:{m.id}")).replies[0].text
    out = await boss.send(action=f"lk:ok:{m.id}")
    assert "Đã duyệt liên kết" in out.replies[0].text
    # A second staff press finds it already handled.
    assert "đã được xử lý" in (await boss.send(action=f"lk:ok:{m.id}")).replies[0].text
    m = await _member(small_app, "acc")
    assert m and m.link_status == "approved"
    async with small_app.conversation.sessions() as s:
        told = (
            await s.execute(select(OutboxMessage).where(OutboxMessage.member_id == m.id))
        ).scalar_one()
        entry = (
            await s.execute(select(AuditEntry).where(AuditEntry.action == "link_approved"))
        ).scalar_one()
    assert "Cán bộ đã duyệt" in told.text
    assert entry.actor == "console:boss" and entry.target == f"member:{m.id}"


async def test_refusal_unlinks_and_tells_the_member(small_app: App) -> None:
    await _add_coops(small_app)
    await Chat(small_app, "boss").send("/start")
    chat = Chat(small_app, "x")
    await _link(chat, "duoc lieu bac ha", "0933333333")
    m = await _member(small_app, "x")
    assert m
    out = await Chat(small_app, "boss").send(action=f"lk:no:{m.id}")
    assert "Đã từ chối" in out.replies[0].text
    m = await _member(small_app, "x")
    assert m and m.link_status == "refused" and m.cooperative_id is None
    assert await _count(small_app, AuditEntry, AuditEntry.action == "link_refused") == 1


async def test_bad_phone_is_explained_and_asked_again(small_app: App) -> None:
    await _add_coops(small_app)
    chat = Chat(small_app, "y")
    await chat.send("/dangky")
    await chat.send("suoi giang")
    await chat.send("1")
    await chat.send("3")
    out = await chat.send("12345")
    assert "Số điện thoại chưa đúng" in out.replies[0].text
    m = await _member(small_app, "y")
    assert m and m.flow == "link" and m.flow_data["step"] == "phone"  # nothing lost
    assert "Đã gửi yêu cầu liên kết" in await chat.say("0912345678")


async def test_unknown_cooperative_offers_a_way_forward(small_app: App) -> None:
    await _add_coops(small_app)
    chat = Chat(small_app, "z")
    await chat.send("/dangky")
    assert "/lienhe" in await chat.say("zzzz qqqq")


async def test_every_staff_command_refuses_members(small_app: App) -> None:
    chat = Chat(small_app, "member")
    staff_cmds = [c for c in small_app.conversation.router.commands if c.role != "member"]
    assert {c.name for c in staff_cmds} >= {"chuahoi", "duyet", "quyen"}
    for cmd in staff_cmds:
        out = await chat.send(f"/{cmd.name}")
        assert "chỉ dành cho cán bộ" in out.replies[0].text, cmd.name
    assert await _count(small_app, AuditEntry) == 0


async def test_admin_grants_and_removes_staff_with_audit(small_app: App) -> None:
    boss = Chat(small_app, "boss")
    await Chat(small_app, "helper").send("/start")
    assert "Chưa có ai" in await boss.say("/quyen them console:nobody")
    assert "Đã cấp quyền cán bộ" in await boss.say("/quyen them console:helper")
    helper = Chat(small_app, "helper")
    assert "chỉ dành cho cán bộ" not in await helper.say("/duyet")
    assert "chỉ dành cho cán bộ" in await helper.say("/quyen them console:boss")  # staff ≠ admin
    assert "Đã bỏ quyền" in await boss.say("/quyen bo console:helper")
    assert "chỉ dành cho cán bộ" in await helper.say("/duyet")
    assert await _count(small_app, AuditEntry, AuditEntry.actor == "console:boss") == 2


async def test_member_sees_only_their_own_cooperative(small_app: App) -> None:
    await _add_coops(small_app)
    chat = Chat(small_app, "q")
    assert "chưa liên kết" in await chat.say("/hoptacxa")
    await _link(chat, "suoi giang", "0912345678")
    text = await chat.say("/hoptacxa")
    assert "Suối Giàng" in text and "Bắc Hà" not in text


async def test_erasure_removes_personal_data_and_keeps_questions_unlinked(small_app: App) -> None:
    await _add_coops(small_app)
    chat = Chat(small_app, "erase-me")
    await _link(chat, "suoi giang", "0912345678")
    await chat.send("thanh lap htx can bao nhieu nguoi")
    out = await chat.send("/xoadulieu")
    assert "không thể hoàn tác" in out.replies[0].text
    assert "Đã giữ nguyên" in (await chat.send("2")).replies[0].text
    assert await _member(small_app, "erase-me") is not None
    await chat.send("/xoadulieu")
    assert "Đã xoá dữ liệu" in (await chat.send("1")).replies[0].text
    assert await _member(small_app, "erase-me") is None
    assert await _count(small_app, Question) == 1
    assert await _count(small_app, Question, Question.member_id.is_not(None)) == 0


async def test_an_approved_link_confirmed_again_stays_approved(small_app: App) -> None:
    await _add_coops(small_app)
    await _link_by_contact(small_app, "111", "+84912345678", verified=True)
    chat = Chat(small_app, "111", channel="telegram")
    await chat.send("/dangky")
    out = await chat.send("che suoi giang")
    await chat.send(action=out.replies[0].flat_buttons()[0].action)
    await chat.send(action="lk:r:manager")
    assert "không có gì thay đổi" in await chat.say("0912 345 678")
    m = await _member(small_app, "111")
    assert m and m.link_status == "approved"
    # The same phone for another role is a new claim.
    await chat.send("/dangky")
    out = await chat.send("che suoi giang")
    await chat.send(action=out.replies[0].flat_buttons()[0].action)
    await chat.send(action="lk:r:accountant")
    assert "Đã gửi yêu cầu liên kết" in await chat.say("0912 345 678")
    m = await _member(small_app, "111")
    assert m and m.link_status == "pending" and m.coop_role == "accountant"
