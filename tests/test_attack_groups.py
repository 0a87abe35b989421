"""In a group chat everyone reads the bot's answers (#16: nothing shown that the reader may not
see). There the assistant answers only what is public (help, topics, law, events, questions);
a command or a button that shows or changes someone's own things (their cooperative, report,
tickets, phone) or staff work is answered with one line asking to write privately. Telegram,
where any group member may also press the buttons shown to another; both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from bot.app import App
from db.models import Cooperative, Member
from tests.telegram_fake import callback_update, message_update
from tests.test_telegram import LAN, Bot, tg  # noqa: F401  (tg is a fixture)
from tests.zalo_fake import LAN as ZLAN
from tests.zalo_fake import Bot as ZaloBot
from tests.zalo_fake import text_update

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
GROUP = -100777
PRIVATE_ONLY = "nhắn riêng"


def _group_callback(user: int, data: str) -> dict:  # type: ignore[type-arg]
    update = callback_update(user, data)
    update["callback_query"]["message"]["chat"] = {"id": GROUP, "type": "supergroup",
                                                   "title": "HTX group"}  # fmt: skip
    return update


async def test_a_group_sees_only_what_is_public(tg: Bot, small_app: App) -> None:  # noqa: F811
    now = datetime(2026, 11, 28, tzinfo=UTC)
    async with small_app.conversation.sessions() as s:
        coop = Cooperative(code="SG-77", name="HTX Chè Bí Mật", kind="htx", sector="khac",
                           commune="Xã Bắc Hà", commune_code=1, status="active",
                           created_at=now, updated_at=now)  # fmt: skip
        s.add(coop)
        await s.commit()
    await tg.send(message_update(LAN, "/start"))
    async with small_app.conversation.sessions() as s:
        await s.execute(update(Member).values(cooperative_id=coop.id, coop_role="manager",
                                              link_status="approved", role="staff",
                                              phone="0912345678"))  # fmt: skip
        await s.commit()
    tg.api.calls.clear()
    for text in ("/hoptacxa", "/baocao", "/duyet", "/vecho", "/xuat 2026-11", "/dangky",
                 "/lienhe có gì riêng", "/thongbao Họp", "/xoadulieu"):  # fmt: skip
        await tg.send(message_update(LAN, text, chat_id=GROUP, chat_type="supergroup"))
    for data in ("rp:view:2026-11", "xd:yes", "contact:", "lk:c:1", "bc:to:all"):
        await tg.send(_group_callback(LAN, data))
    texts = tg.api.texts(GROUP)
    assert len(texts) == 14 and all(PRIVATE_ONLY in t for t in texts), texts
    assert not any("Bí Mật" in t or "SG-77" in t or "0912" in t for t in texts)
    async with small_app.conversation.sessions() as s:
        me = (await s.execute(Member.__table__.select())).one()
    assert me.flow is None and me.cooperative_id == coop.id  # nothing started, nothing erased
    # What is public still works in the group.
    tg.api.calls.clear()
    await tg.send(message_update(LAN, "/help", chat_id=GROUP, chat_type="supergroup"))
    await tg.send(_group_callback(LAN, "menu:"))
    texts = tg.api.texts(GROUP)
    assert len(texts) == 2 and not any(PRIVATE_ONLY in t for t in texts), texts
    # The same commands in the private chat do what they always did.
    tg.api.calls.clear()
    await tg.send(message_update(LAN, "/hoptacxa"))
    assert "HTX Chè Bí Mật" in tg.api.texts(LAN)[-1]


async def test_a_zalo_group_gets_no_private_answer(zalo: ZaloBot) -> None:
    group = {"id": "g-777", "chat_type": "GROUP"}
    await zalo.send(text_update(ZLAN, "/hoptacxa", chat=group))
    await zalo.send(text_update(ZLAN, "/help", chat=group))
    private_only, public = zalo.api.texts("g-777")
    assert PRIVATE_ONLY in private_only and PRIVATE_ONLY not in public
