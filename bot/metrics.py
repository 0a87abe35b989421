"""Prometheus metrics of one worker (``GET /metrics``), every name prefixed ``coopbot_``.

Counters and the histogram are fed by :func:`ground.observe.observe` (the conversation core,
the question handler), by the channels' limiters and transports (messenger API errors), and by
the leadership (which jobs this worker runs). The database gauges (outbox depth, broadcast rows
by state) are read when Prometheus scrapes. The names are listed in README ("Metrics").
"""

from __future__ import annotations

import asyncio
import logging

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ground.observe import subscribe

log = logging.getLogger("coopbot.metrics")

__all__ = ["CONTENT_TYPE", "Metrics", "metrics"]

DB_TIMEOUT = 5.0


def _outcome(handler: object, ok: object) -> str:
    """An update's outcome as a small, fixed set of label values."""
    name = str(handler or "")
    if not ok:
        return "error"
    if name == "duplicate":
        return "duplicate"
    if name in ("", "none"):
        return "ignored"
    if name.endswith(":refused"):
        return "refused"
    return "handled"


class Metrics:
    """The metrics of this process, in their own registry."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.updates = Counter(
            "coopbot_updates",
            "Updates handled, by channel and outcome "
            "(handled, duplicate, ignored, refused, error).",
            ["channel", "outcome"],
            registry=r,
        )
        self.answers = Counter(
            "coopbot_answers",
            "Questions answered from the knowledge base, by result (matched, ambiguous, refused).",
            ["result"],
            registry=r,
        )
        self.handler_seconds = Histogram(
            "coopbot_handler_seconds",
            "Time to handle one update (database included), by channel.",
            ["channel"],
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )
        self.api_errors = Counter(
            "coopbot_messenger_api_errors",
            "Failed messenger API calls, by channel and code "
            "(HTTP or Bot API error code; 'timeout' or 'network' when there was no answer).",
            ["channel", "code"],
            registry=r,
        )
        self.messages_sent = Counter(
            "coopbot_messages_sent",
            "Messages sent to chats by this worker, by channel and kind (reply or bulk).",
            ["channel", "kind"],
            registry=r,
        )
        self.outbox_depth = Gauge(
            "coopbot_outbox_queue_depth",
            "Outbox messages waiting to be sent (notifications, not broadcasts), by channel.",
            ["channel"],
            registry=r,
        )
        self.broadcast_rows = Gauge(
            "coopbot_broadcast_rows",
            "Broadcast rows by state (queued, claimed, sending, sent, failed, skipped).",
            ["state"],
            registry=r,
        )
        self.job_running = Gauge(
            "coopbot_job_running",
            "1 when this worker holds the lock of a background job "
            "(scheduler, <channel>.delivery, <channel>.polling) and runs it.",
            ["job", "worker"],
            registry=r,
        )
        self.database_up = Gauge(
            "coopbot_database_up", "1 when the last scrape reached the database.", registry=r
        )
        subscribe(self.on_event)

    def on_event(self, event: str, fields: dict[str, object]) -> None:
        if event == "update":
            channel = str(fields.get("channel", ""))
            self.updates.labels(channel, _outcome(fields.get("handler"), fields.get("ok"))).inc()
            seconds = fields.get("seconds")
            if isinstance(seconds, float):
                self.handler_seconds.labels(channel).observe(seconds)
        elif event == "answer":
            self.answers.labels(str(fields.get("kind", ""))).inc()
        elif event == "api_error":
            self.api_errors.labels(str(fields.get("channel")), str(fields.get("code"))).inc()
        elif event == "sent":
            self.messages_sent.labels(str(fields.get("channel")), str(fields.get("kind"))).inc()

    def job_changed(self, worker: str) -> object:
        """A ``on_change(job, held)`` callback for :mod:`bot.leader`."""

        def changed(job: str, held: bool) -> None:
            self.job_running.labels(job, worker).set(1 if held else 0)

        return changed

    async def read_database(self, engine: AsyncEngine) -> None:
        """Refresh the gauges that live in the database (two grouped counts)."""
        try:
            async with asyncio.timeout(DB_TIMEOUT), engine.connect() as conn:
                outbox = await conn.execute(
                    text(
                        "SELECT channel, count(*) FROM outbox WHERE broadcast_id IS NULL "
                        "AND status = 'pending' GROUP BY channel"
                    )
                )
                depth = dict(outbox.all())
                states = await conn.execute(
                    text(
                        "SELECT status, count(*) FROM outbox WHERE broadcast_id IS NOT NULL "
                        "GROUP BY status"
                    )
                )
                by_state = dict(states.all())
        except Exception as exc:
            log.warning("metrics: database not reachable: %s", type(exc).__name__)
            self.database_up.set(0)
            return
        self.database_up.set(1)
        for channel in ("telegram", "zalo", "console", *depth):
            self.outbox_depth.labels(channel).set(depth.get(channel, 0))
        for state in ("queued", "claimed", "sending", "sent", "failed", "skipped", *by_state):
            self.broadcast_rows.labels(state).set(by_state.get(state, 0))

    def render(self) -> bytes:
        return generate_latest(self.registry)


_metrics: Metrics | None = None


def metrics() -> Metrics:
    """This process's metrics (created on first use)."""
    global _metrics
    if _metrics is None:
        _metrics = Metrics()
    return _metrics
