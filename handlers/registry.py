"""Builds the router: every feature module registers here, in a visible order."""

from __future__ import annotations

from handlers import members, notices, pending, qa, start, tickets
from handlers.router import Router


def build_router() -> Router:
    router = Router()
    start.register(router)  # /start /help /menu /ngonngu /huy
    notices.register(router)  # /tatthongbao /batthongbao
    members.register(router)  # /dangky /hoptacxa /xoadulieu; staff /duyet; admin /quyen
    tickets.register(router)  # /lienhe; staff /vecho; ticket buttons
    pending.register(router)  # features still being built: /baocao /sukien
    qa.register(router)  # free text → knowledge base; /chuahoi for staff
    return router
