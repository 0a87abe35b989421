"""The cooperative registry: places, import, export and the command line."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from bot.app import App
from db.models import AuditEntry, Cooperative
from knowledge.places import communes, find_commune, suggest_communes
from outputs.cooperatives import (
    CooperativeFileError,
    export_cooperatives,
    import_cooperatives,
    read_rows,
)

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
HEADER = "Tên,Mã số,Loại hình,Lĩnh vực,Xã/phường,Địa chỉ,Điện thoại,Trạng thái"
GOOD = [
    "HTX Chè Khao Mang (test),T-01,HTX,Nông – lâm – thủy sản,Xã Khao Mang,Bản Khao Mang,0912345678,",
    "Tổ hợp tác Dệt (test),T-02,tổ hợp tác,cong nghiep ttcn,phuong nghia lo,,+84 987 654 321,tạm ngừng",
    "Liên hiệp HTX (test),T-03,LHHTX,thuong_mai_dich_vu,Sa Pa,Tổ 1,,giải thể",
]
BAD = [
    "HTX Sai xã (test),T-04,HTX,Vận tải,Khao Mag,,0912000004,",  # line 5: unknown commune
    "HTX Sai loại (test),T-05,công ty,Xây dựng,Xã Bắc Hà,,0912000005,",  # line 6: bad kind
    "HTX Sai số (test),T-06,HTX,Tín dụng,Xã Bắc Hà,,12345,",  # line 7: bad phone
    "HTX Không mã (test),,HTX,Khác,Xã Bắc Hà,,0912000007,",  # line 8: missing code
    "HTX Trùng mã (test),T-01,HTX,Khác,Xã Bắc Hà,,0912000008,",  # line 9: duplicate code
]


def write_csv(path: Path, lines: list[str], encoding: str = "utf-8", sep: str = ",") -> Path:
    text = "\n".join([HEADER, *lines]) + "\n"
    path.write_text(text.replace(",", sep), encoding=encoding)
    return path


async def all_coops(app: App) -> dict[str, Cooperative]:
    async with app.conversation.sessions() as session:
        rows = (await session.execute(select(Cooperative))).scalars()
        return {c.code: c for c in rows}


async def run_import(app: App, path: Path, now: datetime = NOW):  # type: ignore[no-untyped-def]
    async with app.conversation.sessions() as session:
        return await import_cooperatives(session, path, now)


# --- places --------------------------------------------------------------------------------


def test_places_list_is_the_new_lao_cai() -> None:
    names = [c.name for c in communes()]
    assert len(names) == 99
    assert "Xã Khao Mang" in names and "Phường Nghĩa Lộ" in names


@pytest.mark.parametrize(
    "text", ["Xã Khao Mang", "khao mang", "Xa Khao Mang", "KHAO MANG", " xã  khao mang "]
)
def test_find_commune_with_or_without_prefix_and_marks(text: str) -> None:
    commune = find_commune(text)
    assert commune is not None and commune.name == "Xã Khao Mang" and commune.code > 0


def test_find_commune_wards_and_unknown() -> None:
    for text in ("phuong nghia lo", "Nghĩa Lộ", "Phường Nghĩa Lộ"):
        found = find_commune(text)
        assert found is not None and found.name == "Phường Nghĩa Lộ"
    assert find_commune("Hoàn Kiếm") is None
    assert find_commune("") is None
    assert suggest_communes("Khao Mag")[0] == "Xã Khao Mang"


# --- reading files -------------------------------------------------------------------------


def test_read_rows_with_bom_and_semicolons(tmp_path: Path) -> None:
    bom = read_rows(write_csv(tmp_path / "bom.csv", GOOD, encoding="utf-8-sig"))
    semi = read_rows(write_csv(tmp_path / "semi.csv", GOOD, sep=";"))
    assert bom == semi
    assert [line for line, _ in bom] == [2, 3, 4]
    assert bom[0][1]["name"] == "HTX Chè Khao Mang (test)" and bom[0][1]["code"] == "T-01"


def test_read_rows_header_spellings_and_missing_header(tmp_path: Path) -> None:
    path = tmp_path / "ascii.csv"
    path.write_text(
        "ten,MA_SO,type,Linh vuc,xa phuong,address,Dien_thoai\nA,X1,htx,khac,sa pa,,\n",
        encoding="utf-8",
    )
    assert read_rows(path) == [
        (
            2,
            {
                "name": "A",
                "code": "X1",
                "kind": "htx",
                "sector": "khac",
                "commune": "sa pa",
                "address": "",
                "phone": "",
            },
        )
    ]
    path.write_text("Tên,Mã số,Loại hình,Lĩnh vực,Địa chỉ,Điện thoại\n", encoding="utf-8")
    with pytest.raises(CooperativeFileError, match="Xã/phường"):
        read_rows(path)
    with pytest.raises(CooperativeFileError):
        read_rows(tmp_path / "nowhere.csv")


# --- importing -----------------------------------------------------------------------------


async def test_import_good_and_bad_rows(app: App, tmp_path: Path) -> None:
    report = await run_import(app, write_csv(tmp_path / "coops.csv", GOOD + BAD))
    assert (report.created, report.updated) == (3, 0)
    reasons = dict(report.rejected)
    assert sorted(reasons) == [5, 6, 7, 8, 9]
    assert "Khao Mag" in reasons[5] and "Xã Khao Mang" in reasons[5]  # suggestion
    assert "loại hình" in reasons[6]
    assert "điện thoại" in reasons[7]
    assert "thiếu mã số" in reasons[8]
    assert "trùng" in reasons[9] and "dòng 2" in reasons[9]
    rendered = report.render()
    assert "3 mới" in rendered and "Dòng 5:" in rendered and "Dòng 9:" in rendered

    coops = await all_coops(app)
    assert sorted(coops) == ["T-01", "T-02", "T-03"]
    first, second, third = coops["T-01"], coops["T-02"], coops["T-03"]
    assert (first.kind, first.sector, first.commune, first.phone, first.status) == (
        "htx",
        "nong_lam_thuy_san",
        "Xã Khao Mang",
        "0912345678",
        "active",
    )
    assert first.commune_code == find_commune("khao mang").code  # type: ignore[union-attr]
    assert (second.kind, second.sector, second.commune, second.phone, second.status) == (
        "tht",
        "cong_nghiep_ttcn",
        "Phường Nghĩa Lộ",
        "0987654321",
        "inactive",
    )
    assert second.address is None
    assert (third.kind, third.commune, third.phone, third.status) == (
        "lhhtx",
        "Phường Sa Pa",
        None,
        "dissolved",
    )
    async with app.conversation.sessions() as session:
        audit = (await session.execute(select(AuditEntry))).scalars().all()
    assert [(a.action, a.actor) for a in audit] == [("import_cooperatives", "cli")]
    assert audit[0].detail == {"created": 3, "updated": 0, "unchanged": 0, "rejected": 5}


async def test_reimport_updates_without_duplicates(app: App, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "coops.csv", GOOD)
    await run_import(app, path)
    changed = [GOOD[0].replace("0912345678", "0911111111"), GOOD[1], GOOD[2]]
    later = NOW + timedelta(days=1)
    report = await run_import(app, write_csv(tmp_path / "v2.csv", changed), later)
    assert (report.created, report.updated, report.unchanged, report.rejected) == (0, 1, 2, [])
    coops = await all_coops(app)
    assert len(coops) == 3
    assert coops["T-01"].phone == "0911111111" and coops["T-01"].updated_at == later
    assert coops["T-02"].updated_at == NOW
    async with app.conversation.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(Cooperative))
    assert count == 3


async def test_import_bom_and_semicolon_csv(app: App, tmp_path: Path) -> None:
    report = await run_import(app, write_csv(tmp_path / "a.csv", GOOD, encoding="utf-8-sig"))
    assert report.created == 3 and not report.rejected
    report = await run_import(app, write_csv(tmp_path / "b.csv", GOOD, sep=";"))
    assert (report.created, report.unchanged, report.rejected) == (0, 3, [])


async def test_import_xlsx(app: App, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["ten", "ma_so", "loai_hinh", "linh_vuc", "xa_phuong", "dia_chi", "dien_thoai"])
    sheet.append(["HTX Excel (test)", "X-01", "HTX", "Xây dựng", "Bắc Hà", None, 912345678])
    sheet.append(["HTX Lỗi (test)", "X-02", "HTX", "bay", "Bắc Hà", None, "0912345679"])
    path = tmp_path / "coops.xlsx"
    workbook.save(path)
    report = await run_import(app, path)
    assert report.created == 1
    assert [line for line, _ in report.rejected] == [3]
    coop = (await all_coops(app))["X-01"]
    # Excel dropped the leading zero of the number; it comes back.
    assert (coop.sector, coop.commune, coop.phone) == ("xay_dung", "Xã Bắc Hà", "0912345678")


# --- exporting -----------------------------------------------------------------------------


async def test_export_csv_and_xlsx(app: App, tmp_path: Path) -> None:
    await run_import(app, write_csv(tmp_path / "coops.csv", GOOD))
    async with app.conversation.sessions() as session:
        assert await export_cooperatives(session, tmp_path / "out.csv", "csv") == 3
        assert await export_cooperatives(session, tmp_path / "out.xlsx", "xlsx") == 3

    raw = (tmp_path / "out.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM for Excel
    with (tmp_path / "out.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == HEADER.split(",")
    assert rows[1] == [
        "HTX Chè Khao Mang (test)",
        "T-01",
        "Hợp tác xã",
        "Nông – lâm – thủy sản",
        "Xã Khao Mang",
        "Bản Khao Mang",
        "0912345678",
        "Đang hoạt động",
    ]
    assert rows[2][2:4] == ["Tổ hợp tác", "Công nghiệp – TTCN"]

    workbook = load_workbook(tmp_path / "out.xlsx", read_only=True)
    sheet_rows = [
        ["" if v is None else str(v) for v in row] for row in workbook.worksheets[0].values
    ]
    workbook.close()
    assert sheet_rows == rows

    # What we export imports back unchanged.
    for name in ("out.csv", "out.xlsx"):
        report = await run_import(app, tmp_path / name)
        assert (report.created, report.updated, report.unchanged) == (0, 0, 3)


# --- command line --------------------------------------------------------------------------


def run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("COOPBOT_", "TELEGRAM_", "ZALO_"))
    }
    environ["DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environ,
        timeout=120,
    )


def test_cli_help(tmp_path: Path) -> None:
    for cmd in (["import", "cooperatives"], ["export", "cooperatives"], ["demo"]):
        out = run([*cmd, "--help"], tmp_path)
        assert out.returncode == 0 and "usage: coopbot" in out.stdout, cmd


def test_cli_import_export_demo(tmp_path: Path) -> None:
    good = write_csv(tmp_path / "good.csv", GOOD)
    out = run(["import", "cooperatives", str(good)], tmp_path)
    assert out.returncode == 0, out.stderr
    assert "3 mới" in out.stdout

    mixed = write_csv(tmp_path / "mixed.csv", GOOD + BAD)
    out = run(["import", "cooperatives", str(mixed)], tmp_path)
    assert out.returncode == 1
    assert "Dòng 5:" in out.stdout and "3 không đổi" in out.stdout

    broken = tmp_path / "broken.csv"
    broken.write_text("Tên,Mã số\nA,B\n", encoding="utf-8")
    out = run(["import", "cooperatives", str(broken)], tmp_path)
    assert out.returncode == 2 and "thiếu cột" in out.stderr

    out = run(["demo"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert "12" in out.stdout and "/dangky" in out.stdout

    out = run(["export", "cooperatives", "--format", "csv"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert not (tmp_path / "cooperatives.csv").exists()  # not into the current folder
    default = tmp_path / "var" / "exports" / "cooperatives.csv"
    assert str(default) in out.stdout
    with default.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == 1 + 3 + 12
    assert sum("(demo)" in r[0] for r in rows) == 12

    out = run(["export", "cooperatives"], tmp_path)  # the default: xlsx, same folder
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "var" / "exports" / "cooperatives.xlsx").is_file()
    out = run(["audit"], tmp_path)
    assert out.stdout.count("export_cooperatives") == 2 and "import_cooperatives" in out.stdout

    target = tmp_path / "out" / "reg.xlsx"
    target.parent.mkdir()
    out = run(["export", "cooperatives", "--format", "xlsx", "--output", str(target)], tmp_path)
    assert out.returncode == 0 and "15" in out.stdout and target.exists()
