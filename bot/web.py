"""The one ASGI app (Starlette): channel webhooks, ``GET /healthz`` and ``GET /files/<token>``.

Each channel contributes a :class:`Webhook` (Telegram, Zalo): a path, the header that carries
the shared secret, the secret, and a coroutine that accepts the decoded JSON body. A request
without the right secret gets 403 and is not processed.

Channels that cannot upload files (Zalo) send a link made by :class:`FileLinks` instead: an
HMAC-signed token naming the file and when the link expires, so every worker can check it
without shared state.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

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


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FileLinks:
    """Short-lived download links for local files, served by ``GET /files/<token>``.

    The token is ``<payload>.<signature>``: the payload (base64url JSON) holds the file's path,
    the name to download it as and the expiry time (Unix seconds); the signature is its
    HMAC-SHA256 under ``key``. Links expire after ``ttl`` seconds.
    """

    PATH = "/files"

    def __init__(
        self,
        key: bytes,
        public_url: str,
        ttl: float = 24 * 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = key
        self.public_url = public_url.rstrip("/")
        self.ttl = ttl
        self._clock = clock

    @classmethod
    def from_secret(cls, secret: str, public_url: str, **kwargs: Any) -> FileLinks:
        """Links signed with a key derived from ``secret`` (a bot token): every worker that
        has the token agrees on the key without extra configuration."""
        key = hmac.new(secret.encode(), b"coopbot file links", hashlib.sha256).digest()
        return cls(key, public_url, **kwargs)

    @property
    def ttl_hours(self) -> int:
        return max(1, round(self.ttl / 3600))

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def token_for(self, path: Path, filename: str) -> str:
        expires = int(self._clock() + self.ttl)
        payload = _b64(json.dumps([str(path), filename, expires]).encode())
        return f"{payload}.{self._sign(payload)}"

    def url_for(self, path: Path, filename: str) -> str:
        return f"{self.public_url}{self.PATH}/{self.token_for(path, filename)}"

    def resolve(self, token: str) -> tuple[Path, str] | None:
        """The file and download name of a valid, unexpired token; else None."""
        payload, dot, signature = token.partition(".")
        if not dot or not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            return None
        try:
            path, filename, expires = json.loads(_unb64(payload))
        except (ValueError, TypeError):
            return None
        if not isinstance(expires, int) or expires < self._clock():
            return None
        return Path(path), str(filename)


def files_endpoint(links: FileLinks) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        found = links.resolve(request.path_params["token"])
        if found is None:
            return PlainTextResponse("link expired or not valid", status_code=404)
        path, filename = found
        if not await asyncio.to_thread(path.is_file):
            return PlainTextResponse("file no longer available", status_code=404)
        return FileResponse(path, filename=filename)

    return endpoint


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
    engine: AsyncEngine,
    kb: KnowledgeStore,
    webhooks: Sequence[Webhook] = (),
    files: FileLinks | None = None,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """The ASGI app serving ``webhooks``, ``GET /healthz`` and, with ``files``, the signed
    download links of ``GET /files/<token>``."""

    async def healthz(request: Request) -> Response:
        ok, report = await health(engine, kb)
        return JSONResponse(report, status_code=200 if ok else 503)

    routes: list[BaseRoute] = [Route("/healthz", healthz, methods=["GET"]), *extra_routes]
    routes += [Route(h.path, webhook_endpoint(h), methods=["POST"]) for h in webhooks]
    if files is not None:
        routes.append(Route(FileLinks.PATH + "/{token}", files_endpoint(files), methods=["GET"]))
    return Starlette(routes=routes)
