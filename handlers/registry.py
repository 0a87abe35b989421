"""Builds the router: every feature module registers here, in a visible order."""

from __future__ import annotations

from handlers import (
    broadcasts,
    events,
    law,
    members,
    notices,
    pending,
    qa,
    reports,
    start,
    tickets,
    web_access,
)
from handlers.router import Router


def build_router() -> Router:
    router = Router()
    start.register(router)  # /start /help /menu /ngonngu /huy
    notices.register(router)  # /tatthongbao /batthongbao
    members.register(router)  # /dangky /hoptacxa /xoadulieu; staff /duyet; admin /quyen
    tickets.register(router)  # /lienhe; staff /vecho; ticket buttons
    reports.register(router)  # /baocao /quay; staff /mobaocao /tiendo /xuat /bieudo
    events.register(router)  # /sukien, reminders; staff /themsukien
    broadcasts.register(router)  # staff /thongbao /huythongbao
    law.register(router)  # /luat /law; "điều 90 luật htx" typed as text; article buttons
    web_access.register(router)  # staff /dangnhap: a link to the web console
    pending.register(router)  # features still being built: none at the moment
    qa.register(router)  # free text → knowledge base; /chuahoi for staff
    return router
