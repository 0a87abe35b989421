"""The one ASGI app (Starlette): channel webhooks and ``GET /healthz``.

Each channel contributes a :class:`Webhook` (Telegram now, Zalo later): a path, the header
that carries the shared secret, the secret, and a coroutine that accepts the decoded JSON
body. A request without the right secret gets 403 and is not processed.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from knowledge.base import KnowledgeStore

log = logging.getLogger("coopbot.web")

MAX_BODY = 1 << 20  # Telegram updates are a few kilobytes
DB_TIMEOUT = 5.0


@dataclass(frozen=True)
class Webhook:
    path: str
    secret_header: str
    secret: str
    accept: Callable[[Any], Awaitable[None]]


def _secret_ok(given: str | None, expected: str) -> bool:
    if not given:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def webhook_endpoint(hook: Webhook) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        if not _secret_ok(request.headers.get(hook.secret_header), hook.secret):
            log.warning("webhook %s: wrong or missing secret, refused", hook.path)
            return PlainTextResponse("forbidden", status_code=403)
        body = await request.body()
        if len(body) > MAX_BODY:
            return PlainTextResponse("too large", status_code=413)
        try:
            data = json.loads(body)
        except ValueError:
            return PlainTextResponse("not JSON", status_code=400)
        try:
            await hook.accept(data)
        except Exception:
            log.exception("webhook %s: update not accepted", hook.path)
            return PlainTextResponse("error", status_code=500)
        return PlainTextResponse("ok")

    return endpoint


async def health(engine: AsyncEngine, kb: KnowledgeStore) -> tuple[bool, dict[str, Any]]:
    """Database reachable, knowledge entries loaded; the outbox does not exist yet (null)."""
    report: dict[str, Any] = {
        "status": "ok",
        "database": "ok",
        "knowledge_entries": len(kb.entries),
        "outbox": None,
    }
    try:
        async with asyncio.timeout(DB_TIMEOUT), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        log.warning("health: database not reachable: %s", type(exc).__name__)
        report["status"] = "error"
        report["database"] = "unreachable"
        return False, report
    return True, report


def create_web_app(
    engine: AsyncEngine, kb: KnowledgeStore, webhooks: Sequence[Webhook] = ()
) -> Starlette:
    """The ASGI app serving ``webhooks`` and ``GET /healthz``."""

    async def healthz(request: Request) -> Response:
        ok, report = await health(engine, kb)
        return JSONResponse(report, status_code=200 if ok else 503)

    routes = [Route("/healthz", healthz, methods=["GET"])]
    routes += [Route(h.path, webhook_endpoint(h), methods=["POST"]) for h in webhooks]
    return Starlette(routes=routes)
