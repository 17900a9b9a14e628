"""Data source queries, the lexical side: one statement and its :name parameters, found by a tokenizer that reads
literals, quoted identifiers and comments the way each server does; the guard's rules for database hosts; values
made JSON-ready."""

from __future__ import annotations

import datetime
import socket
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from riveredge import outbound
from riveredge.datasources import json_ready
from riveredge.datasources.sql import MYSQL, POSTGRESQL, Dialect, parameter_names, prepare
from riveredge.errors import ValidationError

ROOT = Path(__file__).resolve().parents[2]


def _refusal(sql: str, dialect: Dialect = POSTGRESQL) -> str:
    with pytest.raises(ValidationError) as refused:
        prepare(sql, dialect)
    assert refused.value.errors[0].field == "sql"
    return refused.value.errors[0].message


@pytest.mark.parametrize(
    ("sql", "text", "names"),
    [
        ("SELECT :a, :b, :a", "SELECT $1, $2, $1", ("a", "b")),
        ("SELECT x::int, :a::text FROM t", "SELECT x::int, $1::text FROM t", ("a",)),
        ("SELECT ':a', \"col:a\", $$ :a $$, $q$ :a ; $q$", "SELECT ':a', \"col:a\", $$ :a $$, $q$ :a ; $q$", ()),
        ("SELECT E'\\' :a' , :b", "SELECT E'\\' :a' , $1", ("b",)),
        ("SELECT 'it''s :a', :b", "SELECT 'it''s :a', $1", ("b",)),
        ("SELECT arr[1:n], arr[lo:hi], a:=1 FROM t", "SELECT arr[1:n], arr[lo:hi], a:=1 FROM t", ()),
        ("SELECT 1 -- :a ; DROP\n, :b", "SELECT 1 -- :a ; DROP\n, $1", ("b",)),
        ("SELECT /* :a /* nested ; */ :c */ :b", "SELECT /* :a /* nested ; */ :c */ $1", ("b",)),
        ("SELECT foo$bar, :b", "SELECT foo$bar, $1", ("b",)),
        ("  SELECT 1 ;  -- done\n", "SELECT 1", ()),
    ],
)
def test_postgresql_parameters_become_numbered_placeholders(sql: str, text: str, names: tuple[str, ...]) -> None:
    prepared = prepare(sql, POSTGRESQL)
    assert (prepared.text, prepared.names) == (text, names)


@pytest.mark.parametrize(
    ("sql", "text", "names"),
    [
        ("SELECT :a, :b, :a", "SELECT %s, %s, %s", ("a", "b", "a")),
        ("SELECT '100%', :a LIKE 'x%'", "SELECT '100%%', %s LIKE 'x%%'", ("a",)),
        ("SELECT 'it\\'s :a', :b", "SELECT 'it\\'s :a', %s", ("b",)),
        ('SELECT "q:a", `col:a`, :b', 'SELECT "q:a", `col:a`, %s', ("b",)),
        ("SELECT 1--1, :a", "SELECT 1--1, %s", ("a",)),  # "--" without a space is two minus signs
        ("SELECT 1 # :a ; x\n, :b", "SELECT 1 # :a ; x\n, %s", ("b",)),
        ("SELECT @v:=1, :b", "SELECT @v:=1, %s", ("b",)),
    ],
)
def test_mysql_parameters_become_format_placeholders(sql: str, text: str, names: tuple[str, ...]) -> None:
    prepared = prepare(sql, MYSQL)
    assert (prepared.text, prepared.names) == (text, names)


def test_a_second_statement_is_found_wherever_it_hides() -> None:
    for sql in ("SELECT 1; DROP TABLE t", "SELECT ';'; SELECT 2", "SELECT 1 /* ; */ ; DELETE FROM t", "SELECT 1;;x"):
        assert "one statement" in _refusal(sql)
    assert "one statement" in _refusal("SELECT 'a\\'; DROP TABLE t; -- '; SELECT 2", Dialect("postgresql"))
    # MySQL reads backslash escapes: the same text is one literal there, one statement
    assert prepare("SELECT 'a\\'; DROP TABLE t; -- '", MYSQL).names == ()
    # ... unless the server's sql_mode says it does not
    assert "one statement" in _refusal("SELECT 'a\\'; DROP TABLE t; -- '", Dialect("mysql"))
    assert "one statement" in _refusal('SELECT "a"; DROP TABLE t', Dialect("mysql", ansi_quotes=True))


def test_what_the_tokenizer_refuses() -> None:
    assert "unterminated string literal" in _refusal("SELECT 'open")
    assert "unterminated string literal" in _refusal("SELECT $tag$ open $other$")
    assert "unterminated comment" in _refusal("SELECT 1 /* open /* nested */")
    assert "unterminated identifier" in _refusal('SELECT "open')
    assert "executable comments" in _refusal("SELECT 1 /*! ; DROP TABLE t */", MYSQL)
    assert "executable comments" in _refusal("SELECT 1 /*M!100000 ; DROP TABLE t */", MYSQL)
    assert ":name, not $1" in _refusal("SELECT $1")
    assert _refusal("  -- nothing\n /* at all */ ") == "is empty"
    assert _refusal("SELECT 1\x00; DROP TABLE t") == "must not contain NUL characters"
    assert "at most" in _refusal("SELECT " + ", ".join(f":p{n}" for n in range(101)))


def test_parameters_are_checked_before_anything_is_bound() -> None:
    prepared = prepare("SELECT :a, :b", POSTGRESQL)
    with pytest.raises(ValidationError) as missing:
        prepared.values({"a": 1})
    assert [problem.field for problem in missing.value.errors] == ["parameters.b"]
    for value in ([1, 2], {"x": 1}, float("nan"), "nul\x00", object()):
        with pytest.raises(ValidationError) as refused:
            prepared.values({"a": 1, "b": value})
        assert refused.value.errors[0].field == "parameters.b"
    assert prepared.values({"a": None, "b": True, "unused": 1}) == (None, True)
    assert parameter_names("SELECT :b, ':c', :a, :b", "postgresql") == ["b", "a"]


def test_values_are_made_json_ready() -> None:
    moment = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    values: list[Any] = [
        None,
        True,
        7,
        "x",
        1.5,
        float("inf"),
        Decimal("12345678901234567890.01"),
        datetime.date(2024, 1, 2),
        moment,
        datetime.time(3, 4),
        datetime.timedelta(minutes=2),
        b"\x00\xff",
        uuid.UUID(int=1),
        [Decimal("1"), {"k": b"a"}],
    ]
    assert [json_ready(value) for value in values] == [
        None,
        True,
        7,
        "x",
        1.5,
        "Infinity",
        "12345678901234567890.01",
        "2024-01-02",
        "2024-01-02T03:04:05+00:00",
        "03:04:00",
        120.0,
        "AP8=",
        "00000000-0000-0000-0000-000000000001",
        ["1", {"k": "YQ=="}],
    ]


DNS = {
    "db.example.com": ["93.184.216.34"],
    "internal.example.com": ["10.0.0.5"],
    "meta.example.com": ["169.254.169.254"],
}


def _resolver(host: str, port: int) -> list[str]:
    if host not in DNS:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return DNS[host]


def test_database_hosts_get_the_guards_address_rules() -> None:
    found = outbound.check_host("DB.example.com.", 5432, resolver=_resolver, field="config.host")
    assert (found.host, found.port, found.addresses) == ("db.example.com", 5432, ("93.184.216.34",))
    for host, why in [
        ("internal.example.com", "private"),
        ("meta.example.com", "metadata"),
        ("127.0.0.1", "loopback"),
        ("2130706433", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("nowhere.example.com", "could not be resolved"),
        ("db.example.com/x", "not a valid"),
    ]:
        with pytest.raises(ValidationError) as refused:
            outbound.check_host(host, 5432, resolver=_resolver, field="config.host")
        assert refused.value.errors[0].field == "config.host" and why in refused.value.errors[0].message, host
    allowed = frozenset({"10.0.0.0/8", "169.254.0.0/16"})
    assert outbound.check_host("internal.example.com", 5432, allow_hosts=allowed, resolver=_resolver).addresses
    with pytest.raises(ValidationError):
        outbound.check_host("meta.example.com", 5432, allow_hosts=allowed, resolver=_resolver)
    with pytest.raises(ValidationError):
        outbound.check_host("db.example.com", 0, resolver=_resolver)
    # the save-time shape check needs no DNS
    outbound.check_host_shape("db.example.com")
    for host in ("localhost", "127.0.0.1", "0x7f.1", "[::1]", "10.0.0.1"):
        with pytest.raises(ValidationError):
            outbound.check_host_shape(host, field="config.host")
    outbound.check_host_shape("localhost", allow_hosts=frozenset({"localhost"}))


def test_the_datasources_function_loads_no_driver_at_cold_start() -> None:
    # A fresh interpreter: pg8000 and PyMySQL are imported by the first connection, not by the handler's import
    code = (
        "import sys, datasources.app, riveredge.datasources; "
        "print(sorted(m for m in ('pg8000', 'pymysql', 'riveredge.datasources.databases') if m in sys.modules))"
    )
    paths = [str(ROOT / "functions" / "datasources"), str(ROOT / "layers" / "platform")]
    result = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path[:0] = {paths!r}; {code}"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"},
    )
    assert result.stdout.strip() == "[]", result.stdout
