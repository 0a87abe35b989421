"""The cooperative registry's rows: checking them, writing them, listing them for export.

A file has one header row and one cooperative per row. Headers are matched after folding
case, diacritics, spaces and underscores, so "Xã/phường", "xa_phuong" and "commune" are the
same column. Every row is checked first; good rows are then written (insert or update by
"Mã số"), bad rows are reported with their line number, as a person sees it in the file.
Codes are compared without case ("dup-2" is "DUP-2") and stored in capitals. Reading and
writing the files themselves is done in ``outputs/cooperatives.py``; this module checks rows
and writes them to the database. Messages are in Vietnamese: staff read them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import cooperative_names
from db.audit import record
from db.models import COOP_STATUSES, SECTORS, Cooperative
from knowledge.normalize import fold
from knowledge.phone import normalize_phone
from knowledge.places import find_commune, suggest_communes

DEMO_FILE = Path(__file__).parent / "demo" / "cooperatives.csv"

# Columns: field → (header written on export, other accepted spellings).
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "name": ("Tên", ("ten", "name")),
    "code": ("Mã số", ("ma_so", "code")),
    "kind": ("Loại hình", ("loai_hinh", "type")),
    "sector": ("Lĩnh vực", ("linh_vuc", "sector")),
    "commune": ("Xã/phường", ("xa_phuong", "commune")),
    "address": ("Địa chỉ", ("dia_chi", "address")),
    "phone": ("Điện thoại", ("dien_thoai", "phone")),
    "status": ("Trạng thái", ("trang_thai", "status")),
}
OPTIONAL_COLUMNS = frozenset({"status"})

KIND_LABELS = {"htx": "Hợp tác xã", "tht": "Tổ hợp tác", "lhhtx": "Liên hiệp hợp tác xã"}
SECTOR_LABELS = {
    "nong_lam_thuy_san": "Nông – lâm – thủy sản",
    "cong_nghiep_ttcn": "Công nghiệp – TTCN",
    "thuong_mai_dich_vu": "Thương mại – dịch vụ",
    "xay_dung": "Xây dựng",
    "van_tai": "Vận tải",
    "tin_dung": "Tín dụng",
    "khac": "Khác",
}
STATUS_LABELS = {"active": "Đang hoạt động", "inactive": "Tạm ngừng", "dissolved": "Giải thể"}

# Accepted spellings, written as _words() gives them: folded, punctuation dropped.
_KIND_ALIASES = {
    "htx": "htx",
    "hop tac xa": "htx",
    "tht": "tht",
    "to hop tac": "tht",
    "lhhtx": "lhhtx",
    "lien hiep hop tac xa": "lhhtx",
    "lien hiep htx": "lhhtx",
}
_SECTOR_ALIASES = {
    "nong nghiep": "nong_lam_thuy_san",
    "nong lam nghiep": "nong_lam_thuy_san",
    "nong lam ngu nghiep": "nong_lam_thuy_san",
    "nong lam nghiep thuy san": "nong_lam_thuy_san",
    "cong nghiep": "cong_nghiep_ttcn",
    "tieu thu cong nghiep": "cong_nghiep_ttcn",
    "cong nghiep tieu thu cong nghiep": "cong_nghiep_ttcn",
    "thuong mai": "thuong_mai_dich_vu",
    "dich vu": "thuong_mai_dich_vu",
    "quy tin dung": "tin_dung",
    "quy tin dung nhan dan": "tin_dung",
    "van tai": "van_tai",
}
_STATUS_ALIASES = {
    "dang hoat dong": "active",
    "hoat dong": "active",
    "tam ngung": "inactive",
    "tam ngung hoat dong": "inactive",
    "tam dung": "inactive",
    "giai the": "dissolved",
    "da giai the": "dissolved",
}

MAX_LENGTHS = {"code": 32, "name": 255, "address": 255}


def _words(text: str) -> str:
    """Fold ``text`` and keep only words: ``"Nông – lâm – thủy sản"`` → ``"nong lam thuy san"``."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold(text)).split())


def normalize_code(text: str) -> str:
    """A cooperative's code as stored and compared: ``" dup-2 "`` → ``"DUP-2"``."""
    return " ".join(text.split()).upper()


# --- checking one row ----------------------------------------------------------------------


def parse_kind(text: str) -> str | None:
    """``"HTX"``, ``"hợp tác xã"`` → ``"htx"``; ``None`` when not recognised."""
    return _KIND_ALIASES.get(_words(text))


@lru_cache(maxsize=1)
def _sector_index() -> dict[str, str]:
    """Every accepted spelling of a sector (its key, its label, the aliases) → the key."""
    index = dict(_SECTOR_ALIASES)
    for key in SECTORS:
        index[_words(key.replace("_", " "))] = key
        index[_words(SECTOR_LABELS[key])] = key
    return index


def parse_sector(text: str) -> str | None:
    """A Vietnamese label (``"Nông – lâm – thủy sản"``) or a key of SECTORS → the key."""
    return _sector_index().get(_words(text))


def parse_status(text: str) -> str | None:
    """Empty → ``"active"``; a Vietnamese label or a key of COOP_STATUSES → the key."""
    words = _words(text)
    if not words:
        return "active"
    if words in COOP_STATUSES:
        return words
    return _STATUS_ALIASES.get(words)


def parse_phone(text: str) -> tuple[bool, str | None]:
    """(valid, phone): empty is valid and gives ``None``. A number that lost its leading
    zero in Excel (``912345678``) is accepted."""
    text = text.strip()
    if not text:
        return True, None
    phone = normalize_phone(text)
    if phone is None and text.isdigit() and not text.startswith("0"):
        phone = normalize_phone("0" + text)
    return phone is not None, phone


def _check_lengths(row: dict[str, str], errors: list[str]) -> None:
    labels = {"code": "mã số", "name": "tên", "address": "địa chỉ"}
    for key, limit in MAX_LENGTHS.items():
        if len(row.get(key, "").strip()) > limit:
            errors.append(f"{labels[key]} dài quá {limit} ký tự")


def _check_choice(
    value: str, parsed: str | None, what: str, choices: Iterable[str], errors: list[str]
) -> None:
    if not value.strip():
        errors.append(f"thiếu {what}")
    elif parsed is None:
        errors.append(f"{what} “{value}” không hợp lệ (dùng: {', '.join(choices)})")


def _check_commune(value: str, errors: list[str]) -> tuple[str, int] | None:
    if not value.strip():
        errors.append("thiếu xã/phường")
        return None
    commune = find_commune(value)
    if commune is not None:
        return commune.name, commune.code
    hint = suggest_communes(value)
    tail = f" — có phải: {', '.join(hint)}?" if hint else ""
    errors.append(f"xã/phường “{value}” không có trong danh sách tỉnh Lào Cai{tail}")
    return None


def check_row(row: dict[str, str]) -> tuple[dict[str, Any] | None, list[str]]:
    """Validate one row: (values ready for :class:`Cooperative`, []) or (None, reasons)."""
    errors: list[str] = []
    code = normalize_code(row.get("code", ""))
    name = " ".join(row.get("name", "").split())
    if not code:
        errors.append("thiếu mã số")
    if not name:
        errors.append("thiếu tên")
    _check_lengths(row, errors)
    kind = parse_kind(row.get("kind", ""))
    _check_choice(row.get("kind", ""), kind, "loại hình", ("HTX", "THT", "LHHTX"), errors)
    sector = parse_sector(row.get("sector", ""))
    _check_choice(row.get("sector", ""), sector, "lĩnh vực", SECTOR_LABELS.values(), errors)
    commune = _check_commune(row.get("commune", ""), errors)
    ok, phone = parse_phone(row.get("phone", ""))
    if not ok:
        errors.append(f"số điện thoại “{row.get('phone', '').strip()}” không hợp lệ")
    status = parse_status(row.get("status", ""))
    if status is None:
        errors.append(
            f"trạng thái “{row.get('status', '')}” không hợp lệ (dùng: {', '.join(STATUS_LABELS.values())})"
        )
    if errors or commune is None:
        return None, errors
    values = {
        "code": code,
        "name": name,
        "kind": kind,
        "sector": sector,
        "commune": commune[0],
        "commune_code": commune[1],
        "address": " ".join(row.get("address", "").split()) or None,
        "phone": phone,
        "status": status,
    }
    if "status" not in row:  # no status column: new rows are active, updates keep theirs
        del values["status"]
    return values, []


# --- importing -----------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import did: counts, and the rejected rows with their reasons."""

    source: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged

    def counts(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": len(self.rejected),
        }

    def render(self) -> str:
        """The report as staff read it."""
        lines = [
            f"Tệp {self.source}: đã nhập {self.imported} hợp tác xã "
            f"({self.created} mới, {self.updated} cập nhật, {self.unchanged} không đổi)."
        ]
        if self.rejected:
            lines.append(f"Bỏ qua {len(self.rejected)} dòng có lỗi (sửa rồi nhập lại):")
            lines.extend(f"  Dòng {line}: {reason}" for line, reason in self.rejected)
        return "\n".join(lines)


def _validate(
    rows: Iterable[tuple[int, dict[str, str]]], report: ImportReport
) -> list[dict[str, Any]]:
    """Check every row; return the good ones, put the bad ones in ``report.rejected``."""
    good: list[dict[str, Any]] = []
    first_line: dict[str, int] = {}
    for line, row in rows:
        values, errors = check_row(row)
        code = normalize_code(row.get("code", ""))
        if code and code in first_line:
            errors.append(f"mã số “{code}” trùng với dòng {first_line[code]}")
            values = None
        elif code:
            first_line[code] = line
        if values is None:
            report.rejected.append((line, "; ".join(errors)))
        else:
            good.append(values)
    return good


async def _existing(session: AsyncSession, codes: list[str]) -> dict[str, Cooperative]:
    found: dict[str, Cooperative] = {}
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        stmt = select(Cooperative).where(func.upper(Cooperative.code).in_(chunk))
        for coop in (await session.execute(stmt)).scalars():
            found[normalize_code(coop.code)] = coop
    return found


def _apply(coop: Cooperative, values: dict[str, Any], now: datetime) -> bool:
    """Copy ``values`` onto ``coop``; True when something changed."""
    changed = False
    for key, value in values.items():
        if getattr(coop, key) != value:
            setattr(coop, key, value)
            changed = True
    if changed:
        coop.updated_at = now
    return changed


async def import_rows(
    session: AsyncSession,
    source: str,
    rows: Sequence[tuple[int, dict[str, str]]],
    now: datetime,
    actor: str = "cli",
    rejected: Iterable[tuple[int, str]] = (),
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Write checked ``rows`` (line, {field: text}) to the registry (insert or update by
    code) and commit, with one audit entry. ``rejected`` are rows refused before (while the
    file was read); ``progress(done, rejected)`` is called as rows are written."""
    report = ImportReport(source=source, rejected=list(rejected))
    good = _validate(rows, report)
    report.rejected.sort()
    existing = await _existing(session, [v["code"] for v in good])
    new: list[dict[str, Any]] = []
    for done, values in enumerate(good, start=1):
        coop = existing.get(values["code"])
        if coop is None:
            values.setdefault("status", "active")
            new.append({**values, "created_at": now, "updated_at": now})
            report.created += 1
        elif _apply(coop, values, now):
            report.updated += 1
        else:
            report.unchanged += 1
        if len(new) >= 1000:  # many rows per statement, not one round trip per row
            await session.execute(insert(Cooperative), new)
            new = []
        if progress is not None and done % 1000 == 0:
            progress(done, len(report.rejected))
    if new:
        await session.execute(insert(Cooperative), new)
    record(session, actor, "import_cooperatives", now, target=source, detail=report.counts())
    await session.commit()
    cooperative_names.changed(session)
    if progress is not None:
        progress(len(good), len(report.rejected))
    return report


# --- exporting -----------------------------------------------------------------------------


def export_headers() -> list[str]:
    return [label for label, _aliases in COLUMNS.values()]


def export_row(coop: Cooperative) -> list[str]:
    """One cooperative as the cells of an export row (Vietnamese labels, phone in full)."""
    return [
        coop.name,
        coop.code,
        KIND_LABELS.get(coop.kind, coop.kind),
        SECTOR_LABELS.get(coop.sector, coop.sector),
        coop.commune,
        coop.address or "",
        coop.phone or "",
        STATUS_LABELS.get(coop.status, coop.status),
    ]


async def export_rows(session: AsyncSession) -> list[list[str]]:
    """Every cooperative as export cells, by code."""
    stmt = select(Cooperative).order_by(Cooperative.code)
    return [export_row(c) for c in (await session.execute(stmt)).scalars()]
