"""Tables in files: reading the CSV and XLSX files staff import, writing the ones they export.

Every file that comes in is treated as hostile. Before a byte is parsed the file's size is
checked; an XLSX (a zip) is checked member by member — how many, how large once unpacked, how
strongly compressed — so a small "zip bomb" is refused before it can fill the memory; the XML
inside is parsed by openpyxl through defusedxml (entity expansion refused); rows, columns and
cell lengths are bounded. Each failure is one :class:`SpreadsheetError` whose text is a
single translatable line, never a traceback.

Headers are looked for in the first rows, so a title row above them is fine. Rows come back as
:class:`TableRow`: the line number a person sees in the file and ``{field: text}``, with the
problems found while reading the row (a cell that runs over several lines where none may,
which is what an unbalanced quote in a CSV does to the next row; a cell too long).

Every cell that goes out is made safe first (:func:`safe_cell`): text that a spreadsheet would
run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR) is written as text — a string cell in
XLSX, and with OWASP's leading single quote in CSV.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ground.i18n import N_, Translator
from knowledge.normalize import fold

FORMATS = ("xlsx", "csv")
_ENTITIES = N_("tệp Excel chứa khai báo XML không được phép (DTD/entity); không đọc")
Progress = Callable[[int, int], None]  # (rows done, rows rejected)


@dataclass(frozen=True)
class Limits:
    """How much of a file coopbot agrees to read."""

    file_bytes: int = 50 * 1024 * 1024  # the file as uploaded
    unpacked_bytes: int = 50 * 1024 * 1024  # an XLSX once unzipped, all members together
    zip_members: int = 500
    zip_ratio: int = 200  # unpacked / packed size of one member (spreadsheets reach ~20)
    rows: int = 200_000
    columns: int = 200
    cell_chars: int = 5_000
    header_rows: int = 10  # the header is looked for in this many non-empty rows


LIMITS = Limits()


class SpreadsheetError(Exception):
    """The file cannot be used at all. ``str()`` is the Vietnamese line; :meth:`render`
    gives it in a translator's language."""

    def __init__(self, message: str, /, **values: object) -> None:
        self.message = message
        self.values = values
        super().__init__(message.format(**values) if values else message)

    def render(self, t: Translator) -> str:
        return t.t(self.message, **self.values)


class TableRow(tuple[int, dict[str, str]]):
    """``(line, {field: text})``, plus ``end`` (the last line when a quoted cell spans
    several) and ``problems`` found while reading (Vietnamese lines for the import report)."""

    end: int
    problems: tuple[str, ...]

    def __new__(
        cls, line: int, values: dict[str, str], end: int | None = None, problems: Iterable[str] = ()
    ) -> TableRow:
        row = super().__new__(cls, (line, values))
        row.end = end if end is not None else line
        row.problems = tuple(problems)
        return row

    @property
    def line(self) -> int:
        return self[0]

    @property
    def values(self) -> dict[str, str]:
        return self[1]


@dataclass(frozen=True)
class Columns:
    """The columns a file may have: field → spellings (the first is the label shown)."""

    spellings: Mapping[str, Sequence[str]]
    required: Sequence[str]
    multiline: frozenset[str] = frozenset()  # fields whose cells may hold line breaks

    def describe(self, name: str) -> str:
        label, *others = self.spellings[name]
        return f"“{label}” (hoặc {', '.join(others)})" if others else f"“{label}”"


# --- cells ---------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Drop NUL and the other control characters a database or a terminal chokes on."""
    return _CONTROL.sub("", text)


def header_key(text: str) -> str:
    """``"Xã/phường"``, ``"xa_phuong"``, ``"XA PHUONG"`` → ``"xaphuong"``."""
    return re.sub(r"[^a-z0-9]", "", fold(text))


def iso_cell(value: Any) -> str:
    """An Excel cell as text: whole numbers without ".0", dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e18:
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    return clean_text(str(value)).strip()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any, fmt: str) -> Any:
    """A value ready for an export cell: numbers and dates unchanged; text without control
    characters, and text a spreadsheet would run as a formula prefixed with ``'`` in CSV
    (OWASP). In XLSX such text is written as a string cell by :func:`write_table`."""
    if value is None or isinstance(value, bool | int | float | date):
        return value
    text = _CONTROL.sub("", str(value))
    if fmt == "csv" and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


# --- reading -------------------------------------------------------------------------------


def _check_size(path: Path, limits: Limits) -> None:
    if not path.is_file():
        raise SpreadsheetError(N_("không tìm thấy tệp {name}"), name=str(path))
    if path.stat().st_size > limits.file_bytes:
        raise SpreadsheetError(
            N_("tệp lớn quá {mb} MB; hãy chia thành nhiều tệp nhỏ hơn"),
            mb=limits.file_bytes // (1024 * 1024),
        )


def _sniff_delimiter(text: str) -> str:
    """``;`` when the header has more semicolons than commas (Excel in some locales). The
    header is the line with the most separators among the first non-empty ones (a title
    row may come first)."""
    lines = [line for line in itertools.islice(io.StringIO(text), 50) if line.strip()][:10]

    def counts(line: str) -> dict[str, int]:
        return {d: line.count(d) for d in (",", ";", "\t")}

    header = max(lines, key=lambda line: max(counts(line).values()), default="")
    found = counts(header)
    return max(found, key=lambda d: found[d]) if any(found.values()) else ","


def _csv_lines(path: Path, limits: Limits) -> Iterator[tuple[int, int, list[str]]]:
    """(first line, last line, cells) of each CSV record."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpreadsheetError(
            N_("tệp CSV không phải mã UTF-8; trong Excel hãy lưu lại bằng “CSV UTF-8”")
        ) from None
    text = text.replace("\x00", "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    start = 1
    try:
        for cells in reader:
            yield start, reader.line_num, cells
            start = reader.line_num + 1  # a quoted cell may span several lines
    except csv.Error:
        raise SpreadsheetError(
            N_("tệp CSV hỏng ở dòng {line} (ô quá dài hoặc dấu ngoặc kép sai)"),
            line=reader.line_num,
        ) from None


_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _check_zip(path: Path, limits: Limits) -> None:
    """Refuse a zip that is not a spreadsheet's shape before anything unpacks it."""
    try:
        with zipfile.ZipFile(path) as archive:
            _check_members(archive, limits)
    except SpreadsheetError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, zlib.error):
        raise SpreadsheetError(N_("tệp Excel hỏng hoặc không phải tệp .xlsx")) from None


def _check_members(archive: zipfile.ZipFile, limits: Limits) -> None:
    members = archive.infolist()
    if len(members) > limits.zip_members:
        raise SpreadsheetError(N_("tệp Excel có quá nhiều thành phần bên trong; không đọc"))
    mb = limits.unpacked_bytes // (1024 * 1024)
    if sum(m.file_size for m in members) > limits.unpacked_bytes:
        raise SpreadsheetError(
            N_("tệp Excel giải nén ra hơn {mb} MB; hãy chia thành nhiều tệp nhỏ hơn"), mb=mb
        )
    for m in members:
        if m.file_size > 1024 * 1024 and m.file_size > limits.zip_ratio * max(m.compress_size, 1):
            raise SpreadsheetError(
                N_("tệp Excel bị nén bất thường (có thể là “bom nén”); không đọc")
            )
    # No spreadsheet needs a DTD; one declaring entities is an attack ("billion laughs").
    # The head of each XML part is looked at here; defusedxml refuses entities in openpyxl too.
    for m in members:
        if m.filename.endswith((".xml", ".rels", ".vml")):
            with archive.open(m) as fh:
                if _DTD.search(fh.read(4096)):
                    raise SpreadsheetError(_ENTITIES)


def _defused(exc: BaseException) -> bool:
    """True when defusedxml refused the XML (openpyxl wraps its error in a ValueError)."""
    from defusedxml import DefusedXmlException

    return any(isinstance(e, DefusedXmlException) for e in (exc, exc.__cause__, exc.__context__))


def _xlsx_lines(path: Path, limits: Limits) -> Iterator[tuple[int, int, list[Any]]]:
    """(line, line, cells) of each row of the first sheet. The ``<dimension>`` the file claims
    is not trusted: every row is read."""
    from openpyxl import load_workbook

    _check_zip(path, limits)
    try:
        with warnings.catch_warnings():  # openpyxl warns about parts it skips: not our reader's
            warnings.simplefilter("ignore")
            workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        if _defused(exc):
            raise SpreadsheetError(_ENTITIES) from None
        raise SpreadsheetError(N_("tệp Excel hỏng hoặc không phải tệp .xlsx")) from None
    line = 0
    try:
        if not workbook.worksheets:
            raise SpreadsheetError(N_("tệp Excel không có trang tính nào"))
        sheet = workbook.worksheets[0]
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()
        for line, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, line, list(cells[: limits.columns])
    except SpreadsheetError:
        raise
    except Exception as exc:
        if _defused(exc):
            raise SpreadsheetError(_ENTITIES) from None
        raise SpreadsheetError(
            N_("tệp Excel hỏng: không đọc được sau dòng {line}"), line=line
        ) from None
    finally:
        workbook.close()


def raw_lines(path: Path | str, limits: Limits = LIMITS) -> Iterator[tuple[int, int, list[Any]]]:
    """(first line, last line, cells) of every record of a .csv or .xlsx file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xls"):
        raise SpreadsheetError(
            N_("chỉ nhận tệp .csv hoặc .xlsx, không nhận “{suffix}”"), suffix=path.suffix
        )
    _check_size(path, limits)
    if suffix == ".xls":
        raise SpreadsheetError(N_("tệp .xls (Excel cũ): hãy lưu lại thành .xlsx hoặc CSV UTF-8"))
    return _csv_lines(path, limits) if suffix == ".csv" else _xlsx_lines(path, limits)


def _map_header(texts: list[str], columns: Columns) -> tuple[dict[int, str], list[str]]:
    """(position → field, missing required fields); raise on a column given twice."""
    index = {
        header_key(s): name for name, spellings in columns.spellings.items() for s in spellings
    }
    mapping: dict[int, str] = {}
    for pos, text in enumerate(texts):
        name = index.get(header_key(text))
        if name is None:
            continue
        if name in mapping.values():
            raise SpreadsheetError(
                N_("cột {column} xuất hiện hai lần"), column=columns.describe(name)
            )
        mapping[pos] = name
    missing = [n for n in columns.required if n not in mapping.values()]
    return mapping, missing


def _row_problems(
    cells: dict[str, str], columns: Columns, delimiters: int, limits: Limits, first: int, last: int
) -> list[str]:
    problems: list[str] = []
    for name, text in cells.items():
        label = columns.spellings[name][0]
        if len(text) > limits.cell_chars:
            problems.append(f"ô “{label}” dài quá {limits.cell_chars} ký tự")
        if last == first or ("\n" not in text and "\r" not in text):
            continue  # a line break typed inside an XLSX cell (Alt+Enter) swallows nothing
        inner = text.splitlines()[1:]
        swallowed = delimiters and any(
            line.count(",") + line.count(";") >= delimiters for line in inner
        )
        if name not in columns.multiline or swallowed:
            problems.append(
                f"ô “{label}” xuống dòng (dòng {first}–{last}): có thể thiếu dấu ngoặc kép đóng, "
                "dòng sau bị gộp vào"
            )
    return problems


def read_table(
    path: Path | str,
    columns: Columns,
    *,
    cell_text: Callable[[Any], str] = iso_cell,
    limits: Limits = LIMITS,
) -> list[TableRow]:
    """The data rows of a .csv or .xlsx file under the header row (found among the first
    rows), as :class:`TableRow`. Raise :class:`SpreadsheetError` when the file cannot be used."""
    header: dict[int, str] | None = None
    best: tuple[int, list[str]] | None = None  # (columns recognised, missing) of the best try
    tried = 0
    delimiters = 0
    rows: list[TableRow] = []
    for first, last, cells in raw_lines(path, limits):
        texts = [cell_text(c) for c in cells]
        if not any(texts):
            continue
        if header is None:
            mapping, missing = _map_header(texts, columns)
            if not missing:
                header, delimiters = mapping, max(len(mapping) - 1, 1)
                continue
            if best is None or len(mapping) > best[0]:
                best = (len(mapping), missing)
            tried += 1
            if tried >= limits.header_rows:
                break
            continue
        if len(rows) >= limits.rows:
            raise SpreadsheetError(
                N_("tệp có hơn {n} dòng dữ liệu; hãy chia thành nhiều tệp nhỏ hơn"), n=limits.rows
            )
        values = {name: texts[pos] if pos < len(texts) else "" for pos, name in header.items()}
        problems = _row_problems(values, columns, delimiters, limits, first, last)
        rows.append(TableRow(first, values, last, problems))
    if header is None:
        if best is None:
            raise SpreadsheetError(N_("tệp trống: không có dòng tiêu đề"))
        names = "; ".join(columns.describe(n) for n in best[1])
        raise SpreadsheetError(
            N_("thiếu cột bắt buộc: {names} (dòng tiêu đề phải nằm trong {n} dòng đầu)"),
            names=names,
            n=limits.header_rows,
        )
    return rows


# --- writing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """How an XLSX export looks: sheet name, column widths, money columns, frozen cell."""

    sheet: str = "Sheet1"
    widths: Sequence[int] = ()
    money: frozenset[int] = frozenset()  # column indexes shown with thousands separators
    freeze: str = "A2"
    wrap_header: bool = False


def write_table(
    path: Path | str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    fmt: str,
    layout: Layout = Layout(),
    progress: Progress | None = None,
) -> int:
    """Write a header row and ``rows`` to ``path`` as "xlsx" or "csv"; return the row count.
    Every cell goes through :func:`safe_cell`: no cell is ever a live formula.
    ``progress(done, 0)`` is called every thousand rows and at the end."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    path = Path(path)
    if progress is not None:
        rows = _counted(rows, progress)
    count = (
        _write_csv(path, headers, rows)
        if fmt == "csv"
        else _write_xlsx(path, headers, rows, layout)
    )
    if progress is not None:
        progress(count, 0)
    return count


def _counted(rows: Iterable[Sequence[Any]], progress: Progress) -> Iterator[Sequence[Any]]:
    for done, row in enumerate(rows, start=1):
        if done % 1000 == 0:
            progress(done, 0)
        yield row


def _write_csv(path: Path, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    count = 0
    # UTF-8 with a BOM: Excel then shows the Vietnamese letters correctly.
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([safe_cell(h, "csv") for h in headers])
        for row in rows:
            writer.writerow(["" if v is None else safe_cell(v, "csv") for v in row])
            count += 1
    return count


def _write_xlsx(
    path: Path, headers: Sequence[str], rows: Iterable[Sequence[Any]], layout: Layout
) -> int:
    from openpyxl import Workbook
    from openpyxl.cell.cell import TYPE_STRING, Cell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = layout.sheet[:31] or "Sheet1"

    def cells(values: Sequence[Any], header: bool = False) -> list[Cell]:
        out = []
        for index, value in enumerate(values):
            cell = Cell(sheet, value=safe_cell(value, "xlsx"))
            if isinstance(cell.value, str):
                cell.data_type = TYPE_STRING  # never a formula, whatever it starts with
            if header:
                cell.font = Font(bold=True)
                if layout.wrap_header:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
            elif index in layout.money:
                cell.number_format = "#,##0"
            out.append(cell)
        return out

    sheet.append(cells(headers, header=True))
    count = 0
    for row in rows:
        sheet.append(cells(row))
        count += 1
    for index, header in enumerate(headers):
        width = (
            layout.widths[index]
            if index < len(layout.widths)
            else min(max(12, len(header) + 2), 40)
        )
        sheet.column_dimensions[get_column_letter(index + 1)].width = width
    sheet.freeze_panes = layout.freeze
    workbook.save(path)
    return count
