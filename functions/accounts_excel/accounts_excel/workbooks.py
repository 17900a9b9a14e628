"""Workbooks of accounts: the import template, and reading an uploaded workbook without trusting it.

An uploaded file is checked as a zip archive before openpyxl sees it (its size, the
sizes it claims once inflated, the compression ratio of every member: a zip bomb is
refused unopened). openpyxl then reads it in read-only mode, row by row, through
defusedxml (no entity expansion, no external entities); without defusedxml nothing is
parsed at all. Reading stops after a cap of data rows and after a long run of empty
rows, so a sheet that claims a million rows is never walked to its end.

openpyxl is imported where a workbook is read or written, never at cold start.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any, NamedTuple

from riveredge.errors import FieldProblem, ValidationError
from riveredge.spreadsheets import neutralise

SHEET_TITLE = "Accounts"
HEADERS = ("email", "name", "phone", "department_code", "position_code", "roles")
REQUIRED_HEADERS = ("email", "name")
_INSTRUCTIONS = (
    ("email", "yes", "The address the activation link is mailed to; unique within the organisation and the file."),
    ("name", "yes", "The person's name, at most 100 characters."),
    ("phone", "no", "At most 40 characters."),
    (
        "department_code",
        "if your data scope is not 'all'",
        "The code of an existing department within your data scope.",
    ),
    ("position_code", "no", "The code of an existing position of that department (needs department_code)."),
    (
        "roles",
        "no",
        "Role names separated by commas (for example: user, auditor); you can only give roles whose "
        "permissions and data scope you hold yourself.",
    ),
)
_NOTES = (
    "Fill the Accounts sheet: one account per row below the header row; do not rename or reorder headers.",
    "Every row is checked; rows with a problem are not stored and the report names the row, the field and why.",
    "Imported accounts are invited: each person receives a link to set their password (valid for 7 days).",
    "At most 10,000 accounts and 20 MB per file. Use dry run to check a file without storing anything.",
)


@dataclass(frozen=True)
class Limits:
    """What an uploaded workbook may be (the import's caps, in one place so tests can lower them)."""

    file_bytes: int = 20 * 1024 * 1024
    uncompressed_bytes: int = 200 * 1024 * 1024
    ratio: int = 100
    members: int = 1_000
    rows: int = 10_000
    columns: int = 64  # the six account columns and up to 50 custom fields, with room to spare
    empty_run: int = 1_000


LIMITS = Limits()


class SheetRow(NamedTuple):
    """One data row: its number in the sheet and its cells as trimmed text ('' when empty), in HEADERS order,
    then the custom-field columns it has (``cf.<key>`` -> text)."""

    number: int
    email: str
    name: str
    phone: str
    department_code: str
    position_code: str
    roles: str
    custom: Mapping[str, str] = {}


@dataclass(frozen=True)
class CustomColumn:
    """A custom-field column of the template: header ``cf.<key>`` and what the Instructions sheet says of it."""

    header: str
    label: str
    required: bool
    help: str


def _refused(message: str) -> ValidationError:
    return ValidationError("the file cannot be imported", errors=[FieldProblem("file", message)])


def check_archive(data: bytes, limits: Limits = LIMITS) -> None:
    """Refuse (422, field ``file``) what is not an xlsx archive, or would inflate beyond the caps."""
    if len(data) > limits.file_bytes:
        raise _refused(f"the file is larger than {limits.file_bytes // (1024 * 1024)} MB")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise _refused("the file is not an xlsx workbook") from error
    with archive:
        members = archive.infolist()
        names = {m.filename for m in members}
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            raise _refused("the file is not an xlsx workbook")
        if len(members) > limits.members:
            raise _refused(f"the workbook has more than {limits.members} parts")
        total = 0
        for member in members:
            total += member.file_size
            if member.file_size > limits.ratio * max(member.compress_size, 1):
                raise _refused(
                    f"{member.filename} inflates more than {limits.ratio} times (a zip bomb?); save the file again"
                )
        if total > limits.uncompressed_bytes:
            raise _refused(f"the workbook inflates to more than {limits.uncompressed_bytes // (1024 * 1024)} MB")


def _text(value: Any) -> str:
    """A cell as trimmed text: whole numbers without '.0', dates in ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


def _header_index(cells: Sequence[str], custom: Sequence[str] = ()) -> dict[str, int]:
    """Where each known header is; unknown, repeated or missing required headers refuse the file."""
    found: dict[str, int] = {}
    known = (*HEADERS, *custom)
    for position, cell in enumerate(cells):
        if not cell:
            continue
        name = cell.strip().lower().replace(" ", "_")
        if name not in known:
            raise _refused(f"unknown column '{cell}' in the header row (expected: {', '.join(known)})")
        if name in found:
            raise _refused(f"the column '{name}' appears twice in the header row")
        found[name] = position
    missing = [h for h in REQUIRED_HEADERS if h not in found]
    if missing:
        raise _refused(f"the header row lacks {', '.join(missing)} (download the import template)")
    return found


class UnsafeParserError(RuntimeError):
    """openpyxl would parse uploaded XML without defusedxml: the import refuses to run (a server fault)."""


def ensure_safe_parser() -> None:
    """Fail closed unless openpyxl parses through defusedxml (it does when defusedxml is installed)."""
    import openpyxl

    if not openpyxl.DEFUSEDXML:
        raise UnsafeParserError("defusedxml is not available to openpyxl; refusing to parse an uploaded workbook")


def _rows(data: bytes, limits: Limits) -> Generator[tuple[int, tuple[Any, ...]]]:
    """(row number, values) of the account sheet, at most `columns` + 1 values each; closes the workbook."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as error:  # anything openpyxl cannot read is not a workbook we import
        raise _refused("the file is not a readable xlsx workbook") from error
    try:
        sheets = workbook.worksheets
        if not sheets:
            raise _refused("the workbook has no worksheet")
        sheet = workbook[SHEET_TITLE] if SHEET_TITLE in workbook.sheetnames else sheets[0]
        # max_col: rows are never widened to what the sheet's <dimension> claims
        rows = sheet.iter_rows(min_row=1, max_col=limits.columns + 1, values_only=True)
        yield from enumerate(rows, start=1)
    finally:
        workbook.close()


def read_rows(data: bytes, limits: Limits = LIMITS, custom: Sequence[str] = ()) -> list[SheetRow]:
    """The data rows of an uploaded workbook, after the archive checks; a file that breaks a cap is a 422.

    `custom` are the custom-field headers (``cf.<key>``) the organisation's accounts have.

    The header row is the first row that is not empty. Empty rows are skipped, and reading stops after
    `empty_run` empty rows in a row. More than `rows` data rows, or a value beyond column `columns`,
    refuse the whole file.
    """
    check_archive(data, limits)
    ensure_safe_parser()
    header: dict[str, int] | None = None
    found: list[SheetRow] = []
    empty_run = 0
    rows = _rows(data, limits)
    try:
        for number, values in rows:
            cells = [_text(v) for v in values]
            if not any(cells):
                empty_run += 1
                if empty_run >= limits.empty_run:
                    break
                continue
            empty_run = 0
            if len(cells) > limits.columns and any(cells[limits.columns :]):
                raise _refused(f"row {number} has values beyond column {limits.columns}; use at most that many")
            if header is None:
                header = _header_index(cells, custom)
                continue
            if len(found) >= limits.rows:
                raise _refused(f"the sheet has more than {limits.rows} data rows; split it into several files")
            found.append(
                SheetRow._make(
                    (
                        number,
                        *(_cell(cells, header, h) for h in HEADERS),
                        {h: _cell(cells, header, h) for h in custom if h in header},
                    )
                )
            )
    except ValidationError:
        raise
    except Exception as error:  # a part openpyxl could not parse while streaming (bad XML, forbidden entities)
        raise _refused("the file is not a readable xlsx workbook") from error
    finally:
        rows.close()  # closes the workbook, also when reading stopped early
    if header is None:
        raise _refused("the sheet is empty: it needs the header row of the import template")
    return found


def _cell(cells: Sequence[str], header: Mapping[str, int], name: str) -> str:
    return cells[header[name]] if name in header and header[name] < len(cells) else ""


@lru_cache(maxsize=32)
def template_bytes(custom: tuple[CustomColumn, ...] = ()) -> bytes:
    """The import template: the Accounts sheet with its header row (then the custom-field columns), and an
    Instructions sheet."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    accounts = workbook.create_sheet(title=SHEET_TITLE)
    accounts.append([neutralise(h) for h in (*HEADERS, *(c.header for c in custom))])
    instructions = workbook.create_sheet(title="Instructions")
    instructions.append(["column", "required", "what to write"])
    for row in _INSTRUCTIONS:
        instructions.append([neutralise(cell) for cell in row])
    for column in custom:
        what = f"{column.label}: {column.help}"
        instructions.append([neutralise(column.header), "yes" if column.required else "no", neutralise(what)])
    instructions.append([])
    for note in _NOTES:
        instructions.append([neutralise(note)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
