"""How the console names the states stored in the database (tickets, broadcasts)."""

from __future__ import annotations

from ground.i18n import N_, Translator

STATES = {
    "open": N_("Mới"),
    "claimed": N_("Đang có cán bộ trả lời"),
    "answered": N_("Đã trả lời"),
    "closed": N_("Đã đóng"),
    "scheduled": N_("Hẹn giờ"),
    "sending": N_("Đang gửi"),
    "done": N_("Đã gửi xong"),
    "cancelled": N_("Đã dừng"),
}


def state_name(t: Translator, state: str) -> str:
    return t.t(STATES[state]) if state in STATES else state
