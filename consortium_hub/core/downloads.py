"""CSV downloads: every export in the hub is written here, with the same guard against formulas.

A cell that starts with "=", "+", "-" or "@" would be run as a formula by a spreadsheet, and data
typed by members or researchers can start that way; such cells get a leading apostrophe (numbers
like "-12.50" are left alone). Uploads that read our own exports back remove it again
(`registry.validation.unescape_formula_guard`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Spreadsheet programs read a CSV as UTF-8 only when it starts with a byte-order mark.
BOM = "\ufeff"


def safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    if text[:1] in FORMULA_STARTS and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class _Echo:
    """csv.writer's file: hands each written line straight back, for streaming."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[Any]], *, bom: bool = False) -> Iterator[str]:
    if bom:
        yield BOM
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])


def csv_response(filename: str, rows: Iterable[Iterable[Any]], *, streaming: bool = False,
                 bom: bool = False) -> HttpResponse | StreamingHttpResponse:
    """`streaming=True` for exports that may hold 100,000 rows: they never sit in memory."""
    lines = csv_lines(rows, bom=bom)
    if streaming:
        response: HttpResponse | StreamingHttpResponse = StreamingHttpResponse(
            lines, content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse("".join(lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
