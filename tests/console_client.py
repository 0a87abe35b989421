"""Helpers for the web console's tests: an HTTP client on the app (in the test's own event
loop), signing in through /dangnhap like staff do, the CSRF token of a page."""

from __future__ import annotations

import re

import httpx

from bot.app import App
from bot.pages import routes
from bot.web import create_web_app
from tests.conftest import Chat

LINK = re.compile(r"https?://\S+(/console/signin/[A-Za-z0-9_\-]+)")
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def client(app: App) -> httpx.AsyncClient:
    web = create_web_app(app.engine, app.kb, pages=routes(app.console()))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://testserver")


async def link_from_chat(chat: Chat) -> str:
    """The path of the sign-in link ``/dangnhap`` gives ``chat`` (fails when refused)."""
    text = await chat.say("/dangnhap")
    found = LINK.search(text)
    assert found, text
    return found.group(1)


async def sign_in(http: httpx.AsyncClient, chat: Chat) -> None:
    path = await link_from_chat(chat)
    r = await http.post(path)
    assert r.status_code == 303 and r.headers["location"] == "/console/", r.text


async def csrf(http: httpx.AsyncClient, path: str = "/console/") -> str:
    r = await http.get(path)
    assert r.status_code == 200, r.text
    found = CSRF.search(r.text)
    assert found
    return found.group(1)
