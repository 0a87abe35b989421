"""Forged report buttons (#16): every ``rp:…`` and ``rps:…`` action, sent by someone who could
not have been shown it, gets what the command that shows it would give them, and changes
nothing. Both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from bot.app import App
from db.models import Member, OutboxMessage, Report, ReportPeriod, ReportPrompt, ReportVersion
from tests.conftest import Chat
from tests.test_reports import DEC_1, _cycle, _fill_form, _flow, _seed, _text

# Every prefix the report feature shows on a button, with plausible arguments.
ACTIONS = [
    "rp:view:2026-11",
    "rp:fix:2026-11",
    "rp:start:2026-11",
    "rp:start:",
    "rp:drop",
    "rp:send",
    "rp:force",
    "rp:edit",
    "rp:sum",
    "rp:f:revenue",
    "rp:skip:difficulties",
    "rp:y:support_received:1",
    "rp:c:certifications:vietgap",
    "rp:num:revenue:5",
    "rp:m:certifications:vietgap",
    "rp:m:certifications:_done",
    "rps:open:2026-11",
    "rps:open:2026-12",
    "rps:remind:2026-11",
    "rps:no",
]


async def _add(app: App, user_id: str, **fields: Any) -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    async with app.conversation.sessions() as s:
        values = dict(channel="console", user_id=user_id, display_name=user_id, locale="vi",
                      role="member", opted_out=False, unreachable=False, created_at=now)  # fmt: skip
        s.add(Member(**(values | fields)))
        await s.commit()


async def _counts(app: App) -> dict[str, int]:
    async with app.conversation.sessions() as s:
        return {
            model.__name__: await s.scalar(select(func.count()).select_from(model)) or 0
            for model in (Report, ReportVersion, ReportPeriod, ReportPrompt, OutboxMessage)
        }


async def test_forged_report_buttons_show_and_change_nothing(app: App, clock: Any) -> None:
    ids = await _seed(app)
    await _add(app, "pending", cooperative_id=ids["C1"], coop_role="manager", link_status="pending")
    await _add(app, "former", role="member")  # staff until /quyen bo
    clock.now = DEC_1
    await _cycle(app, clock.now)
    lan = Chat(app, "lan")
    await lan.say("/baocao")
    await _fill_form(lan)
    await lan.send("bỏ qua")
    assert "Đã gửi báo cáo" in _text(await lan.send("1"))
    before = await _counts(app)
    # tu: an ordinary member of C1; pending: C1's manager not yet approved; minh: C2's
    # manager; former: removed staff.
    for user in ("tu", "pending", "minh", "former"):
        chat = Chat(app, user)
        for action in ACTIONS:
            text = _text(await chat.send(action=action))
            assert "Suối Giàng" not in text and "46.000.000" not in text, (user, action, text)
            assert "Lan" not in text, (user, action, text)
            if action.startswith("rps:"):
                assert "chỉ dành cho cán bộ" in text, (user, action, text)
        flow, _ = await _flow(app, user)
        if user != "minh":  # minh may start his own cooperative's report, nothing else
            assert flow is None, user
        else:
            assert flow in (None, "report")
            _, data = await _flow(app, user)
            assert data is None or data["coop"] == ids["C2"]
    assert await _counts(app) == before
    # The pending manager's /baocao and view say why, and nothing of the report.
    text = await Chat(app, "pending").say("/baocao")
    assert "chờ cán bộ duyệt" in text and "Suối Giàng" not in text


async def test_a_representative_still_sees_and_corrects_the_report(app: App, clock: Any) -> None:
    """The same buttons work for those who may use them."""
    await _seed(app)
    clock.now = DEC_1
    await _cycle(app, clock.now)
    lan = Chat(app, "lan")
    await lan.say("/baocao")
    await _fill_form(lan)
    await lan.send("bỏ qua")
    await lan.send("1")
    text = _text(await Chat(app, "hoa").send(action="rp:view:2026-11"))
    assert "Suối Giàng" in text and "46.000.000" in text
    assert "Anh/chị muốn sửa câu nào?" in _text(
        await Chat(app, "hoa").send(action="rp:fix:2026-11")
    )
