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
    HMAC-SHA256 under ``key``. Links expire after ``ttl`` seconds. Only files whose real path
    lies under ``root``, the folder exports are written to, are served: a validly signed token
    for any other file (``/etc/passwd``, a symlink out of the folder) is refused.
    """

    PATH = "/files"

    def __init__(
        self,
        key: bytes,
        public_url: str,
        *,
        root: Path,
        ttl: float = 24 * 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = key
        # Only files under this folder (where exports are written) are ever served.
        self.root = Path(root).resolve()
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
        if self.inside_root(path) is None:
            log.warning("file link to a file outside the export folder: it will not be served")
        return f"{self.public_url}{self.PATH}/{self.token_for(path, filename)}"

    def resolve(self, token: str) -> tuple[Path, str] | None:
        """The file and download name of a valid, unexpired token whose file lies under
        ``root`` (its real path: a symlink pointing out of the folder is refused); else None."""
        payload, dot, signature = token.partition(".")
        if not dot or not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            return None
        try:
            path, filename, expires = json.loads(_unb64(payload))
        except (ValueError, TypeError, RecursionError):
            return None
        if not isinstance(expires, int) or expires < self._clock():
            return None
        if not isinstance(path, str) or not isinstance(filename, str):
            return None
        inside = self.inside_root(Path(path))
        return (inside, filename) if inside is not None else None

    def inside_root(self, path: Path) -> Path | None:
        """The real path of ``path`` when it lies under the export folder, else None."""
        try:
            real = path.resolve(strict=False)
        except (OSError, RuntimeError, ValueError):
            return None
        if real == self.root or not real.is_relative_to(self.root):
            return None
        return real


def files_endpoint(links: FileLinks) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        found = links.resolve(request.path_params["token"])
        if found is None:
            return PlainTextResponse("link expired or not valid", status_code=404)
        path, filename = found  # a real path under the export folder
        if not await asyncio.to_thread(path.is_file):
            return PlainTextResponse("file no longer available", status_code=404)
        return FileResponse(path, filename=filename)

    return endpoint


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refused (:class:`_TooLarge`) as soon as it passes ``limit`` bytes:
    a declared ``Content-Length`` over the limit is refused before reading anything, and a
    streamed body stops being read at the limit."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.strip().isascii() and declared.strip().isdigit()):
            raise _TooLarge  # not a length: refuse rather than guess
        if int(declared) > limit:
            raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def webhook_endpoint(hook: Webhook) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        if not _secret_ok(request.headers.get(hook.secret_header), hook.secret):
            log.warning("webhook %s: wrong or missing secret, refused", hook.path)
            return PlainTextResponse("forbidden", status_code=403)
        try:
            body = await _read_body(request, MAX_BODY)
        except _TooLarge:
            return PlainTextResponse("too large", status_code=413)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: nested too deep ("[" * 10**5)
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
    pages: Sequence[BaseRoute] = (),
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """The ASGI app serving ``webhooks``, ``GET /healthz``, with ``files`` the signed
    download links of ``GET /files/<token>``, ``pages`` (the staff console) and
    ``extra_routes`` (``/metrics`` and ``/readyz``, bot/ops_web.py)."""

    async def healthz(request: Request) -> Response:
        ok, report = await health(engine, kb)
        return JSONResponse(report, status_code=200 if ok else 503)

    routes: list[BaseRoute] = [Route("/healthz", healthz, methods=["GET"]), *extra_routes]
    routes += [Route(h.path, webhook_endpoint(h), methods=["POST"]) for h in webhooks]
    if files is not None:
        routes.append(Route(FileLinks.PATH + "/{token}", files_endpoint(files), methods=["GET"]))
    routes += pages  # the staff web console (bot/pages), when the caller mounts it
    return Starlette(routes=routes)
