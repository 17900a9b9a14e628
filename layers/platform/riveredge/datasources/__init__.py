"""Connecting to a tenant's data sources: PostgreSQL, MySQL / MariaDB and HTTP APIs (see riveredge.db.data).

Every connection goes through the SSRF guard's address rules first: the source's host is resolved once, every
address checked against :mod:`riveredge.outbound`'s rules and the tenant's outbound allow-list
(:func:`riveredge.integrations.allow_hosts`; an internal database is reachable only when an operator put it on
that list), and the driver is handed a socket connected to a checked address, never the host name to resolve
again (DNS rebinding). A refused host raises ValidationError naming ``config.host`` (``config.base_url`` for an
http source) before any connection is made.

The drivers are imported here only when a connection is made, so a function that imports this package but never
connects pays nothing for them: pg8000 (PostgreSQL) and PyMySQL (MySQL / MariaDB), both pure Python. They are in
the requirements.txt of the functions that connect (datasources, datasets, dataset_exports), not in the layer.

`connect_check(scope, source) -> Probe`
    Connects (databases: signs in and asks the version; http: a GET of the base URL) and answers the server's
    version and the latency.

`run_query(scope, source, sql, params, *, max_rows, timeout_ms) -> QueryResult`
    One query (PostgreSQL: a SELECT / VALUES / TABLE / WITH ... SELECT; MySQL: any one read statement) with
    named bind parameters written ``:name`` (a ``:name`` inside a string literal, a quoted identifier or a
    comment, and a PostgreSQL ``::type`` cast, are not parameters), bound by the driver, never interpolated by
    us. It runs in a read-only transaction with a statement timeout of `timeout_ms`, and at most `max_rows` rows
    are fetched (``truncated`` tells whether more exist). Values are JSON-ready (see :func:`json_ready`).

`call_api(scope, source, *, method, path, query, body, timeout_ms) -> Any`
    One request to ``base_url + path`` through :func:`riveredge.integrations.call`, with the source's headers
    and authentication; answers the parsed JSON body.

Errors:
- ValidationError (422) for what the caller wrote or configured: ``sql`` (a second statement, a syntax error,
  a write refused by the read-only transaction, a missing privilege, "stopped after N ms"...),
  ``parameters.<name>`` (a parameter the SQL names that was not given, or a value of a type that cannot be
  bound), ``config.host`` / ``config.base_url`` (refused by the guard), ``path`` (a path that leaves the base
  URL); never a 500 for what the SQL author did.
- :class:`riveredge.outbound.OutboundError` (502, with a stable `reason`) when the server cannot be reached or
  misbehaves: connect_failed, timeout, tls_failed, authentication_failed, network_error, response_too_large,
  bad_status (an http source answering other than 2xx), not_json.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from riveredge.datasources.values import json_ready
from riveredge.db.data import DataSource
from riveredge.errors import FieldProblem, ValidationError
from riveredge.scope import Scope

__all__ = [
    "MAX_ROWS",
    "MAX_TIMEOUT_MS",
    "Column",
    "Probe",
    "QueryResult",
    "call_api",
    "connect_check",
    "json_ready",
    "run_query",
]

MAX_ROWS = 100_000  # the most rows one run_query may fetch, whatever the caller asks
MAX_TIMEOUT_MS = 60_000  # the longest statement timeout (Lambda's own timeout is longer than this plus connecting)


@dataclass(frozen=True)
class Probe:
    """What a connection test found: the server's version (http: its Server header, "" without one), the time
    from connecting to the answer, and for http sources the status of the GET."""

    server_version: str
    latency_ms: float
    status: int | None = None


@dataclass(frozen=True)
class Column:
    """A result column: its name and its type as the server names it (PostgreSQL: ``int4``, ``text``,
    ``timestamptz``...; MySQL: ``LONG``, ``VAR_STRING``, ``NEWDECIMAL``... as the protocol names them, lower
    case)."""

    name: str
    type: str


@dataclass(frozen=True)
class QueryResult:
    columns: list[Column]
    rows: list[list[Any]]  # JSON-ready values (json_ready), one list per row in the columns' order
    truncated: bool  # True when the query had more than max_rows rows (only max_rows were fetched)
    elapsed_ms: float  # from sending the query to the last row fetched (connecting not included)


def _require(source: DataSource, *, database: bool) -> None:
    if source.is_database != database:
        kind = "a database" if database else "an http"
        raise ValidationError(
            f"the data source is not {kind} data source",
            errors=[FieldProblem("datasource_id", f"is a {source.type} data source")],
        )


def _bounded(name: str, value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise ValidationError(f"{name} is out of range", errors=[FieldProblem(name, f"must be {low}..{high}")])
    return value


def connect_check(scope: Scope, source: DataSource) -> Probe:
    """Connect to `source` through the guard and answer its version and the latency (see the module's doc).

    Raises ValidationError naming ``config.host`` / ``config.base_url`` when the guard refuses (no connection is
    made), OutboundError when the server cannot be reached or refuses the credentials.
    """
    if source.type == "http":
        from riveredge.datasources import http

        return http.probe(scope, source)
    from riveredge.datasources import databases

    return databases.probe(scope, source)


def run_query(
    scope: Scope,
    source: DataSource,
    sql: str,
    params: Mapping[str, Any],
    *,
    max_rows: int,
    timeout_ms: int,
) -> QueryResult:
    """Run one read-only query on a database data source (see the module's doc for the rules and errors).

    `params` maps each ``:name`` of the SQL to its value (str, int, float, bool, None, Decimal, date, datetime,
    time); names the SQL does not use are ignored. `max_rows` is 1..MAX_ROWS, `timeout_ms` 1..MAX_TIMEOUT_MS.
    """
    _require(source, database=True)
    _bounded("max_rows", max_rows, 1, MAX_ROWS)
    _bounded("timeout_ms", timeout_ms, 1, MAX_TIMEOUT_MS)
    from riveredge.datasources import databases

    return databases.query(scope, source, sql, params, max_rows=max_rows, timeout_ms=timeout_ms)


def call_api(
    scope: Scope,
    source: DataSource,
    *,
    method: str,
    path: str,
    query: Mapping[str, str],
    body: Any | None,
    timeout_ms: int,
) -> Any:
    """Call an http data source: `method` (GET or POST) on ``base_url + path`` with `query` as the query string
    and `body` (when not None) sent as JSON; answers the parsed JSON of a 2xx answer.

    Raises ValidationError naming ``path`` / ``config.base_url`` / ``method``; OutboundError for network
    failures, a non-2xx status (reason bad_status, the status in the detail) or a body that is not JSON.
    """
    _require(source, database=False)
    _bounded("timeout_ms", timeout_ms, 1, MAX_TIMEOUT_MS)
    from riveredge.datasources import http

    return http.call(scope, source, method=method, path=path, query=query, body=body, timeout_ms=timeout_ms)


def elapsed_ms(started: float) -> float:
    """Milliseconds since `started` (a time.monotonic() reading), to a tenth."""
    return round((time.monotonic() - started) * 1000, 1)
