"""Fuzzing every import format (cooperatives and events, CSV and XLSX) with a fixed seed and a
bounded number of cases: a mangled file gives rows (good or rejected) or one clean
:class:`SpreadsheetError` line, never another exception."""

from __future__ import annotations

import io
import random
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

from bot.app import App
from db.cooperatives import check_row
from db.events import check_event_row
from outputs.cooperatives import import_cooperatives, read_rows
from outputs.events import import_events, read_event_rows
from outputs.spreadsheets import SpreadsheetError

SEED = 16
CASES = 120  # per format; the whole file runs in a few seconds
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
COOPS = [
    ["Tên", "Mã số", "Loại hình", "Lĩnh vực", "Xã/phường", "Địa chỉ", "Điện thoại", "Trạng thái"],
    ["HTX Chè (test)", "T-01", "HTX", "Khác", "Xã Bắc Hà", "Thôn 1", "0912345678", ""],
    ["=1+1", "t-02", "THT", "Vận tải", "Sa Pa", '"quoted', "+84 987 654 321", "tạm ngừng"],
    ["HTX Ba", "T-03", "LHHTX", "Xây dựng", "Nghĩa Lộ", "", "", "giải thể"],
]
EVENTS = [
    ["Tên sự kiện", "Bắt đầu", "Kết thúc", "Hạn đăng ký", "Địa điểm", "Mô tả", "Đường dẫn"],
    ["Hội chợ", "20/11/2026", "22/11/2026", "", "Lào Cai", "dòng\nhai", "https://x.vn"],
    ["Phiên chợ", "1/1/0001", "31/02/2026", "", "", "", "javascript:x"],
    ["Tập huấn", "2026-12-01 08:00", "", "30/11/2026", "", "", ""],
]
NOISE = ["", "\0", "\ufeff", '"', "'", ",", ";", "\t", "\r", "\n", "=", "²", "③", "𝟘",
         "9" * 40, "a" * 300, "<", "&", "]]>", "<!ENTITY x 'y'>", "\u202e", "Ồ"]  # fmt: skip


def mutate_text(text: str, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(4)
        pos = rng.randrange(len(chars) + 1)
        if op == 0:
            chars.insert(pos, rng.choice(NOISE))
        elif op == 1 and chars:
            del chars[min(pos, len(chars) - 1)]
        elif op == 2 and chars:
            chars[min(pos, len(chars) - 1)] = rng.choice(NOISE) or "x"
        else:
            chars = chars[: rng.randrange(len(chars) + 1)]
    return "".join(chars)


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    raw = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        if not raw:
            break
        pos = rng.randrange(len(raw))
        op = rng.randrange(3)
        if op == 0:
            raw[pos] = rng.randrange(256)
        elif op == 1:
            del raw[pos : pos + rng.randint(1, 64)]
        else:
            raw[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    return bytes(raw)


def csv_text(rows: list[list[str]]) -> str:
    return "\n".join(",".join(cells) for cells in rows) + "\n"


def xlsx_bytes(rows: list[list[str]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()


def mutate_xlsx(data: bytes, rng: random.Random) -> bytes:
    """Either damage the zip's bytes, or damage the text of one XML part and zip it again."""
    if rng.random() < 0.4:
        return mutate_bytes(data, rng)
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        parts = {i.filename: src.read(i) for i in src.infolist()}
    name = rng.choice(sorted(parts))
    if rng.random() < 0.15:
        del parts[name]
    else:
        parts[name] = mutate_text(parts[name].decode(), rng).encode("utf-8", "replace")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for member, body in parts.items():
            dst.writestr(member, body)
    return out.getvalue()


def cases(kind: str, fmt: str, folder: Path) -> list[Path]:
    rng = random.Random(f"{SEED}-{kind}-{fmt}")
    rows = COOPS if kind == "cooperatives" else EVENTS
    paths = []
    base_xlsx = xlsx_bytes(rows)
    for i in range(CASES):
        path = folder / f"{kind}-{i}.{fmt}"
        if fmt == "csv":
            text = mutate_text(csv_text(rows), rng)
            encoding = rng.choice(["utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1"])
            path.write_bytes(text.encode(encoding, "replace"))
        else:
            path.write_bytes(mutate_xlsx(base_xlsx, rng))
        paths.append(path)
    return paths


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", ["cooperatives", "events"])
def test_mangled_files_never_escape_as_exceptions(kind: str, fmt: str, tmp_path: Path) -> None:
    outcomes = {"rows": 0, "refused": 0}
    for path in cases(kind, fmt, tmp_path):
        try:
            if kind == "cooperatives":
                for _line, row in read_rows(path):
                    check_row(row)
            else:
                for _line, row in read_event_rows(path):
                    check_event_row(row, HANOI)
            outcomes["rows"] += 1
        except SpreadsheetError as exc:
            assert str(exc) and "\n" not in str(exc), path
            outcomes["refused"] += 1
    # Both kinds of outcome happen: the fuzzing reaches past the first check.
    assert outcomes["rows"] > 0 and outcomes["refused"] > 0, outcomes


@pytest.mark.parametrize("kind", ["cooperatives", "events"])
async def test_mangled_files_import_or_refuse_cleanly(app: App, kind: str, tmp_path: Path) -> None:
    """A smaller sample all the way into the database (SQLite and PostgreSQL)."""
    paths = cases(kind, "csv", tmp_path)[:15] + cases(kind, "xlsx", tmp_path)[:15]
    for path in paths:
        async with app.conversation.sessions() as session:
            try:
                if kind == "cooperatives":
                    await import_cooperatives(session, path, NOW)
                else:
                    await import_events(session, path, NOW, HANOI)
            except SpreadsheetError:
                pass
