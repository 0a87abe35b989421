"""The staff web console's security: sign-in by one-time link, sessions, roles read on every
request, CSRF, escaping (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from bot.app import App
from db import web_access
from db.models import AuditEntry, Member, OutboxMessage, Ticket, WebSession
from operations import Actor
from operations import tickets as ticket_ops
from tests.conftest import Chat, Clock
from tests.console_client import client, csrf, link_from_chat, sign_in

PAGES = ["/console/", "/console/tickets", "/console/sessions"]


async def test_without_a_session_every_page_sends_to_sign_in(small_app: App) -> None:
    async with client(small_app) as http:
        for path in PAGES:
            r = await http.get(path)
            assert r.status_code == 303 and r.headers["location"] == "/console/signin"
        r = await http.post("/console/tickets/1/close", data={"csrf": "x"})
        assert r.status_code == 303
        http.cookies.set("coopbot_console", "forged-token-value", path="/console")
        r = await http.get("/console/")
        assert r.status_code == 303  # an unknown cookie is no session
        r = await http.get("/console/signin")
        assert r.status_code == 200 and "/dangnhap" in r.text


async def test_a_member_gets_no_link_and_a_members_session_gets_403(
    small_app: App, clock: Clock
) -> None:
    member = Chat(small_app, "farmer")
    text = await member.say("/dangnhap")
    assert "/console/signin/" not in text
    # A session made for a member anyway (as if forged into the database): still refused.
    async with small_app.conversation.sessions() as s:
        row = (await s.execute(select(Member).where(Member.user_id == "farmer"))).scalar_one()
        web_access.add_session(s, row.id, "member-token", clock(), clock() + timedelta(hours=1))
        await s.commit()
    async with client(small_app) as http:
        http.cookies.set("coopbot_console", "member-token", path="/console")
        for path in PAGES:
            assert (await http.get(path)).status_code == 403


async def test_a_link_works_once_and_sets_a_careful_cookie(small_app: App) -> None:
    boss = Chat(small_app, "boss")
    path = await link_from_chat(boss)
    async with client(small_app) as http:
        r = await http.get(path)  # a chat app's preview opens it: not used by that
        assert r.status_code == 200 and 'method="post"' in r.text
        r = await http.post(path)
        assert r.status_code == 303
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
        assert "max-age=28800" in cookie and "path=/console" in cookie
        assert (await http.get("/console/")).status_code == 200
    async with client(small_app) as other:
        r = await other.post(path)  # the same link again
        assert r.status_code == 400 and "đã được dùng hoặc đã hết hạn" in r.text
        assert "set-cookie" not in r.headers


async def test_an_expired_link_is_refused(small_app: App, clock: Clock) -> None:
    path = await link_from_chat(Chat(small_app, "boss"))
    clock.now += timedelta(minutes=10, seconds=1)
    async with client(small_app) as http:
        r = await http.post(path)
        assert r.status_code == 400 and "set-cookie" not in r.headers
        assert (await http.post("/console/signin/not-a-real-token")).status_code == 400


async def test_sessions_end_after_eight_hours(small_app: App, clock: Clock) -> None:
    async with client(small_app) as http:
        await sign_in(http, Chat(small_app, "boss"))
        clock.now += timedelta(hours=8, seconds=1)
        assert (await http.get("/console/")).status_code == 303


async def test_cookie_is_secure_behind_https(small_app: App) -> None:
    small_app.settings = replace(small_app.settings, public_url="https://coop.example.vn")
    path = await link_from_chat(Chat(small_app, "boss"))
    async with client(small_app) as http:
        r = await http.post(path)
        assert "secure" in r.headers["set-cookie"].lower()


async def test_a_post_without_the_right_csrf_token_is_refused(small_app: App, clock: Clock) -> None:
    member = Chat(small_app, "farmer")
    await member.send("/start")
    async with small_app.conversation.sessions() as s:
        row = (await s.execute(select(Member).where(Member.user_id == "farmer"))).scalar_one()
        ticket = await ticket_ops.open_ticket(s, Actor.of(row), "giá phân bón?",
                                              translations=small_app.translations,
                                              settings=small_app.settings, now=clock())  # fmt: skip
        await s.commit()
    tid = ticket.ticket.id
    async with client(small_app) as http:
        await sign_in(http, Chat(small_app, "boss"))
        token = await csrf(http)
        r = await http.post(f"/console/tickets/{tid}/close")
        assert r.status_code == 403
        r = await http.post(
            f"/console/tickets/{tid}/close",
            data={"csrf": token[:-1] + ("1" if token[-1] == "0" else "0")},
        )
        assert r.status_code == 403
        async with small_app.conversation.sessions() as s:
            assert (await s.get(Ticket, tid)).status == "open"  # nothing happened
        r = await http.post(f"/console/tickets/{tid}/close", data={"csrf": token})
        assert r.status_code == 200 and f"Đã đóng yêu cầu #{tid}" in r.text


async def test_member_text_is_escaped_and_an_answer_reaches_the_member(
    small_app: App, clock: Clock
) -> None:
    member = Chat(small_app, "farmer")
    await member.send("/start")
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    async with small_app.conversation.sessions() as s:
        row = (await s.execute(select(Member).where(Member.user_id == "farmer"))).scalar_one()
        row.display_name = "<b>Ông Ba</b>"
        sent = await ticket_ops.open_ticket(s, Actor.of(row), evil,
                                            translations=small_app.translations,
                                            settings=small_app.settings, now=clock())  # fmt: skip
        await s.commit()
    tid = sent.ticket.id
    async with client(small_app) as http:
        await sign_in(http, Chat(small_app, "boss"))
        r = await http.get("/console/tickets")
        assert "<script>alert" not in r.text and "<img src=x" not in r.text
        assert "&lt;script&gt;" in r.text and "&lt;b&gt;Ông Ba&lt;/b&gt;" in r.text
        token = await csrf(http, "/console/tickets")
        r = await http.post(f"/console/tickets/{tid}/answer",
                            data={"csrf": token, "text": "Giá niêm yết ở xã."})  # fmt: skip
        assert r.status_code == 200 and f"Đã gửi câu trả lời cho yêu cầu #{tid}" in r.text
    async with small_app.conversation.sessions() as s:
        stmt = select(OutboxMessage.text).join(Member, Member.id == OutboxMessage.member_id)
        texts = (await s.execute(stmt.where(Member.user_id == "farmer"))).scalars().all()
    assert any("Giá niêm yết ở xã." in x for x in texts)


async def test_staff_removed_lose_the_console_on_the_next_request(small_app: App) -> None:
    boss, helper = Chat(small_app, "boss"), Chat(small_app, "helper")
    await helper.send("/start")
    assert "helper" in await boss.say("/quyen them console:helper")
    async with client(small_app) as http:
        await sign_in(http, helper)
        assert (await http.get("/console/tickets")).status_code == 200
        assert (await http.get("/console/sessions")).status_code == 403  # admins only
        await boss.say("/quyen bo console:helper")
        assert (await http.get("/console/tickets")).status_code == 403


async def test_sign_out_and_sign_out_everywhere(small_app: App) -> None:
    boss, helper = Chat(small_app, "boss"), Chat(small_app, "helper")
    await helper.send("/start")
    await boss.say("/quyen them console:helper")
    async with client(small_app) as mine, client(small_app) as theirs:
        await sign_in(mine, boss)
        await sign_in(theirs, helper)
        token = await csrf(mine, "/console/sessions")
        r = await mine.post("/console/sessions", data={"csrf": token})
        assert r.status_code == 200
        assert (await theirs.get("/console/")).status_code == 303
        assert (await mine.get("/console/")).status_code == 303  # everyone: me too
        await sign_in(mine, boss)
        token = await csrf(mine)
        r = await mine.post("/console/signout", data={"csrf": token})
        assert r.status_code == 303 and r.headers["location"] == "/console/signin"
    async with small_app.conversation.sessions() as s:
        rows = (await s.execute(select(WebSession))).scalars().all()
        assert rows and all(r.revoked_at is not None for r in rows)
        actions = set((await s.execute(select(AuditEntry.action))).scalars())
    assert {
        "web_link_created",
        "web_signed_in",
        "web_signed_out_everywhere",
        "web_signed_out",
    } <= actions


async def test_staff_who_chose_english_get_the_console_in_english(small_app: App) -> None:
    boss = Chat(small_app, "boss")
    async with small_app.conversation.sessions() as s:
        await boss.send("/start")
        row = (await s.execute(select(Member).where(Member.user_id == "boss"))).scalar_one()
        row.locale = "en"
        await s.commit()
    async with client(small_app) as http:
        await sign_in(http, boss)
        r = await http.get("/console/")
        assert '<html lang="en">' in r.text and "Overview" in r.text and "Sign out" in r.text
        assert "Tổng quan" not in r.text
