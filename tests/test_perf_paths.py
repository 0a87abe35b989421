"""What keeps coopbot fast at real shape, checked for behaviour (nothing here times anything):
sends kept in flight at once under the pacer, paced calls counted from when they leave, a
long Zalo notice paced as its parts, the knowledge base reloaded in a thread and swapped
whole, and /dangky's cooperative lookup through the code index and a name index that an
import or another worker's edit keeps fresh."""

from __future__ import annotations

import asyncio
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.app import App
from bot.channels.pacing import Pacer
from db import cooperative_names
from db.cooperatives import import_rows
from db.members import find_cooperatives
from db.models import Cooperative
from db.session import create_engine, session_factory
from knowledge.base import KnowledgeStore
from tests.conftest import FIXTURE_KB
from tests.test_broadcasts import FakeSender, FakeTime, _engine, _members, _rows, _send_to_all

# --- broadcasts --------------------------------------------------------------------------


class GatedSender(FakeSender):
    """Holds every send but the first until five are under way at once."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.under_way = 0
        self.most_at_once = 0

    async def send(self, user_id: str, reply: object) -> None:
        if not self.delivered and not self.under_way:  # the engine's first message, alone
            self.delivered.append(user_id)
            return
        self.under_way += 1
        self.most_at_once = max(self.most_at_once, self.under_way)
        if self.most_at_once >= 5:
            self.gate.set()
        await self.gate.wait()
        self.under_way -= 1
        self.delivered.append(user_id)


async def test_sends_stay_in_flight_together_up_to_the_cap(small_app: App) -> None:
    app = small_app
    await _members(app, *(f"m{i:02}" for i in range(12)))
    await _send_to_all(app)
    sender, time = GatedSender(), FakeTime()
    engine = _engine(app, sender, time, max_in_flight=5)
    # The first wave lands alone (it probes the channel); then five wait together: the engine
    # did not wait for one answer before sending the next.
    await asyncio.wait_for(engine.drain(), timeout=30)
    assert sender.most_at_once == 5
    assert sorted(sender.delivered) == [f"m{i:02}" for i in range(12)]
    assert {r.status for r in await _rows(app)} == {"sent"}


class CostlySender(FakeSender):
    def calls(self, reply: object) -> int:
        return 3


async def test_a_message_of_several_calls_takes_that_many_from_the_pacer(small_app: App) -> None:
    app = small_app
    await _members(app, *(f"m{i}" for i in range(6)))
    await _send_to_all(app)
    sender, time = CostlySender(per_second=6), FakeTime()
    await _engine(app, sender, time).drain()
    assert len(sender.delivered) == 6
    # 6 messages of 3 calls at 6 calls a second: at least two windows of waiting, where one
    # call each would have fit in one window
    assert time.now - 1000.0 >= 2.0


def test_paced_calls_count_from_when_they_leave() -> None:
    time = FakeTime()
    pacer = Pacer(2, 0, time.monotonic, time.sleep)
    first = pacer.try_take("a")
    assert first is not None
    time.now += 0.6  # a slow commit before the call really left
    pacer.departed([first])
    assert pacer.try_take("b") is not None  # two in the window now
    time.now += 0.6  # 1.2 s after the first was taken, 0.6 s after it left
    assert pacer.try_take("c") is None  # still in the window: counted from its departure
    time.now += 0.5
    assert pacer.try_take("c") is not None


def test_zalo_paces_a_long_notice_as_its_parts(small_app: App) -> None:
    from bot.channels.zalo import MAX_TEXT, ZaloChannel, ZaloSender
    from ground.messages import Reply

    channel = ZaloChannel(small_app.conversation, "zalo-token")
    sender = ZaloSender(channel)
    assert sender.calls(Reply("Họp toàn thể ngày 5/12")) == 1
    assert sender.calls(Reply("Thông báo dài. " * (MAX_TEXT // 5))) >= 3


# --- knowledge reload ------------------------------------------------------------------


async def test_reload_runs_in_a_thread_and_swaps_the_whole_base(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb)
    store = KnowledgeStore(kb)
    old_index, old_entries = store.index, store.entries
    assert await store.reload_in_thread() is None  # nothing changed
    text = (kb / "sample.yaml").read_text(encoding="utf-8")
    (kb / "sample.yaml").write_text(
        text.replace("05 thành viên chính thức", "năm (05) thành viên"), encoding="utf-8"
    )
    task = store.reload_in_thread()
    assert store.reload_in_thread() is task  # one reload at a time
    assert await task == []
    assert store.index is not old_index and store.entries is not old_entries
    assert "năm (05)" in store.get("htx.min_members").answer  # type: ignore[union-attr]
    assert store.index.entries == list(store.entries.values())


# --- /dangky's lookup ------------------------------------------------------------------


def _row(code: str, name: str) -> dict[str, str]:
    return {"code": code, "name": name, "kind": "HTX", "sector": "Nông, lâm, thủy sản",
            "commune": "Xã Khao Mang", "status": "Đang hoạt động"}  # fmt: skip


async def test_cooperative_lookup_by_code_and_name_stays_fresh(
    small_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    conv = small_app.conversation
    now = conv.clock()
    async with conv.sessions() as s:
        await import_rows(s, "a.csv", [(2, _row("lc-001", "HTX Chè Tà Xùa")),
                                       (3, _row("LC-002", "HTX Mận Bắc Hà"))], now)  # fmt: skip
    async with conv.sessions() as s:
        assert [c.code for c in await find_cooperatives(s, "lc-001")] == ["LC-001"]
        assert [c.code for c in await find_cooperatives(s, "man bac ha")][:1] == ["LC-002"]
        assert await find_cooperatives(s, "Quế Văn Yên") == []
    # an import in this process shows at the next lookup
    async with conv.sessions() as s:
        await import_rows(s, "b.csv", [(2, _row("LC-003", "HTX Quế Văn Yên"))], now)
    async with conv.sessions() as s:
        assert [c.code for c in await find_cooperatives(s, "Quế Văn Yên")][:1] == ["LC-003"]
    # another worker (another engine on the same database) renames and dissolves: seen once
    # the stamp is looked at again (every CHECK_EVERY seconds; now at once)
    other = create_engine(small_app.settings.database_url)
    try:
        async with session_factory(other)() as s:
            later = now + timedelta(minutes=1)
            await s.execute(update(Cooperative).where(Cooperative.code == "LC-001")
                            .values(name="HTX Thảo Quả Y Tý", updated_at=later))  # fmt: skip
            await s.execute(update(Cooperative).where(Cooperative.code == "LC-002")
                            .values(status="dissolved", updated_at=later))  # fmt: skip
            await s.commit()
    finally:
        await other.dispose()
    monkeypatch.setattr(cooperative_names, "CHECK_EVERY", 0.0)
    async with conv.sessions() as s:
        assert [c.code for c in await find_cooperatives(s, "thao qua y ty")][:1] == ["LC-001"]
        assert await find_cooperatives(s, "Mận Bắc Hà") == []
        assert await find_cooperatives(s, "LC-002") == []
