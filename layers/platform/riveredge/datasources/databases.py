"""PostgreSQL (pg8000) and MySQL / MariaDB (PyMySQL) connections of a data source: probe and one query.

Imported only when a connection is made (see riveredge.datasources); the drivers are imported inside the
functions below for the same reason. Each call opens its own connection and closes it before answering: a
Lambda container is frozen between requests, and a pooled connection would outlive the tenant's request.
"""

from __future__ import annotations

import datetime
import socket
import ssl
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from decimal import Decimal
from typing import Any

from riveredge import integrations
from riveredge.datasources import Column, Probe, QueryResult, elapsed_ms
from riveredge.datasources.sql import MYSQL, POSTGRESQL, Dialect, Prepared, Token, prepare, tokens
from riveredge.datasources.values import json_ready
from riveredge.db.data import DataSource
from riveredge.errors import FieldProblem, ValidationError
from riveredge.outbound import OutboundError
from riveredge.scope import Scope

DEFAULT_CONNECT_TIMEOUT_MS = 5_000
# The client's own deadline beyond the server's statement timeout: a server that stops answering (or a MySQL
# statement its max_execution_time does not cover) cannot hold the function longer than this.
SOCKET_GRACE_S = 2.0
CURSOR = "riveredge_query"
APPLICATION = "riveredge-datasources"

# What may open a query: anything else (INSERT, COPY, CALL, SET, DDL...) is refused before it reaches the
# server, whatever the read-only transaction and the user's privileges would have said.
QUERY_KEYWORDS = {
    "postgresql": frozenset({"select", "values", "table", "with"}),
    "mysql": frozenset({"select", "values", "table", "with", "show", "explain", "describe", "desc"}),
}
# MySQL words that make a read write a file on the database server (the FILE privilege should refuse them too).
MYSQL_FILE_WORDS = frozenset({"outfile", "dumpfile"})

_PG_TYPES = {
    16: "bool",
    17: "bytea",
    18: "char",
    19: "name",
    20: "int8",
    21: "int2",
    23: "int4",
    25: "text",
    26: "oid",
    114: "json",
    142: "xml",
    650: "cidr",
    700: "float4",
    701: "float8",
    705: "unknown",
    869: "inet",
    1042: "bpchar",
    1043: "varchar",
    1082: "date",
    1083: "time",
    1114: "timestamp",
    1184: "timestamptz",
    1186: "interval",
    1266: "timetz",
    1700: "numeric",
    2950: "uuid",
    3802: "jsonb",
    1000: "bool[]",
    1005: "int2[]",
    1007: "int4[]",
    1009: "text[]",
    1015: "varchar[]",
    1016: "int8[]",
    1021: "float4[]",
    1022: "float8[]",
    1231: "numeric[]",
}
# The OIDs sent with typed parameters (a str is sent untyped: the server infers it from where it is used). An int
# gets the smallest integer type that holds it, as psycopg does: int2 and int4 widen implicitly where a function or
# a column wants more (repeat('x', :n) has no bigint form), int8 does not narrow.
_PG_PARAMETER_OIDS: tuple[tuple[type, int], ...] = (
    (bool, 16),
    (float, 701),
    (Decimal, 1700),
    (datetime.date, 1082),
    (datetime.time, 1083),
)
_PG_INTEGER_OIDS = ((1 << 15, 21), (1 << 31, 23), (1 << 63, 20))


def _pg_oid(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return next((oid for bound, oid in _PG_INTEGER_OIDS if -bound <= value < bound), 1700)
    if isinstance(value, datetime.datetime):
        return 1114 if value.tzinfo is None else 1184  # timestamp / timestamptz
    return next((number for kind, number in _PG_PARAMETER_OIDS if isinstance(value, kind)), 0)


# -- errors ------------------------------------------------------------------------------------------
def _sql_problem(message: str) -> ValidationError:
    return ValidationError(f"sql: {message}", errors=[FieldProblem("sql", message)])


def _stopped(timeout_ms: int) -> ValidationError:
    return _sql_problem(f"stopped after {timeout_ms} ms (the query's time limit)")


def _write_refused(detail: str) -> ValidationError:
    return _sql_problem(f"writes are refused: the query runs in a read-only transaction ({detail})")


# -- connecting ---------------------------------------------------------------------------------------
def _config(source: DataSource) -> dict[str, Any]:
    return dict(source.config or {})


def _password(source: DataSource) -> str:
    return integrations.read_secret(source.secret_arn) if source.secret_arn else ""


def _tls(config: Mapping[str, Any]) -> ssl.SSLContext | None:
    """TLS with the server's certificate checked against the source's own authorities (``ca_certificate``) or the
    system's, and against the host's name; None (the driver's opportunistic, unchecked TLS) without ``ssl``."""
    if not config.get("ssl"):
        return None
    return ssl.create_default_context(cadata=str(config["ca_certificate"]) if config.get("ca_certificate") else None)


def _open(scope: Scope, config: Mapping[str, Any]) -> tuple[socket.socket, str]:
    """A TCP connection to a checked address of the source's host (the guard first: nothing is sent to a refused
    host), and the host name to present for TLS."""
    destination = integrations.destination(scope, str(config["host"]), int(config["port"]), field="config.host")
    timeout = int(config.get("connect_timeout_ms") or DEFAULT_CONNECT_TIMEOUT_MS) / 1000
    failure = OutboundError("connect_failed", "the database server could not be connected to")
    for address in destination.addresses:
        try:
            connection = socket.create_connection((address, destination.port), timeout=timeout)
        except TimeoutError:
            failure = OutboundError("timeout", f"the database server did not answer within {timeout:g} s")
        except OSError:
            continue
        else:
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return connection, destination.host
    raise failure


# -- PostgreSQL ---------------------------------------------------------------------------------------
def _pg_code(error: Exception) -> tuple[str, str]:
    """SQLSTATE and message of a pg8000 server error (("", text) for anything else)."""
    fields = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
    message = str(fields.get("M") or error)
    if fields.get("P"):
        message = f"{message} (at character {fields['P']})"
    return str(fields.get("C") or ""), message


@contextmanager
def _pg_connection(scope: Scope, source: DataSource) -> Iterator[Any]:
    import pg8000.native
    from pg8000.exceptions import DatabaseError, InterfaceError

    config = _config(source)
    password = _password(source)
    sock, host = _open(scope, config)
    try:
        connection = pg8000.native.Connection(
            user=str(config["username"]),
            host=host,
            port=int(config["port"]),
            database=str(config["database"]),
            password=password or None,
            sock=sock,
            ssl_context=_tls(config),
            application_name=APPLICATION,
        )
    except DatabaseError as error:
        sock.close()
        code, message = _pg_code(error)
        if code.startswith("28"):
            raise OutboundError("authentication_failed", f"the database refused the sign-in: {message}") from None
        raise OutboundError("connect_failed", f"the database refused the connection: {message}") from None
    except (ssl.SSLError, ssl.CertificateError) as error:
        sock.close()
        raise OutboundError("tls_failed", f"TLS with the database server failed: {error}") from None
    except (InterfaceError, OSError) as error:
        sock.close()
        if isinstance(error.__cause__, ssl.SSLError) or "SSL" in str(error):
            raise OutboundError("tls_failed", f"TLS with the database server failed: {error}") from None
        raise OutboundError("network_error", "the exchange with the database server failed") from None
    try:
        yield connection
    finally:
        with suppress(InterfaceError, OSError):
            connection.close()


def _pg_oids(values: tuple[Any, ...]) -> tuple[int, ...]:
    return tuple(_pg_oid(value) for value in values)


def _pg_type_names(connection: Any, oids: set[int]) -> dict[int, str]:
    names = {oid: _PG_TYPES[oid] for oid in oids if oid in _PG_TYPES}
    unknown = sorted(oids - names.keys())
    if unknown:
        found = connection.execute_unnamed(
            "SELECT oid::int8, format_type(oid, NULL) FROM pg_catalog.pg_type WHERE oid = ANY($1::int8[])",
            vals=(unknown,),
            oids=(1016,),
        )
        names.update({int(row[0]): str(row[1]) for row in found.rows or []})
    return names


def _first_word(found: list[Token]) -> str:
    word = ""
    for token in found:
        if token.kind in {"space", "comment"} or (token.kind == "text" and token.text == "(" and not word):
            if word:
                break
            continue
        if token.kind == "text" and token.text.isalpha():
            word += token.text
            continue
        break
    return word.lower()


def _words(found: list[Token]) -> Iterator[str]:
    word = ""
    for token in found:
        if token.kind == "text" and (token.text.isalnum() or token.text == "_"):
            word += token.text
            continue
        if word:
            yield word.lower()
        word = ""
    if word:
        yield word.lower()


def _check_statement(sql: str, dialect: Dialect) -> Prepared:
    prepared = prepare(sql, dialect)
    found = tokens(sql, dialect)
    allowed = QUERY_KEYWORDS[dialect.name]
    first = _first_word(found)
    if first not in allowed:
        shown = ", ".join(sorted(word.upper() for word in allowed))
        raise _sql_problem(f"must be a query ({shown}); {first.upper() or 'this'} is not run")
    if dialect.name == "mysql" and MYSQL_FILE_WORDS & set(_words(found)):
        raise _sql_problem("must not write files (INTO OUTFILE / DUMPFILE)")
    return prepared


def _pg_query(
    scope: Scope, source: DataSource, sql: str, params: Mapping[str, Any], *, max_rows: int, timeout_ms: int
) -> QueryResult:
    from pg8000.exceptions import DatabaseError, InterfaceError

    with _pg_connection(scope, source) as connection:
        dialect = POSTGRESQL
        if connection.parameter_statuses.get(b"standard_conforming_strings", b"on") != b"on":
            dialect = Dialect("postgresql", backslash_escapes=True)
        prepared = _check_statement(sql, dialect)
        values = prepared.values(params)
        # the connected socket (pg8000 keeps it as _usock; pinned version): from now on the query's deadline
        connection._usock.settimeout(timeout_ms / 1000 + SOCKET_GRACE_S)
        started = time.monotonic()
        try:
            connection.execute_unnamed("START TRANSACTION READ ONLY")
            connection.execute_unnamed(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
            connection.execute_unnamed(f"SET LOCAL idle_in_transaction_session_timeout = {int(timeout_ms) * 2}")
            connection.execute_unnamed(
                f"DECLARE {CURSOR} NO SCROLL CURSOR FOR {prepared.text}", vals=values, oids=_pg_oids(values)
            )
            fetched = connection.execute_unnamed(f"FETCH FORWARD {max_rows + 1} FROM {CURSOR}")
            rows = list(fetched.rows or [])
            described = list(fetched.columns or [])
            types = _pg_type_names(connection, {int(column["type_oid"]) for column in described})
            elapsed = elapsed_ms(started)
            connection.execute_unnamed("ROLLBACK")
        except DatabaseError as error:
            code, message = _pg_code(error)
            raise _pg_error(code, message, timeout_ms) from None
        except (InterfaceError, OSError) as error:
            if isinstance(error, TimeoutError) or isinstance(error.__cause__, TimeoutError):
                raise _stopped(timeout_ms) from None
            raise OutboundError("network_error", "the exchange with the database server failed") from None
    columns = [Column(str(column["name"]), types.get(int(column["type_oid"]), "unknown")) for column in described]
    return QueryResult(
        columns=columns,
        rows=[[json_ready(value) for value in row] for row in rows[:max_rows]],
        truncated=len(rows) > max_rows,
        elapsed_ms=elapsed,
    )


def _pg_error(code: str, message: str, timeout_ms: int) -> Exception:
    if code == "57014":
        return _stopped(timeout_ms)
    if code == "25006":
        return _write_refused(message)
    if code == "42501":
        return _sql_problem(f"permission denied: {message}")
    if code == "0A000" and "data-modifying" in message:
        return _write_refused(message)
    if code.startswith(("08", "53", "57", "58", "XX")):
        return OutboundError("network_error", f"the database server failed: {message}")
    return _sql_problem(message)


def _pg_probe(scope: Scope, source: DataSource) -> Probe:
    from pg8000.exceptions import DatabaseError, InterfaceError

    started = time.monotonic()
    with _pg_connection(scope, source) as connection:
        try:
            found = connection.execute_unnamed("SELECT version()")
        except (DatabaseError, InterfaceError, OSError):
            raise OutboundError("network_error", "the database server did not answer") from None
        rows = found.rows or [[""]]
        return Probe(server_version=str(rows[0][0]), latency_ms=elapsed_ms(started))


# -- MySQL / MariaDB ----------------------------------------------------------------------------------
_MYSQL_TIMEOUTS = {1969, 3024, 1317}  # MariaDB max_statement_time, MySQL max_execution_time, interrupted
_MYSQL_READ_ONLY = 1792
_MYSQL_DENIED = {1044, 1045, 1142, 1143, 1227, 1370}


def _mysql_type_names() -> dict[int, str]:
    from pymysql.constants import FIELD_TYPE

    return {
        value: name.lower()
        for name, value in vars(FIELD_TYPE).items()
        if name.isupper() and isinstance(value, int) and name not in {"CHAR", "INTERVAL"}
    }


@contextmanager
def _mysql_connection(scope: Scope, source: DataSource, read_timeout: float) -> Iterator[Any]:
    import pymysql
    import pymysql.cursors

    config = _config(source)
    password = _password(source)
    sock, host = _open(scope, config)
    connection = pymysql.Connection(
        host=host,
        port=int(config["port"]),
        user=str(config["username"]),
        password=password,
        database=str(config["database"]),
        charset="utf8mb4",
        connect_timeout=int(config.get("connect_timeout_ms") or DEFAULT_CONNECT_TIMEOUT_MS) / 1000,
        read_timeout=read_timeout,
        write_timeout=read_timeout,
        ssl=_tls(config),
        local_infile=False,  # LOAD DATA LOCAL would let the server read this function's files
        defer_connect=True,
        autocommit=True,
        cursorclass=pymysql.cursors.SSCursor,
        program_name=APPLICATION,
    )
    try:
        connection.connect(sock=sock)
    except pymysql.err.MySQLError as error:
        sock.close()
        code = int(error.args[0]) if error.args and isinstance(error.args[0], int) else 0
        message = str(error.args[1]) if len(error.args) > 1 else str(error)
        if code in {1045, 1698}:
            raise OutboundError("authentication_failed", f"the database refused the sign-in: {message}") from None
        if isinstance(getattr(error, "original_exception", None), ssl.SSLError) or "SSL" in message:
            raise OutboundError("tls_failed", f"TLS with the database server failed: {message}") from None
        if code and code < 2000:
            raise OutboundError("connect_failed", f"the database refused the connection: {message}") from None
        raise OutboundError("network_error", "the exchange with the database server failed") from None
    except ssl.SSLError as error:
        sock.close()
        raise OutboundError("tls_failed", f"TLS with the database server failed: {error}") from None
    except OSError:
        sock.close()
        raise OutboundError("network_error", "the exchange with the database server failed") from None
    try:
        yield connection
    finally:
        if connection.open:
            connection.close()


def _mysql_dialect(sql_mode: str) -> Dialect:
    modes = {mode.strip().upper() for mode in sql_mode.split(",")}
    return Dialect(
        "mysql",
        backslash_escapes="NO_BACKSLASH_ESCAPES" not in modes,
        ansi_quotes="ANSI_QUOTES" in modes or "ANSI" in modes,
    )


def _mysql_query(
    scope: Scope, source: DataSource, sql: str, params: Mapping[str, Any], *, max_rows: int, timeout_ms: int
) -> QueryResult:
    import pymysql

    read_timeout = timeout_ms / 1000 + SOCKET_GRACE_S
    with _mysql_connection(scope, source, read_timeout) as connection:
        cursor = connection.cursor()
        try:
            cursor.execute("SELECT VERSION(), @@SESSION.sql_mode")
            version, sql_mode = cursor.fetchone() or ("", "")
            cursor.close()
            dialect = _mysql_dialect(str(sql_mode)) if sql_mode else MYSQL
            prepared = _check_statement(sql, dialect)
            values = prepared.values(params)
            cursor = connection.cursor()
            if "mariadb" in str(version).lower():
                cursor.execute(f"SET SESSION max_statement_time = {timeout_ms / 1000:.3f}")
            else:
                cursor.execute(f"SET SESSION max_execution_time = {int(timeout_ms)}")
            cursor.execute(f"SET SESSION sql_select_limit = {max_rows + 1}")
            cursor.execute("START TRANSACTION READ ONLY")
            started = time.monotonic()
            cursor.execute(prepared.text, values)
            rows = list(cursor.fetchmany(max_rows + 1))
            described = list(cursor.description or [])
            elapsed = elapsed_ms(started)
        except pymysql.err.MySQLError as error:
            raise _mysql_error(error, timeout_ms) from None
        except TimeoutError:
            raise _stopped(timeout_ms) from None
        except OSError:
            raise OutboundError("network_error", "the exchange with the database server failed") from None
        if len(rows) > max_rows:
            # More rows may be on their way (a query with its own LIMIT is not capped by sql_select_limit):
            # closing the connection stops them. PyMySQL would read every one of them first, when the cursor is
            # closed or its result collected, unless told the result is over (a private flag: pinned version).
            result = getattr(cursor, "_result", None)
            if result is not None:
                result.unbuffered_active = False
            connection.close()
        else:
            try:
                cursor.close()
                connection.rollback()
            except pymysql.err.MySQLError as error:
                raise _mysql_error(error, timeout_ms) from None
    names = _mysql_type_names()
    columns = [Column(str(column[0]), names.get(int(column[1]), "unknown")) for column in described]
    return QueryResult(
        columns=columns,
        rows=[[json_ready(value) for value in row] for row in rows[:max_rows]],
        truncated=len(rows) > max_rows,
        elapsed_ms=elapsed,
    )


def _mysql_error(error: Exception, timeout_ms: int) -> Exception:
    code = int(error.args[0]) if error.args and isinstance(error.args[0], int) else 0
    message = str(error.args[1]) if len(error.args) > 1 else str(error)
    if code in _MYSQL_TIMEOUTS or (code == 2013 and "timed out" in message):
        return _stopped(timeout_ms)
    if code == _MYSQL_READ_ONLY:
        return _write_refused(message)
    if code in _MYSQL_DENIED:
        return _sql_problem(f"permission denied: {message}")
    if 0 < code < 2000:
        return _sql_problem(message)
    if code == 2013:
        return _stopped(timeout_ms) if "timed out" in message else OutboundError("network_error", message)
    return OutboundError("network_error", f"the exchange with the database server failed: {message}")


def _mysql_probe(scope: Scope, source: DataSource) -> Probe:
    import pymysql

    started = time.monotonic()
    with _mysql_connection(scope, source, 10.0) as connection:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT VERSION()")
                found = cursor.fetchone() or ("",)
        except pymysql.err.MySQLError:
            raise OutboundError("network_error", "the database server did not answer") from None
    return Probe(server_version=str(found[0]), latency_ms=elapsed_ms(started))


# -- the package's entry points -----------------------------------------------------------------------
def probe(scope: Scope, source: DataSource) -> Probe:
    return _pg_probe(scope, source) if source.type == "postgresql" else _mysql_probe(scope, source)


def query(
    scope: Scope, source: DataSource, sql: str, params: Mapping[str, Any], *, max_rows: int, timeout_ms: int
) -> QueryResult:
    run = _pg_query if source.type == "postgresql" else _mysql_query
    return run(scope, source, sql, params, max_rows=max_rows, timeout_ms=timeout_ms)
