"""On Telegram only a contact shared from the sender's own account proves a phone (#16): the
channel passes the shared contact to the core and says whether it is the sender's own."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.app import App
from db.models import Cooperative
from tests.telegram_fake import callback_update, message_update
from tests.test_telegram import LAN, MAI, Bot, _member, tg  # noqa: F401  (tg is a fixture)

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


async def _ask_phone(tg: Bot, app: App, user: int) -> None:  # noqa: F811
    await tg.send(message_update(user, "/dangky"), message_update(user, "man bac ha"))
    coop_button = tg.api.sent()[-1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await tg.send(callback_update(user, coop_button), callback_update(user, "lk:r:manager"))
    assert tg.api.sent()[-1]["reply_markup"]["keyboard"][0][0]["request_contact"] is True


def _contact(sender: int, owner: int, phone: str) -> dict:  # type: ignore[type-arg]
    update = message_update(sender, "")
    del update["message"]["text"]
    update["message"]["contact"] = {"phone_number": phone, "first_name": "X", "user_id": owner}
    return update


async def test_someone_elses_contact_is_a_claim_for_staff(tg: Bot, small_app: App) -> None:  # noqa: F811
    now = datetime(2026, 11, 28, tzinfo=UTC)
    async with small_app.conversation.sessions() as s:
        s.add(Cooperative(code="C1", name="HTX Mận Bắc Hà", kind="htx", sector="khac",
                          commune="Xã Bắc Hà", commune_code=1, phone="0912345678",
                          status="active", created_at=now, updated_at=now))  # fmt: skip
        await s.commit()
    await _ask_phone(tg, small_app, MAI)
    await tg.send(_contact(MAI, LAN, "+84912345678"))  # Lan's card, forwarded by Mai
    assert "Đã gửi yêu cầu liên kết" in tg.api.texts(MAI)[-1]
    member = await _member(small_app, MAI)
    assert member.link_status == "pending" and member.phone == "0912345678"
    # A typed number, even the right one, is a claim too.
    await _ask_phone(tg, small_app, LAN)
    await tg.send(message_update(LAN, "0912 345 678"))
    assert (await _member(small_app, LAN)).link_status == "pending"
    # Lan's own contact, shared by Lan, proves it.
    await _ask_phone(tg, small_app, LAN)
    await tg.send(_contact(LAN, LAN, "+84912345678"))
    assert "Đã liên kết tài khoản" in tg.api.texts(LAN)[-1]
    assert (await _member(small_app, LAN)).link_status == "approved"
