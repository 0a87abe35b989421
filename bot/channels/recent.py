"""Update ids a channel has seen lately, to answer an update delivered twice only once."""

from __future__ import annotations

from collections import OrderedDict


class RecentIds:
    """The last ``size`` update ids seen: Zalo's getUpdates has no offset and may repeat an
    update, and a webhook body may be posted twice."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, key: str) -> bool:
        """Remember ``key``; False when it was already there."""
        if key in self._ids:
            self._ids.move_to_end(key)
            return False
        self._ids[key] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True
