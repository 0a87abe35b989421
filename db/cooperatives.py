"""Import and export of the cooperative registry (CSV or Excel files kept by staff).

The file has one header row and one cooperative per row. Headers are matched after folding
case, diacritics, spaces and underscores, so "Xã/phường", "xa_phuong" and "commune" are the
same column. Every row is checked first; good rows are then written (insert or update by
"Mã số"), bad rows are reported with their line number, as a person sees it in the file.
Messages are in Vietnamese: staff read them.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.audit import record
from db.models import COOP_STATUSES, SECTORS, Cooperative
from knowledge.normalize import fold
from knowledge.phone import normalize_phone
from knowledge.places import find_commune, suggest_communes

DEMO_FILE = Path(__file__).parent / "demo" / "cooperatives.csv"
FORMATS = ("csv", "xlsx")

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


class CooperativeFileError(Exception):
    """The file cannot be read at all (missing, wrong format, missing column)."""


# --- reading -------------------------------------------------------------------------------


def _words(text: str) -> str:
    """Fold ``text`` and keep only words: ``"Nông – lâm – thủy sản"`` → ``"nong lam thuy san"``."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold(text)).split())


def _header_key(text: str) -> str:
    """``"Xã/phường"``, ``"xa_phuong"``, ``"XA PHUONG"`` → ``"xaphuong"``."""
    return re.sub(r"[^a-z0-9]", "", fold(text))


def _header_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for name, (label, aliases) in COLUMNS.items():
        for spelling in (label, *aliases):
            index[_header_key(spelling)] = name
    return index


def _describe_column(name: str) -> str:
    label, aliases = COLUMNS[name]
    return f"“{label}” (hoặc {', '.join(aliases)})"


def map_headers(headers: Sequence[str]) -> dict[int, str]:
    """Column position → field name; raise :class:`CooperativeFileError` naming any
    required column that is missing or any column given twice. Unknown columns are ignored."""
    index = _header_index()
    mapping: dict[int, str] = {}
    for pos, header in enumerate(headers):
        name = index.get(_header_key(header or ""))
        if name is None:
            continue
        if name in mapping.values():
            raise CooperativeFileError(f"cột {_describe_column(name)} xuất hiện hai lần")
        mapping[pos] = name
    missing = [n for n in COLUMNS if n not in OPTIONAL_COLUMNS and n not in mapping.values()]
    if missing:
        names = "; ".join(_describe_column(n) for n in missing)
        raise CooperativeFileError(f"thiếu cột bắt buộc: {names}")
    return mapping


def _cell_text(value: Any) -> str:
    """An Excel cell as text: whole numbers without ".0", dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    return str(value).strip()


def _records(lines: Iterable[tuple[int, Sequence[Any]]]) -> list[tuple[int, dict[str, str]]]:
    """Turn (line number, cells) into (line number, {field: text}) after the header row."""
    header: dict[int, str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    for line, cells in lines:
        texts = [_cell_text(c) for c in cells]
        if not any(texts):
            continue
        if header is None:
            header = map_headers(texts)
            continue
        rows.append(
            (line, {name: texts[pos] if pos < len(texts) else "" for pos, name in header.items()})
        )
    if header is None:
        raise CooperativeFileError("tệp trống: không có dòng tiêu đề")
    return rows


def _sniff_delimiter(text: str) -> str:
    """``;`` when the header line has more semicolons than commas (Excel in some locales)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _csv_lines(path: Path) -> list[tuple[int, list[str]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CooperativeFileError(
            "tệp CSV không phải mã UTF-8; trong Excel hãy lưu lại bằng “CSV UTF-8”"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    lines: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            lines.append((start, cells))
            start = reader.line_num + 1  # a quoted cell may span several lines
    except csv.Error as exc:
        raise CooperativeFileError(f"tệp CSV hỏng ở dòng {reader.line_num}: {exc}") from None
    return lines


def _xlsx_lines(path: Path) -> list[tuple[int, tuple[Any, ...]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise CooperativeFileError(f"không mở được tệp Excel: {exc}") from None
    try:
        sheet = workbook.worksheets[0]
        return list(enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1))
    finally:
        workbook.close()


def read_rows(path: Path | str) -> list[tuple[int, dict[str, str]]]:
    """The data rows of a .csv or .xlsx file as (line number, {field: text}); the header is
    line 1. Raise :class:`CooperativeFileError` when the file cannot be used."""
    path = Path(path)
    if not path.is_file():
        raise CooperativeFileError(f"không tìm thấy tệp {path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _records(_csv_lines(path))
    if suffix == ".xlsx":
        return _records(_xlsx_lines(path))
    if suffix == ".xls":
        raise CooperativeFileError("tệp .xls (Excel cũ): hãy lưu lại thành .xlsx hoặc CSV UTF-8")
    raise CooperativeFileError(f"chỉ nhận tệp .csv hoặc .xlsx, không nhận “{path.suffix}”")


# --- checking one row ----------------------------------------------------------------------


def parse_kind(text: str) -> str | None:
    """``"HTX"``, ``"hợp tác xã"`` → ``"htx"``; ``None`` when not recognised."""
    return _KIND_ALIASES.get(_words(text))


def parse_sector(text: str) -> str | None:
    """A Vietnamese label (``"Nông – lâm – thủy sản"``) or a key of SECTORS → the key."""
    words = _words(text)
    for key in SECTORS:
        if words in (_words(key.replace("_", " ")), _words(SECTOR_LABELS[key])):
            return key
    return _SECTOR_ALIASES.get(words)


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
    code = row.get("code", "").strip()
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


def _validate(rows: list[tuple[int, dict[str, str]]], report: ImportReport) -> list[dict[str, Any]]:
    """Check every row; return the good ones, put the bad ones in ``report.rejected``."""
    good: list[dict[str, Any]] = []
    first_line: dict[str, int] = {}
    for line, row in rows:
        values, errors = check_row(row)
        code = row.get("code", "").strip()
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
        stmt = select(Cooperative).where(Cooperative.code.in_(codes[start : start + 500]))
        for coop in (await session.execute(stmt)).scalars():
            found[coop.code] = coop
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


async def import_cooperatives(
    session: AsyncSession, path: Path | str, now: datetime, actor: str = "cli"
) -> ImportReport:
    """Import ``path`` into the registry (insert or update by code) and commit, with one
    audit entry. Raise :class:`CooperativeFileError` before writing anything when the file
    cannot be used."""
    path = Path(path)
    rows = read_rows(path)
    report = ImportReport(source=path.name)
    good = _validate(rows, report)
    existing = await _existing(session, [v["code"] for v in good])
    for values in good:
        coop = existing.get(values["code"])
        if coop is None:
            values.setdefault("status", "active")
            session.add(Cooperative(**values, created_at=now, updated_at=now))
            report.created += 1
        elif _apply(coop, values, now):
            report.updated += 1
        else:
            report.unchanged += 1
    record(session, actor, "import_cooperatives", now, target=path.name, detail=report.counts())
    await session.commit()
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


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    # UTF-8 with a BOM: Excel then shows the Vietnamese letters correctly.
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(export_headers())
        writer.writerows(rows)


def _write_xlsx(path: Path, rows: list[list[str]]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Hợp tác xã"
    sheet.append(export_headers())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for column, width in zip("ABCDEFGH", (45, 16, 20, 24, 22, 40, 14, 16), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    workbook.save(path)


async def export_cooperatives(session: AsyncSession, path: Path | str, fmt: str) -> int:
    """Write every cooperative to ``path`` as ``fmt`` ("csv" or "xlsx"); return the count."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    stmt = select(Cooperative).order_by(Cooperative.code)
    rows = [export_row(c) for c in (await session.execute(stmt)).scalars()]
    (_write_csv if fmt == "csv" else _write_xlsx)(Path(path), rows)
    return len(rows)
