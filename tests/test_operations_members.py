"""The member, link, role and ticket operations themselves, as every kind of actor (SQLite and
PostgreSQL): staff and the command line may; a member, a pending member, a member of another
cooperative and staff whose role was removed may not."""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.app import App
from db.models import AuditEntry, Cooperative, Member, OutboxMessage, Ticket, TicketMessage
from operations import Actor, NotPossible, Refused
from operations import members as mops
from operations import tickets as tops
from operations.suggestions import draft_entries

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
ADMINS = frozenset({("console", "boss"), ("telegram", "1000")})
REFUSED = ("member", "pending", "other_coop", "removed_staff")


@dataclass
class World:
    ids: dict[str, int]  # member key → members.id
    coop_a: int
    coop_b: int
    ticket: int


async def _world(app: App) -> World:
    async with app.conversation.sessions() as s:
        coops = []
        for code, name, phone in (("A1", "HTX An Bình", "0912345678"), ("B1", "HTX Bắc", None)):
            c = Cooperative(code=code, name=name, kind="htx", sector="khac", commune="Xã Bắc Hà",
                            commune_code=1, phone=phone, status="active", created_at=NOW,
                            updated_at=NOW)  # fmt: skip
            s.add(c)
            coops.append(c)
        await s.flush()
        a, b = coops
        people = {
            "boss": dict(role="admin"),
            "staff": dict(role="staff"),
            "member": dict(cooperative_id=a.id, coop_role="manager", link_status="approved"),
            "pending": dict(
                cooperative_id=a.id, coop_role="manager", link_status="pending", phone="0912345678"
            ),
            "other_coop": dict(cooperative_id=b.id, coop_role="manager", link_status="approved"),
            "removed_staff": dict(role="member"),  # was staff; /quyen bo took it away
            "asker": dict(),
        }
        ids = {}
        for key, values in people.items():
            m = Member(channel="console", user_id=key, locale="vi", created_at=NOW,
                       opted_out=False, unreachable=False, **values)  # fmt: skip
            s.add(m)
            await s.flush()
            ids[key] = m.id
        ticket = Ticket(member_id=ids["asker"], status="open", question="Cho hỏi về thuế",
                        suggest_kb=False, undeliverable=False, created_at=NOW,
                        updated_at=NOW)  # fmt: skip
        s.add(ticket)
        await s.commit()
        return World(ids, a.id, b.id, ticket.id)


async def _actor(s, world: World, key: str) -> Actor:  # type: ignore[no-untyped-def]
    return Actor.of(await s.get(Member, world.ids[key]))


async def test_deciding_a_link_is_for_staff_and_the_command_line(small_app: App) -> None:
    world = await _world(small_app)
    tr = small_app.conversation.translations
    async with small_app.conversation.sessions() as s:
        for key in REFUSED:
            actor = await _actor(s, world, key)
            with pytest.raises(Refused):
                await mops.decide_link(s, actor, world.ids["pending"], True, translations=tr,
                                       now=NOW)  # fmt: skip
            with pytest.raises(Refused):
                await mops.links_waiting(s, actor)
        assert (await s.get(Member, world.ids["pending"])).link_status == "pending"  # type: ignore[union-attr]
        assert [m.id for m, _ in await mops.links_waiting(s, Actor.cli())] == [world.ids["pending"]]
        done = await mops.decide_link(s, Actor.cli(), world.ids["pending"], True, translations=tr,
                                      now=NOW)  # fmt: skip
        assert done.approved and done.member.link_status == "approved"
        with pytest.raises(NotPossible):  # handled already
            await mops.decide_link(s, await _actor(s, world, "staff"), world.ids["pending"],
                                   False, translations=tr, now=NOW)  # fmt: skip
        await s.commit()
        audit = (await s.execute(select(AuditEntry))).scalar_one()
    assert audit.actor == "cli" and audit.action == "link_approved"


async def test_roles_are_for_admins_listed_now(small_app: App) -> None:
    world = await _world(small_app)
    async with small_app.conversation.sessions() as s:
        for key in (*REFUSED, "staff"):
            actor = await _actor(s, world, key)
            with pytest.raises(Refused):
                await mops.set_staff(s, actor, "console:member", True, admins=ADMINS, now=NOW)
            with pytest.raises(Refused):
                await mops.list_staff(s, actor, ADMINS)
        boss = await _actor(s, world, "boss")
        # A bare id is looked for on the admin's own channel.
        target = await mops.set_staff(s, boss, "member", True, admins=ADMINS, now=NOW)
        assert target.id == world.ids["member"] and target.role == "staff"
        with pytest.raises(NotPossible, match="COOPBOT_ADMINS"):
            await mops.set_staff(s, Actor.cli(), "console:boss", False, admins=ADMINS, now=NOW)
        # Listed admins and staff; an admin no longer in COOPBOT_ADMINS is not listed.
        listed = {m.user_id for m in await mops.list_staff(s, Actor.cli(), ADMINS)}
        assert listed == {"boss", "staff", "member"}
        assert {m.user_id for m in await mops.list_staff(s, Actor.cli(), frozenset())} == {
            "staff",
            "member",
        }


async def test_a_bare_id_on_several_channels_asks_for_the_channel(small_app: App) -> None:
    async with small_app.conversation.sessions() as s:
        for channel in ("console", "telegram"):
            s.add(Member(channel=channel, user_id="42", locale="vi", role="member",
                         created_at=NOW, opted_out=False, unreachable=False))  # fmt: skip
        await s.commit()
        with pytest.raises(NotPossible) as refused:
            await mops.find_person(s, Actor.cli(), "42")
        assert refused.value.values["options"] == "console:42, telegram:42"
        with pytest.raises(NotPossible, match="Chưa có ai"):
            await mops.find_person(s, Actor.cli(), "nobody")
        assert (await mops.find_person(s, Actor.cli(), "Telegram:42")).channel == "telegram"


async def test_a_link_request_is_proven_only_by_a_verified_phone(small_app: App) -> None:
    world = await _world(small_app)
    tr = small_app.conversation.translations
    async with small_app.conversation.sessions() as s:
        asker = await _actor(s, world, "asker")
        args = dict(coop_id=world.coop_a, coop_role="manager", phone="0912345678",
                    translations=tr, admins=ADMINS, now=NOW)  # fmt: skip
        typed = await mops.request_link(s, asker, phone_verified=False, **args)  # type: ignore[arg-type]
        assert not typed.approved and typed.reason == mops.TYPED and typed.staff_told == 2
        assert asker.member and asker.member.link_status == "pending"
        proven = await mops.request_link(s, asker, phone_verified=True, **args)  # type: ignore[arg-type]
        assert proven.approved and asker.member.link_status == "approved"
        with pytest.raises(Refused):
            await mops.request_link(s, Actor.cli(), phone_verified=True, **args)  # type: ignore[arg-type]
        with pytest.raises(NotPossible):
            await mops.request_link(s, asker, phone_verified=True,
                                    **{**args, "coop_id": 999})  # type: ignore[arg-type]  # fmt: skip
        with pytest.raises(Refused):
            await mops.erase_own_data(s, Actor.cli(), NOW)


async def test_ticket_operations_are_for_staff(small_app: App) -> None:
    world = await _world(small_app)
    conv = small_app.conversation
    tr, settings = conv.translations, conv.settings
    async with conv.sessions() as s:
        for key in REFUSED:
            actor = await _actor(s, world, key)
            with pytest.raises(Refused):
                await tops.claim_ticket(s, actor, world.ticket, translations=tr,
                                        settings=settings, now=NOW)  # fmt: skip
            with pytest.raises(Refused):
                await tops.answer_ticket(s, actor, world.ticket, "x", translations=tr, now=NOW)
            with pytest.raises(Refused):
                await tops.close_ticket(s, actor, world.ticket, True, translations=tr, now=NOW)
            with pytest.raises(Refused):
                await tops.open_tickets(s, actor)
            with pytest.raises(Refused):
                await draft_entries(s, actor)
            # Nor can they write into someone else's ticket.
            with pytest.raises(NotPossible):
                await tops.add_member_message(s, actor, world.ticket, "x", translations=tr,
                                              settings=settings, now=NOW)  # fmt: skip
        assert await s.scalar(select(func.count()).select_from(TicketMessage)) == 0
        staff = await _actor(s, world, "staff")
        ticket = await tops.claim_ticket(s, staff, world.ticket, translations=tr,
                                         settings=settings, now=NOW)  # fmt: skip
        assert ticket.claimed_by == world.ids["staff"]
        with pytest.raises(NotPossible):  # another staff member cannot answer it
            await tops.answer_ticket(s, await _actor(s, world, "boss"), world.ticket, "x",
                                     translations=tr, now=NOW)  # fmt: skip
        done = await tops.answer_ticket(s, staff, world.ticket, "Hỏi Chi cục Thuế.",
                                        translations=tr, now=NOW)  # fmt: skip
        assert done.delivered
        await tops.close_ticket(s, Actor.cli(), world.ticket, True, translations=tr, now=NOW)
        (draft,) = await draft_entries(s, Actor.cli())
        assert draft["answer"] == "Hỏi Chi cục Thuế." and draft["questions"] == ["Cho hỏi về thuế"]
        await s.commit()


async def test_removed_staff_cannot_answer_the_ticket_they_claimed(small_app: App) -> None:
    world = await _world(small_app)
    conv = small_app.conversation
    tr, settings = conv.translations, conv.settings
    async with conv.sessions() as s:
        helper = await _actor(s, world, "staff")
        await tops.claim_ticket(s, helper, world.ticket, translations=tr, settings=settings,
                                now=NOW)  # fmt: skip
        await mops.set_staff(s, await _actor(s, world, "boss"), "console:staff", False,
                             admins=ADMINS, now=NOW)  # fmt: skip
        with pytest.raises(Refused):
            await tops.answer_ticket(s, helper, world.ticket, "trả lời", translations=tr, now=NOW)
        # The ticket is free again for staff who still are.
        boss = await _actor(s, world, "boss")
        taken = await tops.claim_ticket(s, boss, world.ticket, translations=tr, settings=settings,
                                        now=NOW)  # fmt: skip
        assert taken.claimed_by == world.ids["boss"]
        await s.commit()
        asker_id = world.ids["asker"]
        told = await s.execute(select(OutboxMessage).where(OutboxMessage.member_id == asker_id))
        assert told.scalars().all() == []
