"""Forged buttons (#16): every button of members, links, roles, tickets and the menu, pressed
without having been shown, by a member, a pending member, a member of another cooperative and
staff whose role was removed, changes nothing that is not the presser's own (SQLite and PG)."""

from sqlalchemy import func, select

from bot.app import App
from db.models import AuditEntry, Member, OutboxMessage, Ticket, TicketMessage
from tests.conftest import Chat
from tests.test_operations_members import World, _world

PRESSERS = ("member", "pending", "other_coop", "removed_staff")


async def _snapshot(app: App) -> dict[str, object]:
    async with app.conversation.sessions() as s:
        members = {
            m.user_id: (m.role, m.link_status, m.cooperative_id, m.locale, m.flow)
            for m in (await s.execute(select(Member))).scalars()
        }
        tickets = {
            t.id: (t.status, t.claimed_by, t.suggest_kb)
            for t in (await s.execute(select(Ticket))).scalars()
        }
        counts = {
            model.__name__: await s.scalar(select(func.count()).select_from(model))
            for model in (AuditEntry, OutboxMessage, TicketMessage)
        }
    return {"members": members, "tickets": tickets, **counts}


async def _staff_buttons(world: World) -> list[str]:
    pending, tid = world.ids["pending"], world.ticket
    return [
        f"lk:ok:{pending}",
        f"lk:no:{pending}",
        f"tk:ans:{tid}",
        f"tk:close:{tid}",
        f"tk:cls:{tid}",
        f"tk:cls:{tid}:kb",
    ]


async def test_staff_buttons_are_refused_when_pressed_by_anyone_else(small_app: App) -> None:
    world = await _world(small_app)
    before = await _snapshot(small_app)
    for who in PRESSERS:
        chat = Chat(small_app, who)
        for action in await _staff_buttons(world):
            out = await chat.send(action=action)
            assert "chỉ dành cho cán bộ" in out.replies[0].text, (who, action)
            assert out.handler.endswith(":refused"), (who, action)
    assert await _snapshot(small_app) == before


async def test_member_buttons_touch_only_the_pressers_own_things(small_app: App) -> None:
    world = await _world(small_app)
    tid = world.ticket
    asker = Chat(small_app, "asker")
    await asker.send("/lienhe")  # the asker writes into their ticket
    before = await _snapshot(small_app)
    for who in PRESSERS:
        chat = Chat(small_app, who)
        # Someone else's ticket: neither answered back nor left.
        for action in (f"tk:rep:{tid}", f"tk:leave:{tid}", "tk:rep:999"):
            out = await chat.send(action=action)
            assert "Không tìm thấy yêu cầu" in out.replies[0].text, (who, action)
        # A link flow the presser is not in: expired, nothing chosen.
        for action in (f"lk:c:{world.coop_a}", "lk:r:manager", "lk:zz:1"):
            out = await chat.send(action=action)
            assert "hết hạn" in out.replies[0].text, (who, action)
        # Public menus change nothing.
        for action in ("menu:", "topic:nothing", "xd:no"):
            await chat.send(action=action)
    assert await _snapshot(small_app) == before

    # What a member's own buttons may change is theirs alone.
    chat = Chat(small_app, "other_coop")
    await chat.send(action="lang:en")
    await chat.send(action="contact:")
    after = await _snapshot(small_app)
    assert after["members"]["other_coop"][3] == "en"  # type: ignore[index]
    assert after["members"]["asker"] == before["members"]["asker"]  # type: ignore[index]
    assert after["members"]["other_coop"][4] == "ticket_new"  # type: ignore[index]
    async with small_app.conversation.sessions() as s:
        owners = {t.member_id for t in (await s.execute(select(Ticket))).scalars()}
    assert owners == {world.ids["asker"]}
    out = await chat.send(action="xd:yes")  # erases the presser, nobody else
    assert "erased" in out.replies[0].text  # in the language the presser chose
    remaining = (await _snapshot(small_app))["members"]
    assert "other_coop" not in remaining and set(before["members"]) - set(remaining) == {  # type: ignore[arg-type]
        "other_coop"
    }


async def test_a_refused_button_names_the_refusal_in_the_members_language(
    small_app: App,
) -> None:
    world = await _world(small_app)
    chat = Chat(small_app, "member")
    await chat.send("/ngonngu en")
    out = await chat.send(action=f"lk:ok:{world.ids['pending']}")
    assert "staff" in out.replies[0].text.lower() and "cán bộ" not in out.replies[0].text
