"""Commands whose features are not built yet. They say so honestly and offer a way forward."""

from __future__ import annotations

from handlers.router import Router


def register(router: Router) -> None:
    """None at the moment (/sukien is in handlers/events.py)."""
