"""Events worth counting, reported by any floor and counted by whoever listens.

A lower floor (the conversation core, the question handler) cannot import the metrics of
``bot/`` above it; it calls :func:`observe` instead, and ``bot/metrics.py`` subscribes. With no
listener an observation costs one empty loop. A listener that fails is ignored: counting never
breaks the work it counts.
"""

from __future__ import annotations

from collections.abc import Callable

Listener = Callable[[str, dict[str, object]], None]

_listeners: list[Listener] = []


def subscribe(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def unsubscribe(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def observe(event: str, **fields: object) -> None:
    """Tell the listeners that ``event`` happened (no personal data in ``fields``)."""
    for listener in list(_listeners):
        try:
            listener(event, fields)
        except Exception:  # counting must never break the work it counts
            pass
