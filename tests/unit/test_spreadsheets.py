"""Safe spreadsheets: formula-like cells are neutralised, workbooks read back as written."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from riveredge.spreadsheets import neutralise, workbook_bytes


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("=1+2", "'=1+2"),
        ('=HYPERLINK("http://evil.example","click")', '\'=HYPERLINK("http://evil.example","click")'),
        ("+31 20 555 0100", "'+31 20 555 0100"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\x01=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),  # a control character does not hide the formula
    ],
)
def test_text_that_could_start_a_formula_gets_an_apostrophe(raw: str, shown: str) -> None:
    assert neutralise(raw) == shown


@pytest.mark.parametrize("value", ["alice@example.com", "a=b", "1-2", "", "'already quoted", "line\nbreak"])
def test_ordinary_text_is_left_alone(value: str) -> None:
    assert neutralise(value) == value


@pytest.mark.parametrize("value", [-5, 3.5, True, False, None, datetime(2026, 1, 2, 3, 4, 5)])
def test_values_that_are_not_text_are_left_alone(value: object) -> None:
    assert neutralise(value) == value


def test_a_written_workbook_reads_back_with_its_values_and_neutralised_cells() -> None:
    # Given a header and rows, some of them hostile
    headers = ["Email", "Name", "Count", "Active"]
    rows = [
        ["alice@example.com", "Alice", 3, True],
        ["mallory@example.com", '=HYPERLINK("http://evil.example")', -1, False],
        ["@bob@example.com", "+Bob", None, True],
    ]

    # When they are written as a workbook and read back
    data = workbook_bytes("Login log", headers, rows)
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    assert sheet is not None
    values = [list(row) for row in sheet.iter_rows(values_only=True)]

    # Then the file is an xlsx (a zip) holding exactly what was written, hostile text as text
    assert data[:2] == b"PK"
    assert values == [
        headers,
        ["alice@example.com", "Alice", 3, True],
        ["mallory@example.com", '\'=HYPERLINK("http://evil.example")', -1, False],
        ["'@bob@example.com", "'+Bob", None, True],
    ]


def test_no_cell_of_a_written_workbook_is_a_formula() -> None:
    data = workbook_bytes("Sheet", ["=A1"], [["=1+1", "-1+1", "@x"]])
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_the_sheet_title_is_made_valid() -> None:
    data = workbook_bytes("Log: 2026/01 [all] and a title far too long for Excel", ["a"], [])
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    title = workbook.sheetnames[0]
    assert len(title) <= 31
    assert not set(title) & set("[]:*?/\\")


def test_control_characters_do_not_fail_the_export() -> None:
    data = workbook_bytes("Sheet", ["agent"], [["curl\x00/8\x07"]])
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    assert sheet is not None
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [["agent"], ["curl/8"]]


def test_importing_the_module_does_not_load_openpyxl() -> None:
    # A fresh interpreter: the layer must not pay for openpyxl at cold start
    code = "import sys, riveredge.spreadsheets; print('openpyxl' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2] / "layers" / "platform",
    )
    assert result.stdout.strip() == "False"
