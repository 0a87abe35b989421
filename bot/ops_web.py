"""The operator's routes of the web app: ``GET /metrics`` (Prometheus) and ``GET /readyz``.

``/metrics`` requires ``Authorization: Bearer <COOPBOT_METRICS_TOKEN>`` when that setting is
set (403 otherwise). ``/readyz`` checks the database and names the background jobs this worker
runs (bot/leader.py): 200 when the database answers, 503 when not. ``/healthz`` (bot/web.py)
stays the cheap liveness check.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable, Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.leader import worker_name
from bot.metrics import CONTENT_TYPE, metrics

log = logging.getLogger("coopbot.web")

DB_TIMEOUT = 5.0


def _authorised(request: Request, token: str | None) -> bool:
    if not token:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def ops_routes(
    engine: AsyncEngine,
    jobs: Callable[[], Sequence[str]] = list,
    *,
    metrics_token: str | None = None,
) -> list[Route]:
    """``/metrics`` and ``/readyz`` for :func:`bot.web.create_web_app`; ``jobs()`` names the
    background jobs this worker runs now."""
    m = metrics()

    async def metrics_endpoint(request: Request) -> Response:
        if not _authorised(request, metrics_token):
            return PlainTextResponse("forbidden", status_code=403)
        await m.read_database(engine)
        return Response(m.render(), media_type=CONTENT_TYPE)

    async def readyz(request: Request) -> Response:
        report: dict[str, object] = {
            "status": "ok",
            "database": "ok",
            "worker": worker_name(),
            "jobs": list(jobs()),
        }
        try:
            async with asyncio.timeout(DB_TIMEOUT), engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            log.warning("readyz: database not reachable: %s", type(exc).__name__)
            report.update(status="error", database="unreachable")
            return JSONResponse(report, status_code=503)
        return JSONResponse(report)

    return [
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
