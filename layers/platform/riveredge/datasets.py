"""Running a dataset: its typed parameters checked and coerced, its query or API call made, the answer shaped.

Used by the datasets function (previews) and the dataset-exports function (export jobs), so that both read the
same rows for the same parameters::

    values = datasets.coerce(dataset.parameters, {"since": "2026-01-01"})   # 422 naming parameters.<name>
    result = datasets.run(scope, dataset, source, values, max_rows=1_000, timeout_ms=5_000)

A SQL dataset runs through :func:`riveredge.datasources.run_query`: the values are bound by the driver as typed
values (a date as a date, an integer as an integer), never written into the SQL. An API dataset's values fill
``{name}`` placeholders: percent-encoded into the path (so a value cannot add a path segment or a query), as the
value of a query parameter (encoded by the URL builder), and a body value that is exactly ``"{name}"`` becomes the
typed JSON value; the answer goes through the dataset's JMESPath expression and is shaped into columns and rows
(:func:`shape`). jmespath is imported when an expression is compiled or run, never at import.
"""

from __future__ import annotations

import json
import math
import re
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from riveredge.datasources import Column, QueryResult, call_api, run_query
from riveredge.db.data import DataSource
from riveredge.db.datasets import Dataset
from riveredge.errors import FieldProblem, ValidationError
from riveredge.scope import Scope

PARAMETER_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,62})\}")
STRING_MAX = 4_000
MAX_COLUMNS = 200  # an API answer's objects may have more keys: the first 200 seen become columns
_INTEGER = re.compile(r"^[+-]?[0-9]{1,19}$")
_NUMBER = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_DATETIME = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
_INT64 = 2**63


def _problem(field: str, message: str) -> ValidationError:
    return ValidationError(f"{field} is not valid", errors=[FieldProblem(field, message)])


# -- parameters -------------------------------------------------------------------------------------------
def _string(value: Any, field: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _problem(field, "must be text")
    text = value if isinstance(value, str) else str(value)
    if len(text) > STRING_MAX:
        raise _problem(field, f"must be at most {STRING_MAX} characters")
    if "\x00" in text:
        raise _problem(field, "must not contain NUL characters")
    return text


def _integer(value: Any, field: str) -> Any:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not -_INT64 <= value < _INT64:
        raise _problem(field, "must be a whole number (64 bits)")
    return value


def _number(value: Any, field: str) -> Any:
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        value = float(value.strip())
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _problem(field, "must be a finite number")
    return value


def _boolean(value: Any, field: str) -> Any:
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    if not isinstance(value, bool):
        raise _problem(field, "must be true or false")
    return value


def _date(value: Any, field: str) -> Any:
    if not isinstance(value, str) or not _DATE.match(value.strip()):
        raise _problem(field, "must be a date: YYYY-MM-DD")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise _problem(field, "is not a date of the calendar") from None


def _datetime(value: Any, field: str) -> Any:
    if not isinstance(value, str) or not _DATETIME.match(value.strip()):
        raise _problem(field, "must be an RFC 3339 time with Z or an offset: 2026-01-31T08:00:00Z")
    try:
        moment = datetime.fromisoformat(value.strip().upper())
    except ValueError:
        raise _problem(field, "is not a time of the calendar") from None
    return moment.astimezone(UTC)


_COERCE = {
    "string": _string,
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
    "date": _date,
    "datetime": _datetime,
}


def coerce_value(kind: str, value: Any, field: str) -> Any:
    """`value` (as JSON gives it) as a value of the declared `kind`, or a ValidationError naming `field`.

    string: text (a number is taken as its text); integer: a whole number (or its text) within 64 bits;
    number: a finite number (or its text); boolean: true / false (or that text); date: ``YYYY-MM-DD``; datetime:
    RFC 3339 with ``Z`` or an offset (a time without one is ambiguous and refused), answered in UTC.
    """
    coerced = _COERCE.get(kind)
    if coerced is None:
        raise _problem(field, f"has an unknown type {kind!r}")
    return coerced(value, field)


def coerce(parameters: Sequence[Mapping[str, Any]], given: Mapping[str, Any]) -> dict[str, Any]:
    """Every declared parameter's value for one run: what was given (coerced to its type), else its default,
    else None; a required parameter without either, or a name that is not declared, is a 422 naming
    ``parameters.<name>`` (every problem at once)."""
    declared = {str(p["name"]): p for p in parameters}
    problems = [
        FieldProblem(f"parameters.{name}", "is not a parameter of this dataset")
        for name in given
        if name not in declared
    ]
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        raw = given.get(name)
        if raw is None:
            raw = spec.get("default")
        if raw is None:
            if spec.get("required"):
                problems.append(FieldProblem(f"parameters.{name}", "is required"))
            values[name] = None
            continue
        try:
            values[name] = coerce_value(str(spec["type"]), raw, f"parameters.{name}")
        except ValidationError as error:
            problems.extend(error.errors)
    if problems:
        raise ValidationError("the parameters are not valid", errors=problems)
    return values


def as_json(values: Mapping[str, Any]) -> dict[str, Any]:
    """Coerced values as JSON (dates and times as ISO text, times in UTC with Z): what a job stores and a cache
    key hashes; :func:`coerce` reads it back to the same values."""
    return {name: _json_value(value) for name, value in values.items()}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _text(value: Any) -> str:
    """A value as a placeholder in a path or query writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(_json_value(value))


# -- API datasets -------------------------------------------------------------------------------------------
def compile_extract(expression: str, field: str = "api.extract") -> Any:
    """The compiled JMESPath `expression`, or a ValidationError naming `field` saying what is wrong with it."""
    import jmespath
    from jmespath.exceptions import JMESPathError

    try:
        return jmespath.compile(expression)
    except JMESPathError as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else "is not a JMESPath expression"
        raise _problem(field, f"is not a valid JMESPath expression: {message}"[:300]) from None


def placeholders(api: Mapping[str, Any]) -> dict[str, list[str]]:
    """The ``{name}`` placeholders an API request definition uses, by the field they are in (``api.path``,
    ``api.query.<key>``, ``api.body``)."""
    found: dict[str, list[str]] = {}
    path = PLACEHOLDER.findall(str(api.get("path") or ""))
    if path:
        found["api.path"] = path
    for key, value in dict(api.get("query") or {}).items():
        names = PLACEHOLDER.findall(str(value))
        if names:
            found[f"api.query.{key}"] = names
    body = _body_placeholders(api.get("body"))
    if body:
        found["api.body"] = body
    return found


def _body_placeholders(value: Any) -> list[str]:
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        return [whole.group(1)] if whole else []
    if isinstance(value, list):
        return [name for item in value for name in _body_placeholders(item)]
    if isinstance(value, dict):
        return [name for item in value.values() for name in _body_placeholders(item)]
    return []


def _fill_body(value: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        return _json_value(values.get(whole.group(1))) if whole else value
    if isinstance(value, list):
        return [_fill_body(item, values) for item in value]
    if isinstance(value, dict):
        return {key: _fill_body(item, values) for key, item in value.items()}
    return value


def _fill_path(path: str, values: Mapping[str, Any]) -> str:
    def one(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if value is None:
            raise _problem(f"parameters.{match.group(1)}", "is needed by the API path")
        return urllib.parse.quote(_text(value), safe="")

    return PLACEHOLDER.sub(one, path)


def _fill_query(query: Mapping[str, str], values: Mapping[str, Any]) -> dict[str, str]:
    """The query string's values; a value that is only an absent parameter's placeholder leaves its key out."""
    filled: dict[str, str] = {}
    for key, template in query.items():
        whole = PLACEHOLDER.fullmatch(template)
        if whole and values.get(whole.group(1)) is None:
            continue
        filled[key] = PLACEHOLDER.sub(
            lambda m: "" if values.get(m.group(1)) is None else _text(values[m.group(1)]), template
        )
    return filled


_JSON_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),  # before int: a bool is an int to Python
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (dict, "object"),
    (list, "array"),
)


def _json_type(value: Any) -> str:
    return next((name for kind, name in _JSON_TYPES if isinstance(value, kind)), "null")


def _column_type(values: Sequence[Any]) -> str:
    kinds = {_json_type(v) for v in values if v is not None}
    if kinds == {"integer", "number"}:
        return "number"
    if len(kinds) == 1:
        return kinds.pop()
    return "mixed" if kinds else "null"


def shape(value: Any, max_rows: int) -> tuple[list[Column], list[list[Any]], bool]:
    """An extracted JSON value as columns and at most `max_rows` rows (and whether more were cut).

    A list of objects: a column per key, in order of first appearance (at most MAX_COLUMNS), a missing key is
    null; a list of lists: columns ``1``, ``2``...; a list of scalars, or one scalar: one column ``value``;
    one object: one row; null: no rows.
    """
    if value is None:
        return [], [], False
    items = value if isinstance(value, list) else [value]
    truncated = len(items) > max_rows
    items = items[:max_rows]
    if items and all(isinstance(item, dict) for item in items):
        names: dict[str, None] = {}
        for item in items:
            for key in item:
                if len(names) >= MAX_COLUMNS:
                    break
                names.setdefault(str(key), None)
        order = list(names)
        rows = [[item.get(name) for name in order] for item in items]
    elif items and all(isinstance(item, list) for item in items):
        width = min(max(len(item) for item in items), MAX_COLUMNS)
        order = [str(n + 1) for n in range(width)]
        rows = [[item[n] if n < len(item) else None for n in range(width)] for item in items]
    else:
        order = ["value"]
        rows = [[item] for item in items]
    columns = [Column(name, _column_type([row[n] for row in rows])) for n, name in enumerate(order)]
    return columns, rows, truncated


def _call(
    scope: Scope, dataset: Dataset, source: DataSource, values: Mapping[str, Any], *, max_rows: int, timeout_ms: int
) -> QueryResult:
    api = dict(dataset.api or {})
    expression = compile_extract(str(api.get("extract") or "@"))
    started = time.monotonic()
    try:
        answer = call_api(
            scope,
            source,
            method=str(api.get("method") or "GET"),
            path=_fill_path(str(api.get("path") or ""), values),
            query=_fill_query(dict(api.get("query") or {}), values),
            body=_fill_body(api.get("body"), values) if api.get("body") is not None else None,
            timeout_ms=timeout_ms,
        )
    except ValidationError as error:  # the data source's names for the request's parts, as the dataset names them
        renamed = [
            FieldProblem(f"api.{p.field}" if p.field in {"path", "method"} else p.field, p.message)
            for p in error.errors
        ]
        raise ValidationError(error.detail, errors=renamed) from None
    elapsed = round((time.monotonic() - started) * 1000, 1)
    try:
        extracted = expression.search(answer)
    except Exception as error:  # a function applied to the wrong type of value (JMESPath's runtime errors)
        raise _problem("api.extract", f"could not be applied to the answer: {error}"[:300]) from None
    columns, rows, truncated = shape(extracted, max_rows)
    return QueryResult(columns=columns, rows=rows, truncated=truncated, elapsed_ms=elapsed)


def run(
    scope: Scope,
    dataset: Dataset,
    source: DataSource,
    values: Mapping[str, Any],
    *,
    max_rows: int,
    timeout_ms: int,
) -> QueryResult:
    """Run `dataset` on `source` with coerced `values` (:func:`coerce`): at most `max_rows` rows.

    Raises ValidationError (422) for what the dataset's author wrote (``sql``, ``api.extract``, ``api.path``,
    ``parameters.<name>``), :class:`riveredge.outbound.OutboundError` (502) when the source cannot be reached.
    """
    if dataset.kind == "sql":
        return run_query(scope, source, str(dataset.sql or ""), values, max_rows=max_rows, timeout_ms=timeout_ms)
    return _call(scope, dataset, source, values, max_rows=max_rows, timeout_ms=timeout_ms)


def cell(value: Any) -> Any:
    """A result value as a spreadsheet cell holds it: objects and lists (JSON columns, API answers) as JSON text;
    the rest as it is (riveredge.spreadsheets neutralises text)."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value
