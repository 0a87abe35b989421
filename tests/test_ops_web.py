"""``GET /metrics`` (Prometheus, token-protected when configured) and ``GET /readyz``."""

from __future__ import annotations

import re

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import App
from bot.channels.budget import SharedTelegramLimiter
from bot.metrics import metrics
from bot.ops_web import ops_routes
from bot.web import create_web_app
from tests.conftest import Chat

TOKEN = "s3cret-metrics-token-0123"

# Every name README's "Metrics" table documents (counters as exposed, with _total).
DOCUMENTED = {
    "coopbot_updates_total",
    "coopbot_answers_total",
    "coopbot_handler_seconds",
    "coopbot_messenger_api_errors_total",
    "coopbot_messages_sent_total",
    "coopbot_outbox_queue_depth",
    "coopbot_broadcast_rows",
    "coopbot_job_running",
    "coopbot_database_up",
}


def _client(app: App, token: str | None = None) -> httpx.AsyncClient:
    routes = ops_routes(app.engine, lambda: ["scheduler", "telegram.delivery"], metrics_token=token)
    web = create_web_app(app.engine, app.kb, extra_routes=routes)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://test")


def _samples(body: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


async def test_metrics_are_scraped_with_their_documented_names(small_app: App) -> None:
    chat = Chat(small_app, "metrics-user", channel="console")
    before = _samples((await _scrape(small_app)).text)
    await chat.say("thành lập hợp tác xã cần bao nhiêu thành viên")
    await chat.say("qwxz blorp zzyzx")
    metrics().job_changed("host:1")("telegram.delivery", True)  # type: ignore[operator]
    await _telegram_calls()

    response = await _scrape(small_app)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    body = response.text
    samples = _samples(body)
    names = {re.sub(r"_(bucket|count|sum|created)$", "", n) for n in samples}
    assert DOCUMENTED <= names | {n.removesuffix("_total") + "_total" for n in names}
    assert all(n.startswith("coopbot_") for n in names)

    def value(name: str, **labels: str) -> float:
        return sum(v for lab, v in samples.get(name, []) if labels.items() <= lab.items())

    def before_value(name: str, **labels: str) -> float:
        return sum(v for lab, v in before.get(name, []) if labels.items() <= lab.items())

    handled = value("coopbot_updates_total", channel="console", outcome="handled")
    assert handled - before_value("coopbot_updates_total", channel="console") >= 2
    answered = sum(value("coopbot_answers_total", result=r) for r in ("matched", "refused"))
    assert answered >= 2
    assert value("coopbot_handler_seconds_count", channel="console") >= 2
    assert value("coopbot_job_running", job="telegram.delivery", worker="host:1") == 1
    assert value("coopbot_database_up") == 1
    assert value("coopbot_messenger_api_errors_total", channel="telegram", code="403") >= 1
    assert value("coopbot_messages_sent_total", channel="telegram", kind="reply") >= 1
    states = {lab["state"] for lab, _ in samples["coopbot_broadcast_rows"]}
    assert {"queued", "sending", "sent", "failed"} <= states


async def _telegram_calls() -> None:
    """One message sent and one refused (403) through the limiter every Telegram call takes."""
    from telegram.error import Forbidden

    limiter = SharedTelegramLimiter(None, private_interval=0)

    async def ok(*args: object) -> dict[str, object]:
        return {"ok": True}

    async def blocked(*args: object) -> dict[str, object]:
        raise Forbidden("bot was blocked by the user")

    await limiter.process_request(ok, (), {}, "sendMessage", {"chat_id": 7}, None)
    with pytest.raises(Forbidden):
        await limiter.process_request(blocked, (), {}, "sendMessage", {"chat_id": 8}, None)


async def _scrape(app: App, token: str | None = None) -> httpx.Response:
    async with _client(app) as client:
        return await client.get("/metrics")


async def test_metrics_need_the_token_when_one_is_set(small_app: App) -> None:
    async with _client(small_app, TOKEN) as client:
        assert (await client.get("/metrics")).status_code == 403
        wrong = {"Authorization": "Bearer not-the-token-at-all"}
        assert (await client.get("/metrics", headers=wrong)).status_code == 403
        basic = {"Authorization": f"Basic {TOKEN}"}
        assert (await client.get("/metrics", headers=basic)).status_code == 403
        ok = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200 and "coopbot_updates_total" in ok.text
        # Health and readiness stay open (load balancers do not send tokens).
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 200


async def test_readyz_checks_the_database_and_names_the_jobs(small_app: App) -> None:
    async with _client(small_app) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    report = response.json()
    assert report["database"] == "ok"
    assert report["jobs"] == ["scheduler", "telegram.delivery"]
    assert ":" in report["worker"]


async def test_readyz_fails_when_the_database_is_gone(small_app: App) -> None:
    from db.session import create_engine

    broken = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    web = create_web_app(small_app.engine, small_app.kb, extra_routes=ops_routes(broken))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://test"
    ) as client:
        response = await client.get("/readyz")
    await broken.dispose()
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
