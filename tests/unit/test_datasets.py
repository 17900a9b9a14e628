"""Running a dataset, the pure parts: parameters coerced by their declared types, API placeholders, the shape of an
extracted answer, CSV cells neutralised, and cold starts without the drivers."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from riveredge import datasets
from riveredge.errors import ValidationError
from riveredge.spreadsheets import csv_bytes

ROOT = Path(__file__).resolve().parents[2]
SPECS = [
    {"name": "n", "type": "integer"},
    {"name": "x", "type": "number"},
    {"name": "flag", "type": "boolean", "default": False},
    {"name": "day", "type": "date"},
    {"name": "at", "type": "datetime"},
    {"name": "who", "type": "string", "required": True},
]


def _fields(error: ValidationError) -> list[str]:
    return sorted(problem.field for problem in error.errors)


def test_values_are_coerced_to_their_declared_types() -> None:
    given = {"n": "42", "x": "2.5e1", "day": "2026-01-31", "at": "2026-01-31T08:00:00+08:00", "who": 7}
    assert datasets.coerce(SPECS, given) == {
        "n": 42,
        "x": 25.0,
        "flag": False,
        "day": date(2026, 1, 31),
        "at": datetime(2026, 1, 31, 0, 0, tzinfo=UTC),
        "who": "7",
    }
    values = datasets.coerce(SPECS, {"who": "ada", "flag": "TRUE", "n": 3.0})
    assert values["flag"] is True and values["n"] == 3 and values["day"] is None
    assert datasets.as_json(datasets.coerce(SPECS, given)) == {
        "n": 42,
        "x": 25.0,
        "flag": False,
        "day": "2026-01-31",
        "at": "2026-01-31T00:00:00Z",
        "who": "7",
    }


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("n", True),  # a boolean is not a number, whatever Python thinks
        ("n", 1.5),
        ("n", "1e3"),
        ("n", 2**63),
        ("x", "NaN"),
        ("x", float("inf")),
        ("x", [1]),
        ("flag", "yes"),
        ("flag", 1),
        ("day", "2026-02-30"),
        ("day", "31/01/2026"),
        ("at", "2026-01-31T08:00:00"),  # no zone: ambiguous
        ("at", "tomorrow"),
        ("who", {"a": 1}),
        ("who", "x" * 4001),
        ("who", "nul\x00"),
    ],
)
def test_a_value_that_is_not_of_its_type_is_refused_naming_the_parameter(name: str, value: Any) -> None:
    given = {"who": "ada", name: value}
    with pytest.raises(ValidationError) as refused:
        datasets.coerce(SPECS, given)
    assert _fields(refused.value) == [f"parameters.{name}"]


def test_a_missing_required_value_and_an_undeclared_name_are_refused_together() -> None:
    with pytest.raises(ValidationError) as refused:
        datasets.coerce(SPECS, {"nope": 1, "who": None})
    assert _fields(refused.value) == ["parameters.nope", "parameters.who"]


def test_placeholders_are_found_where_they_are_used() -> None:
    api = {
        "path": "/c/{customer}/orders/{id}",
        "query": {"since": "{since}", "fixed": "1", "range": "{a}-{b}"},
        "body": {"filter": {"status": "{status}", "note": "not {a} placeholder"}, "list": ["{id}"]},
    }
    assert datasets.placeholders(api) == {
        "api.path": ["customer", "id"],
        "api.query.since": ["since"],
        "api.query.range": ["a", "b"],
        "api.body": ["status", "id"],
    }


def test_a_bad_jmespath_is_refused_naming_the_extract() -> None:
    datasets.compile_extract("data.items[?total > `10`].{id: id}")
    with pytest.raises(ValidationError) as refused:
        datasets.compile_extract("data.items[?")
    assert _fields(refused.value) == ["api.extract"]


@pytest.mark.parametrize(
    ("value", "columns", "rows"),
    [
        (
            [{"a": 1, "b": "x"}, {"b": "y", "c": 2.5}],
            [("a", "integer"), ("b", "string"), ("c", "number")],
            [[1, "x", None], [None, "y", 2.5]],
        ),
        ([[1, 2], [3]], [("1", "integer"), ("2", "integer")], [[1, 2], [3, None]]),
        ([1, "a", None], [("value", "mixed")], [[1], ["a"], [None]]),
        ({"a": {"nested": True}}, [("a", "object")], [[{"nested": True}]]),
        (7, [("value", "integer")], [[7]]),
        (None, [], []),
    ],
)
def test_an_extracted_answer_is_shaped_into_columns_and_rows(
    value: Any, columns: list[tuple[str, str]], rows: list[list[Any]]
) -> None:
    found_columns, found_rows, truncated = datasets.shape(value, 100)
    assert [(c.name, c.type) for c in found_columns] == columns
    assert found_rows == rows and truncated is False


def test_the_shape_is_capped() -> None:
    columns, rows, truncated = datasets.shape([{"n": n} for n in range(10)], 3)
    assert rows == [[0], [1], [2]] and truncated is True and [c.name for c in columns] == ["n"]


def test_csv_cells_are_neutralised_and_the_file_opens_as_utf8_in_excel() -> None:
    data = csv_bytes(["name", "=bad"], [["Ada", "=1+1"], ["Zoë", None], [True, -5], ["a,b", "-2"]])
    assert data.startswith("\ufeff".encode())
    assert data.decode("utf-8-sig").split("\r\n") == [
        "name,'=bad",
        "Ada,'=1+1",
        "Zoë,",
        "TRUE,-5",
        '"a,b",\'-2',
        "",
    ]


def test_the_functions_load_no_driver_or_openpyxl_at_cold_start() -> None:
    # A fresh interpreter for each function: what a preview or an export needs is loaded when it runs (jmespath
    # is not in the list: botocore loads it anyway)
    for function in ("datasets", "dataset_exports"):
        code = (
            f"import sys, {function}.app; "
            "print(sorted(m for m in ('pg8000', 'pymysql', 'openpyxl') if m in sys.modules))"
        )
        paths = [str(ROOT / "functions" / function), str(ROOT / "layers" / "platform")]
        result = subprocess.run(
            [sys.executable, "-c", f"import sys; sys.path[:0] = {paths!r}; {code}"],
            capture_output=True,
            text=True,
            check=True,
            env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"},
        )
        assert result.stdout.strip() == "[]", (function, result.stdout)


def test_a_cell_holds_objects_and_lists_as_json_text() -> None:
    assert datasets.cell({"a": [1, "é"]}) == '{"a":[1,"é"]}'
    assert datasets.cell([1, 2]) == "[1,2]"
    assert [datasets.cell(v) for v in ("=1", 3, None, True)] == ["=1", 3, None, True]  # spreadsheets neutralises
