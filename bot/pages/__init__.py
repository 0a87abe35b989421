"""The staff web console: server-rendered pages (Starlette, Jinja2, a little htmx) on the same
app as the webhooks. Every page calls the same operations as chat and the command line
(operations/), checking rights when it runs. Sign-in is by one-time link (``/dangnhap``).

``routes(console)`` is the one hook the web app mounts.
"""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from bot.pages import (
    auth,
    broadcasts,
    coops,
    events,
    journal,
    knowledge,
    overview,
    reports,
    tickets,
)
from bot.pages.base import PREFIX, Console

__all__ = ["Console", "routes"]

STATIC = Path(__file__).parent / "static"


def routes(console: Console) -> list[BaseRoute]:
    found: list[BaseRoute] = [
        Mount(PREFIX + "/static", StaticFiles(directory=STATIC), name="static")
    ]
    for module in (auth, overview, tickets, coops, reports, broadcasts, events, journal, knowledge):
        found += module.routes(console)
    return found
