"""Forged buttons, every prefix the router knows (#16). A client can send any callback data:
each prefix, with the arguments its buttons carry and with hostile ones (other people's ids,
huge, negative and non-ASCII numbers, empty and overlong parts), is pressed by a member, a
pending member, a member of another cooperative and staff whose role was removed. Nothing is
shown that the presser may not see, nothing crashes, and the database changes only in the
presser's own things (their flow, their language, their own question log and reminders).
Both databases."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App
from db.models import Base, Event, Member, Question, Ticket
from knowledge.law import law_text
from tests.conftest import Chat
from tests.test_reports import DEC_1, _cycle, _fill_form, _seed, _text

PRESSERS = ("tu", "pending", "minh", "former")  # member, pending, other cooperative, ex-staff
# Flows only staff may be in, and what a report or ticket flow may point at.
STAFF_FLOWS = {"bc_text", "bc", "bc_when", "event_form", "ticket_staff"}
# What the presser must never be shown: C1's report, another member's ticket, a staff-only
# notice, the pending member's phone.
SECRETS = ("46.000.000", "Chè shan tuyết", "Vay 200 triệu", "XK-7731", "QZ-55", "0987000111")
# Hostile argument tails, tried after every prefix and after every kind of every prefix.
HOSTILE = ("", "x", "-1", "0", "99999999999999999999999", "²", "③", "١٢", "đ", "\u202e1",
           "1:2:3:4:5", ":" * 40, "9" * 400, "%s{0}", "🙂")  # fmt: skip


def _args(w: dict[str, Any]) -> dict[str, list[str]]:
    """Every prefix: the arguments its real buttons carry, with this world's ids."""
    law_key = next(iter(law_text().by_key))
    return {
        "bc": ["to:all", "aud:sector", "ev:0", f"ev:{w['event']}", "send", "sched", "drop",
               f"stop:{w['broadcast']}", "keep", "to:sector:khac", "to:commune:1"],
        "ev": ["list", f"rem:{w['event']}", f"unrem:{w['event']}"],
        "evf": ["save", "drop"],
        "law": [f"{law_key}:0::", f"{law_key}:1:2:a", f"{law_key}:²:³:", f"{law_key}:0:٣:dd"],
        "lawch": ["LQ:1:0", "LQ:²:³", "LQ:1:²", "ND:99999999999:0"],
        "lk": [f"ok:{w['cho']}", f"no:{w['cho']}", f"c:{w['C1']}", "r:manager"],
        "xd": ["no", "yes:1"],
        "kb": [w["entry"]],
        "kb-none": [str(w["question"])],
        "fb": [f"up:{w['question']}", f"dn:{w['question']}"],
        "menu": [""],
        "topic": ["nothing"],
        "lang": ["en", "xx", "vi"],
        "contact": [""],
        "tk": [f"ans:{w['ticket']}", f"close:{w['ticket']}", f"cls:{w['ticket']}",
               f"cls:{w['ticket']}:kb", f"rep:{w['ticket']}", f"leave:{w['ticket']}"],
        "rp": ["view:2026-11", "fix:2026-11", "start:2026-11", "start:", "drop", "send",
               "force", "edit", "sum", "f:revenue", "skip:difficulties", "y:support_received:1",
               "c:certifications:vietgap", "num:revenue:5", "m:certifications:vietgap",
               "view:²⁰²⁶-¹¹", "view:٢٠٢٦-١١"],
        "rps": ["open:2026-11", "open:2026-12", "remind:2026-11", "no", "open:2000-01"],
    }  # fmt: skip


def _actions(prefix: str, w: dict[str, Any]) -> list[str]:
    real = _args(w)[prefix]
    out = [f"{prefix}:{a}" for a in real] + [f"{prefix}:{h}" for h in HOSTILE]
    kinds = {a.partition(":")[0] for a in real if ":" in a}
    out += [f"{prefix}:{k}:{h}" for k in sorted(kinds) for h in HOSTILE]
    return out


async def _world(app: App) -> dict[str, Any]:
    ids: dict[str, Any] = await _seed(app)
    async with app.conversation.sessions() as s:
        for user, fields in {
            "pending": dict(cooperative_id=ids["C1"], coop_role="manager", link_status="pending",
                            phone="0987000111"),
            "former": dict(),  # staff until /quyen bo
            "staff": dict(role="staff"),
        }.items():  # fmt: skip
            values = dict(role="member", opted_out=False, unreachable=False) | fields
            s.add(Member(channel="console", user_id=user, display_name=user.title(), locale="vi",
                         created_at=DEC_1, **values))  # fmt: skip
        s.add(Event(title="Hội chợ nông sản", starts_at=DEC_1.replace(day=20), created_by="cli",
                    created_at=DEC_1, updated_at=DEC_1))  # fmt: skip
        await s.commit()
    lan, hoa, staff = Chat(app, "lan"), Chat(app, "hoa"), Chat(app, "staff")
    await _cycle(app, DEC_1)
    await lan.say("/baocao")
    await _fill_form(lan)
    await lan.send("bỏ qua")
    assert "Đã gửi báo cáo" in _text(await lan.send("1"))
    await hoa.say("/lienhe")
    assert "#" in await hoa.say("Mã hồ sơ thuế XK-7731 của HTX")
    await hoa.say("/huy")
    await hoa.say("Thành viên góp vốn bao nhiêu?")  # a question hoa asked: fb:, kb-none:
    await staff.say("/thongbao Họp nội bộ QZ-55")
    await staff.send(action="bc:ev:0")
    await staff.send(action="bc:to:all")
    assert "#" in _text(await staff.send(action="bc:send"))
    await staff.say("/thongbao Bản nháp QZ-55")  # a draft in progress
    async with app.conversation.sessions() as s:
        for user in ("cho", "hoa", "tu", "pending", "minh", "former"):
            ids[user] = (await s.execute(select(Member.id).where(Member.user_id == user))).scalar()
        ids["ticket"] = (await s.execute(select(Ticket.id))).scalar()
        ids["question"] = (await s.execute(select(Question.id))).scalar()
        ids["event"] = (await s.execute(select(Event.id))).scalar()
        ids["broadcast"] = (
            await s.execute(select(Base.metadata.tables["broadcasts"].c.id))
        ).scalar()
    ids["entry"] = next(iter(app.conversation.kb.entries))
    assert None not in ids.values(), ids
    return ids


async def _dump(app: App) -> dict[str, set[tuple[Any, ...]]]:
    """Every row of every table."""
    out = {}
    async with app.conversation.sessions() as s:
        for table in Base.metadata.sorted_tables:
            rows = (await s.execute(select(table))).all()
            out[table.name] = {tuple(repr(v) for v in r) for r in rows}
    return out


OWN_MEMBER_COLUMNS = {"flow", "flow_data", "pending_actions", "last_seen_at", "locale"}


def _foreign_changes(before: dict, after: dict, presser_id: int) -> list[str]:  # type: ignore[type-arg]
    """Changed rows that are not the presser's own."""
    problems = []
    for name, table in Base.metadata.tables.items():
        cols = [c.name for c in table.columns]
        gone, new = before[name] - after[name], after[name] - before[name]
        for row in gone | new:
            rec = dict(zip(cols, row, strict=True))
            if name == "members" and rec["id"] == repr(presser_id):
                others = [r for r in (gone | new) - {row} if r[0] == row[0]]
                diff = {c for r in others for c, a, b in zip(cols, row, r, strict=True) if a != b}
                if diff <= OWN_MEMBER_COLUMNS:
                    continue
            if name in ("questions", "event_reminders") and rec["member_id"] == repr(presser_id):
                continue
            problems.append(f"{name}: {'added' if row in new else 'removed'} {rec}")
    return problems


PREFIXES = ("bc", "ev", "evf", "law", "lawch", "lk", "xd", "kb", "kb-none", "fb", "menu", "topic",
            "lang", "contact", "tk", "rp", "rps")  # fmt: skip


def test_every_prefix_is_tried() -> None:
    """A prefix added to the router without attack arguments here fails."""
    from bot.app import build_router

    stand_in = dict.fromkeys(("event", "broadcast", "cho", "C1", "entry", "question", "ticket"), 1)
    assert set(build_router()._actions) == set(PREFIXES) == set(_args(stand_in))


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_forged_button_shows_nothing_and_changes_nothing_else(app: App, prefix: str) -> None:
    w = await _world(app)
    actions = _actions(prefix, w)
    for who in PRESSERS:
        chat = Chat(app, who)
        before = await _dump(app)
        for action in actions:
            out = await chat.send(action=action)
            text = _text(out)
            assert out.error_id is None, (who, action)
            assert not any(s in text for s in SECRETS), (who, action, text)
            async with app.conversation.sessions() as s:
                me = (await s.execute(select(Member).where(Member.user_id == who))).scalar_one()
            assert me.flow not in STAFF_FLOWS, (who, action, me.flow)
            assert me.role == "member" and me.cooperative_id in (None, w["C1"], w["C2"])
            if me.flow == "report":
                assert me.flow_data and me.flow_data.get("coop") == w["C2"], (who, action)
                assert who == "minh"  # the approved manager of C2 may start C2's own report
            if me.flow and me.flow.startswith("ticket") and (me.flow_data or {}).get("ticket"):
                assert me.flow_data["ticket"] != w["ticket"], (who, action)  # type: ignore[index]
        problems = _foreign_changes(before, await _dump(app), w[who])
        assert not problems, (who, problems[:5])


async def test_hostile_command_arguments_and_typed_numbers_never_crash(app: App) -> None:
    """Every command, with each hostile argument, typed by an admin and by a member; and a
    superscript or non-ASCII digit typed where a numbered channel expects a button's number."""
    await _world(app)
    commands = sorted({c.name for c in app.conversation.router.commands} - {"xoadulieu"})
    for who in ("boss", "tu"):
        chat = Chat(app, who)
        for name in commands:
            for arg in (*HOSTILE, "2000-01", "-5", "#²", "1e9"):
                out = await chat.send(f"/{name} {arg}")
                assert out.error_id is None, (who, name, arg)
                await chat.send("/huy")
    chat = Chat(app, "tu")
    await chat.send("/menu")  # buttons shown as numbers on the console
    for typed in ("²", "③", "١", "99999999999999999999999", "-1", "0"):
        assert (await chat.send(typed)).error_id is None, typed


async def _demote(app: App, user: str) -> None:
    assert "Đã bỏ quyền" in await Chat(app, "boss").say(f"/quyen bo console:{user}")


async def test_staff_removed_mid_flow_finish_no_staff_flow(app: App) -> None:
    """Each multi-step staff flow, started as staff and finished after /quyen bo: the last step
    (button or text) is refused and changes nothing another person would see."""
    w = await _world(app)
    boss = Chat(app, "boss")
    await boss.say("/start")
    steps: dict[str, tuple[list[tuple[str | None, str | None]], tuple[str | None, str | None]]] = {
        # name: (steps while staff, the step after removal) as (text, action)
        "broadcast": ([("/thongbao Họp QZ-55", None), (None, "bc:ev:0"), (None, "bc:to:all")],
                      (None, "bc:send")),
        "schedule": ([("/thongbao Họp QZ-55", None), (None, "bc:ev:0"), (None, "bc:to:all"),
                      (None, "bc:sched")], ("20/12/2026 08:00", None)),
        "stop": ([(f"/huythongbao {w['broadcast']}", None)], (None, f"bc:stop:{w['broadcast']}")),
        "event": ([("/themsukien", None), ("Hội chợ mới", None), ("20/12/2026", None)]
                  + [("bỏ qua", None)] * 7, (None, "evf:save")),
        "open": ([("/mobaocao 2026-10", None)], ("1", None)),
        "ticket": ([(None, f"tk:ans:{w['ticket']}")], ("Trả lời của người đã mất quyền", None)),
        "close": ([(None, f"tk:close:{w['ticket']}")], (None, f"tk:cls:{w['ticket']}:kb")),
        "approve": ([("/duyet", None)], (None, f"lk:ok:{w['cho']}")),
    }  # fmt: skip
    for name, (before_steps, last) in steps.items():
        user = f"s_{name}"
        await Chat(app, user).say("/start")
        assert "Đã cấp quyền" in await boss.say(f"/quyen them console:{user}")
        chat = Chat(app, user)
        for text, action in before_steps:
            out = await chat.send(text, action=action)
            assert out.error_id is None and "chỉ dành" not in _text(out), (name, text, action)
        await _demote(app, user)
        snapshot = await _dump(app)
        text, action = last
        out = await chat.send(text, action=action)
        assert out.error_id is None, name
        assert "cán bộ" in _text(out), (name, _text(out))  # says why: no longer staff
        problems = _foreign_changes(snapshot, await _dump(app), await _id(app, user))
        assert not problems, (name, problems[:3])


async def _id(app: App, user: str) -> int:
    async with app.conversation.sessions() as s:
        return (await s.execute(select(Member.id).where(Member.user_id == user))).scalar_one()


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_hostile_arguments_from_an_admin_crash_nothing_and_change_nothing(
    app: App, prefix: str
) -> None:
    """Staff may press every button; hostile arguments still reach no row and no crash."""
    w = await _world(app)
    boss = Chat(app, "boss")
    await boss.say("/start")
    real = set(_args(w)[prefix])
    # "1:2:3:4:5" after a kind names row 1, which exists here: that press is a real one.
    hostile = [a for a in _actions(prefix, w)
               if a.partition(":")[2] not in real and not a.endswith(":1:2:3:4:5")]  # fmt: skip
    before = await _dump(app)
    for action in hostile:
        out = await boss.send(action=action)
        assert out.error_id is None, action
    problems = _foreign_changes(before, await _dump(app), await _id(app, "boss"))
    assert not problems, problems[:5]
