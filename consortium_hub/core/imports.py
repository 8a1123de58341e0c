"""Reading uploaded spreadsheets: the kind-agnostic half of every import.

An upload (CSV or XLSX bytes) becomes a `Table`: normalised header names and rows of trimmed
strings, each with its spreadsheet row number (the header is row 1). Whatever is wrong with the
file as a whole (empty, too large, not UTF-8, not a spreadsheet, missing or unknown columns) is
reported as `Problem`s instead of raising, so a preview can list every problem at once.

Pure functions: no database, no request. Directory imports build on this; later uploads
(affiliations) reuse it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

CSV, XLSX = "csv", "xlsx"
FORMATS = (CSV, XLSX)

_ZIP_MAGIC = b"PK\x03\x04"
# Files people upload by mistake: old Excel/Word (OLE), PDF, images, gzip, UTF-16/32 text.
_BINARY_MAGIC = (b"\xd0\xcf\x11\xe0", b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an upload: a whole-file problem has no row."""

    message: str
    row: int | None = None  # spreadsheet row number; the header is row 1
    column: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problem:
        return cls(message=str(data.get("message", "")), row=data.get("row"), column=str(data.get("column", "")))


@dataclass
class TableRow:
    number: int  # spreadsheet row number
    values: dict[str, str]  # header name -> trimmed cell text ("" for empty)


@dataclass
class Table:
    format: str = CSV
    headers: list[str] = field(default_factory=list)
    header_row: int = 1
    rows: list[TableRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # file-level and structural row problems

    @property
    def ok(self) -> bool:
        return not self.problems


def normalise_header(name: Any) -> str:
    return str(name if name is not None else "").strip().lower()


def detect_format(content: bytes) -> str | None:
    """CSV or XLSX from the content itself, whatever the file is called; None when it is neither."""
    if content.startswith(_ZIP_MAGIC):
        return XLSX
    if content.startswith(_BINARY_MAGIC) or (b"\x00" in content[:4096] and not content.startswith(_UTF16_BOMS)):
        return None
    return CSV


def read_table(content: bytes, filename: str = "", *, max_bytes: int | None = None) -> Table:
    """Read an upload into a Table; every file-level problem lands in `table.problems`."""
    too_large = size_problem(len(content), max_bytes)
    if too_large is not None:
        return Table(problems=[too_large])
    if not content.strip():
        return Table(problems=[Problem(_("The file is empty."))])
    fmt = detect_format(content)
    if fmt is None:
        return Table(problems=[_not_a_spreadsheet()])
    if fmt == CSV and filename.lower().endswith((".xlsx", ".xls")):
        # A name promising a workbook over text content: most likely a mislabelled or broken file.
        return Table(problems=[_not_a_spreadsheet()])
    table = _read_xlsx(content) if fmt == XLSX else _read_csv(content)
    table.format = fmt
    if table.ok and not table.headers:
        table.problems.append(Problem(_("The file is empty.")))
    elif table.ok and not table.rows:
        table.problems.append(Problem(_("The file has a header row but no rows to import.")))
    return table


def size_problem(size: int, max_bytes: int | None = None) -> Problem | None:
    """The problem with a file of `size` bytes, if it is over the limit (checked before reading an upload)."""
    max_bytes = settings.IMPORT_MAX_BYTES if max_bytes is None else max_bytes
    if size <= max_bytes:
        return None
    return Problem(_("The file is %(size)s; the largest file accepted is %(max)s.")
                   % {"size": filesizeformat(size), "max": filesizeformat(max_bytes)})


def _not_a_spreadsheet() -> Problem:
    return Problem(_("The file is not a CSV or XLSX file. Save it from your spreadsheet as CSV UTF-8 or as an "
                     "Excel workbook (.xlsx)."))


def _read_csv(content: bytes) -> Table:
    if content.startswith(_UTF16_BOMS):
        return Table(problems=[_not_utf8()])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Table(problems=[_not_utf8()])
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=first_line.count) if any(d in first_line for d in _DELIMITERS) else ","
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        return Table(problems=[Problem(_("The file could not be read as CSV: %(error)s") % {"error": exc})])
    return _table_from_records(CSV, records)


def _not_utf8() -> Problem:
    return Problem(_("The file is not UTF-8 encoded: save it as CSV UTF-8."))


def _read_xlsx(content: bytes) -> Table:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        return Table(problems=[_not_a_spreadsheet()])
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            return Table()
        sheet.reset_dimensions()  # some writers record a wrong sheet size; read every cell there is
        records = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    except Exception:  # noqa: BLE001 - any damage inside the workbook means the same to the user
        return Table(problems=[_not_a_spreadsheet()])
    finally:
        workbook.close()
    return _table_from_records(XLSX, records)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _table_from_records(fmt: str, records: list[list[str]]) -> Table:
    table = Table(format=fmt)
    # Leading blank lines are not the header; the header's row number is where it really is.
    start = 0
    while start < len(records) and not any(str(c).strip() for c in records[start]):
        start += 1
    if start == len(records):
        return table
    header_number = start + 1
    headers = [normalise_header(h) for h in records[start]]
    while headers and not headers[-1]:
        headers.pop()
    table.headers = headers
    table.header_row = header_number
    seen: set[str] = set()
    for position, name in enumerate(headers, start=1):
        if not name:
            table.problems.append(Problem(_("Column %(n)d has no name in the header row.") % {"n": position},
                                          row=header_number))
        elif name in seen:
            table.problems.append(Problem(_("The column %(name)s appears more than once.") % {"name": name},
                                          row=header_number, column=name))
        seen.add(name)
    for index in range(start + 1, len(records)):
        cells = [str(c).strip() for c in records[index]]
        if not any(cells):
            continue  # blank lines are skipped, but row numbers still count them
        number = index + 1
        extra = cells[len(headers):]
        if any(extra):
            table.problems.append(Problem(_("This row has more cells than the header has columns."), row=number))
        cells = cells[:len(headers)] + [""] * max(0, len(headers) - len(cells))
        table.rows.append(TableRow(number=number, values=dict(zip(headers, cells, strict=True))))
    return table


def missing_columns(table: Table, required: Iterable[str | tuple[str, ...]]) -> list[str]:
    """The required columns the header lacks ("a or b" for a group of which one is enough)."""
    present = set(table.headers)
    missing: list[str] = []
    for need in required:
        options = (need,) if isinstance(need, str) else tuple(need)
        if not present.intersection(options):
            missing.append(_(" or ").join(options))
    return missing


def check_columns(table: Table, *, known: Sequence[str], required: Iterable[str | tuple[str, ...]]) -> list[Problem]:
    """Missing required columns and unknown columns, each named.

    A required entry that is a tuple means "at least one of these".
    """
    problems: list[Problem] = []
    missing = missing_columns(table, required)
    if missing:
        problems.append(Problem(_("Required columns are missing: %(columns)s.") % {"columns": ", ".join(missing)},
                                row=table.header_row))
    unknown = [h for h in table.headers if h and h not in known]
    if unknown:
        problems.append(Problem(_("Unknown columns: %(columns)s. The columns are: %(known)s.")
                                % {"columns": ", ".join(unknown), "known": ", ".join(known)}, row=table.header_row))
    return problems
