"""Vietnamese phone numbers: one form for storing and comparing, a masked form for showing."""

from __future__ import annotations

import re

_MOBILE_OR_FIXED = re.compile(r"^0\d{9,10}$")


def normalize_phone(text: str) -> str | None:
    """``"+84 912 345 678"``, ``"0912.345.678"``, ``"84912345678"``, ``"(091) 234 5678"``,
    ``"+84(0)912345678"``, ``"0084912345678"`` → ``"0912345678"``; ``None`` when it is not a
    Vietnamese number."""
    digits = re.sub(r"[\s.\-()]", "", text.strip())
    if digits.startswith("+"):
        digits = digits[1:]
    if not digits.isdigit():
        return None
    if digits.startswith("0084"):  # the international prefix dialled from Vietnam
        digits = digits[2:]
    if digits.startswith("840"):  # +84 (0) 912...: the trunk 0 written after the country code
        digits = "84" + digits[3:]
    if digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    return digits if _MOBILE_OR_FIXED.match(digits) else None


def mask_phone(phone: str | None) -> str:
    """``"0912345678"`` → ``"091****678"`` (for staff lists)."""
    if not phone:
        return "–"
    if len(phone) <= 6:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 6) + phone[-3:]
