"""Spreadsheets written safely: the one way every export builds an xlsx or CSV file.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
could be taken for a formula by Excel or LibreOffice (formula injection: a user
names themself ``=HYPERLINK(...)`` and an admin opens the export). Such cells
get a leading apostrophe, so the spreadsheet shows them as text. Characters
that XML 1.0 cannot carry are dropped rather than failing the whole export.

openpyxl is heavy: it is imported by :func:`workbook_bytes` when an export is
built, never when this module is imported, and only the functions that export
list it in their requirements.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# XML 1.0 forbids these control characters (openpyxl refuses a cell holding one).
_ILLEGAL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SHEET_TITLE_MAX = 31


def neutralise(value: Any) -> Any:
    """`value` as a cell may safely hold it: text that could start a formula gets a leading apostrophe.

    Only strings change; numbers, booleans, dates and None are returned as they are.
    """
    if not isinstance(value, str):
        return value
    text = _ILLEGAL_CHARACTERS.sub("", value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _sheet_title(title: str) -> str:
    cleaned = _SHEET_TITLE_FORBIDDEN.sub(" ", _ILLEGAL_CHARACTERS.sub("", title)).strip("' ")
    return cleaned[:_SHEET_TITLE_MAX] or "Sheet1"


def workbook_bytes(sheet_title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """An xlsx file with one sheet: a header row, then `rows`, every cell neutralised.

    The workbook is written in openpyxl's write-only mode, row by row, so memory
    stays flat however many rows there are; callers cap the row count.
    """
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(sheet_title))
    sheet.append([neutralise(h) for h in headers])
    for row in rows:
        sheet.append([neutralise(cell) for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A CSV file (UTF-8 with a byte-order mark, so that Excel reads it as UTF-8; CRLF line ends, RFC 4180): a
    header row, then `rows`, every cell neutralised as in a workbook (a spreadsheet opening the file would run a
    formula just the same). None is an empty cell; booleans are TRUE / FALSE."""
    import csv  # only the functions that write CSV load it

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in headers])
    for row in rows:
        writer.writerow([_csv_cell(neutralise(cell)) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return value
