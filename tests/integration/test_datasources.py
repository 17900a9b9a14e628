"""Data sources against real servers: PostgreSQL and MariaDB started by tests/dbservers.py, an HTTP API on
loopback. The routes run as the deployed function does; the queries run through riveredge.datasources in this
process, as the datasets functions call it."""

from __future__ import annotations

import datetime
import socket
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from riveredge import datasources, integrations, keys
from riveredge.db.data import DataSource
from riveredge.errors import ValidationError
from riveredge.outbound import OutboundError
from riveredge.scope import Scope, use_scope

from local_stack.stack import LocalStack
from tests.dbservers import DatabaseServer, make_certificates
from tests.integration.accounts import make_user, seed_role
from tests.integration.conftest import Account, InProcess, TenantFixture
from tests.integration.test_integrations import Remote

LOOPBACK = "127.0.0.1/32"


@pytest.fixture
def remote() -> Iterator[Remote]:
    server = Remote()
    yield server
    server.stop()


def _allow(stack: LocalStack, operator: Account, tenant_id: str, hosts: list[str]) -> None:
    path = f"/api/tenants/{tenant_id}/outbound-allow-list"
    current = stack.request("GET", path, token=operator.token).json()
    reply = stack.request("PUT", path, token=operator.token, json_body={"hosts": hosts, "version": current["version"]})
    assert reply.status == 200, reply.body


def _create(stack: LocalStack, token: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = stack.request("POST", "/api/datasources", token=token, json_body=body)
    assert reply.status == 201, reply.body
    return dict(reply.json())


def _database_source(stack: LocalStack, tenant: TenantFixture, server: DatabaseServer) -> dict[str, Any]:
    body = {"name": f"{server.kind} reports", "config": server.source_config(), "secret": server.reader_password}
    return _create(stack, tenant.admin_token, body)


def _stored(tenant_id: str, datasource_id: str) -> DataSource:
    scope = Scope(tenant_id)
    with use_scope(scope):
        return DataSource.get_or_404(keys.datasource(scope, datasource_id))


def _query(
    tenant_id: str,
    source: DataSource,
    sql: str,
    params: dict[str, Any] | None = None,
    *,
    max_rows: int = 100,
    timeout_ms: int = 5000,
) -> datasources.QueryResult:
    scope = Scope(tenant_id)
    with use_scope(scope):
        return datasources.run_query(scope, source, sql, params or {}, max_rows=max_rows, timeout_ms=timeout_ms)


def _refused(tenant_id: str, source: DataSource, sql: str, params: dict[str, Any] | None = None, **kw: Any) -> str:
    """The problem a query is refused with: "<field>: <message>"."""
    with pytest.raises(ValidationError) as refused:
        _query(tenant_id, source, sql, params, **kw)
    problem = refused.value.errors[0]
    return f"{problem.field}: {problem.message}"


def _seed(server: DatabaseServer, table: str) -> None:
    server.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, name varchar(40), amount numeric(10, 2), day date)")
    server.execute(f"INSERT INTO {table} VALUES (1, 'plain', 1.50, '2024-01-02'), (2, 'it''s', 2.25, '2024-02-03')")


def _count(server: DatabaseServer, table: str) -> int:
    return int(server.execute(f"SELECT count(*) FROM {table}")[0][0])


# -- PostgreSQL ----------------------------------------------------------------------------------------------
def test_a_postgresql_source_is_tested_and_queried_read_only_with_bound_parameters(
    stack: LocalStack, fresh_tenant: TenantFixture, operator: Account, postgres_server: DatabaseServer
) -> None:
    server, tenant = postgres_server, fresh_tenant.id
    _seed(server, "ds_orders")
    # a function that writes, run with its owner's rights: only the read-only transaction stands in its way
    server.execute(
        "CREATE FUNCTION ds_add_order() RETURNS int LANGUAGE sql SECURITY DEFINER"
        " AS $$ INSERT INTO ds_orders VALUES (99, 'sneaked', 0, NULL) RETURNING id $$"
    )
    _allow(stack, operator, tenant, [LOOPBACK])
    made = _database_source(stack, fresh_tenant, server)
    assert (
        made["secret"] == "******"
        and server.reader_password.encode()
        not in stack.request("GET", f"/api/datasources/{made['id']}", token=fresh_tenant.admin_token).body
    )
    probe = stack.request("POST", f"/api/datasources/{made['id']}/test", token=fresh_tenant.admin_token)
    assert probe.status == 200, probe.body
    assert probe.json()["ok"] is True and probe.json()["server_version"].startswith("PostgreSQL 1")
    assert probe.json()["latency_ms"] > 0

    source = _stored(tenant, made["id"])
    typed = _query(
        tenant,
        source,
        "SELECT :n + 1 AS n, :big AS big, repeat('ab', :times) AS r, :s AS s, :b AS b, :d AS d, :at AS at,"
        " :amount AS amount, ':n' AS literal, 2::text AS cast",
        {
            "n": 41,
            "big": 2**40,
            "times": 2,
            "s": "text",
            "b": True,
            "d": datetime.date(2024, 5, 6),
            "at": datetime.datetime(2024, 5, 6, 7, 8, 9),
            "amount": Decimal("1.10"),
        },
    )
    assert [(c.name, c.type) for c in typed.columns] == [
        ("n", "int4"),
        ("big", "int8"),
        ("r", "text"),
        ("s", "text"),
        ("b", "bool"),
        ("d", "date"),
        ("at", "timestamp"),
        ("amount", "numeric"),
        ("literal", "text"),
        ("cast", "text"),
    ]
    assert (
        typed.rows == [[42, 2**40, "abab", "text", True, "2024-05-06", "2024-05-06T07:08:09", "1.10", ":n", "2"]]
        and typed.truncated is False
    )
    by_name = "SELECT id, name, amount, day FROM ds_orders WHERE name = :name ORDER BY id"
    assert _query(tenant, source, by_name, {"name": "it's"}).rows == [[2, "it's", "2.25", "2024-02-03"]]
    # an injecting value stays a value
    assert _query(tenant, source, by_name, {"name": "x' OR '1'='1"}).rows == []
    by_id = "SELECT count(*) FROM ds_orders WHERE id = :id"
    assert "invalid input syntax" in _refused(tenant, source, by_id, {"id": "1 OR 1=1"})

    assert "read-only transaction" in _refused(tenant, source, "SELECT ds_add_order()")
    assert _refused(tenant, source, "INSERT INTO ds_orders VALUES (3, 'x', 0, NULL)").startswith("sql: must be a query")
    assert "one statement" in _refused(tenant, source, "SELECT 1; DROP TABLE ds_orders")
    assert "one statement" in _refused(tenant, source, "SELECT 1 -- fine\n; DELETE FROM ds_orders")
    assert _refused(tenant, source, "COPY (SELECT 1) TO PROGRAM 'touch /tmp/pwned'").startswith("sql: must be a query")
    assert "read-only" in _refused(tenant, source, "WITH x AS (DELETE FROM ds_orders RETURNING *) SELECT * FROM x")
    assert _refused(tenant, source, "SELECT :missing") == "parameters.missing: is required by the query"
    assert _refused(tenant, source, "SELECT * FROM nowhere").startswith('sql: relation "nowhere" does not exist')
    assert _count(server, "ds_orders") == 2

    assert _refused(tenant, source, "SELECT pg_sleep(30)", timeout_ms=500) == (
        "sql: stopped after 500 ms (the query's time limit)"
    )
    capped = _query(tenant, source, "SELECT g FROM generate_series(1, 1000000) AS g", max_rows=1000)
    assert len(capped.rows) == 1000 and capped.rows[-1] == [1000] and capped.truncated is True


def test_the_data_source_user_cannot_run_programs_even_outside_the_query_rules(
    postgres_server: DatabaseServer,
) -> None:
    """COPY ... TO PROGRAM never reaches the server through run_query (above); the reader account refuses it too,
    in the same read-only transaction a query runs in."""
    from pg8000.exceptions import DatabaseError

    connection = postgres_server.connect(postgres_server.reader, postgres_server.reader_password)
    try:
        cursor = connection.cursor()
        cursor.execute("START TRANSACTION READ ONLY")
        with pytest.raises(DatabaseError) as refused:
            cursor.execute("COPY (SELECT 1) TO PROGRAM 'true'")
        assert refused.value.args[0]["C"] == "42501"  # insufficient privilege
    finally:
        connection.close()


# -- MariaDB -------------------------------------------------------------------------------------------------
def test_a_mariadb_source_is_tested_and_queried_read_only_with_bound_parameters(
    stack: LocalStack, fresh_tenant: TenantFixture, operator: Account, mariadb_server: DatabaseServer
) -> None:
    server, tenant = mariadb_server, fresh_tenant.id
    _seed(server, "ds_invoices")
    server.execute(
        "CREATE FUNCTION ds_add_invoice() RETURNS int SQL SECURITY DEFINER MODIFIES SQL DATA"
        " BEGIN INSERT INTO ds_invoices VALUES (99, 'sneaked', 0, NULL); RETURN 99; END"
    )
    server.execute(f"GRANT EXECUTE ON FUNCTION {server.database}.ds_add_invoice TO '{server.reader}'@'%'", admin=True)
    _allow(stack, operator, tenant, [LOOPBACK])
    made = _database_source(stack, fresh_tenant, server)
    probe = stack.request("POST", f"/api/datasources/{made['id']}/test", token=fresh_tenant.admin_token)
    assert probe.status == 200 and probe.json()["ok"] is True, probe.body
    assert "MariaDB" in probe.json()["server_version"]

    source = _stored(tenant, made["id"])
    typed = _query(
        tenant,
        source,
        "SELECT :n + 1 AS n, :s AS s, :amount AS amount, ':n' AS literal, `name` FROM ds_invoices WHERE id = :id",
        {"n": 41, "s": "100% text", "amount": Decimal("1.10"), "id": 1},
    )
    assert [c.name for c in typed.columns] == ["n", "s", "amount", "literal", "name"]
    assert typed.rows == [[42, "100% text", "1.10", ":n", "plain"]]
    by_name = "SELECT id, name, amount, day FROM ds_invoices WHERE name = :name"
    assert _query(tenant, source, by_name, {"name": "it's"}).rows == [[2, "it's", "2.25", "2024-02-03"]]
    assert _query(tenant, source, by_name, {"name": "x' OR '1'='1"}).rows == []
    assert _query(tenant, source, by_name, {"name": "\\' OR 1=1 -- "}).rows == []

    assert "read-only transaction" in _refused(tenant, source, "SELECT ds_add_invoice()")
    assert _refused(tenant, source, "INSERT INTO ds_invoices VALUES (3, 'x', 0, NULL)").startswith(
        "sql: must be a query"
    )
    assert "one statement" in _refused(tenant, source, "SELECT 1; DROP TABLE ds_invoices")
    assert "executable comments" in _refused(tenant, source, "SELECT 1 /*! ; DROP TABLE ds_invoices */")
    assert "write files" in _refused(tenant, source, "SELECT * FROM ds_invoices INTO OUTFILE '/tmp/out'")
    assert _count(server, "ds_invoices") == 2

    assert _refused(tenant, source, "SELECT SLEEP(30)", timeout_ms=500) == (
        "sql: stopped after 500 ms (the query's time limit)"
    )
    million = "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 1000000) SELECT n FROM g"
    capped = _query(tenant, source, million, max_rows=1000)
    assert len(capped.rows) == 1000 and capped.truncated is True
    # a query's own LIMIT is over sql_select_limit's cap: fetching stops at the cap all the same
    own_limit = _query(tenant, source, "SELECT seq FROM seq_1_to_1000000 LIMIT 900000", max_rows=10)
    assert own_limit.rows == [[n] for n in range(1, 11)] and own_limit.truncated is True


# -- the guard -----------------------------------------------------------------------------------------------
class CountingListener:
    """A TCP listener on loopback that counts the connections it accepts (and closes them)."""

    def __init__(self) -> None:
        self.accepted = 0
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.socket.getsockname()[1])
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.accepted += 1
            connection.close()

    def close(self) -> None:
        self.socket.close()


def test_the_guard_refuses_private_and_metadata_hosts_before_connecting(
    stack: LocalStack, fresh_tenant: TenantFixture, operator: Account
) -> None:
    token, listener = fresh_tenant.admin_token, CountingListener()
    try:
        config = {"type": "postgresql", "host": "127.0.0.1", "port": listener.port, "database": "d", "username": "u"}
        for host in ("127.0.0.1", "localhost", "10.1.2.3", "169.254.169.254", "0x7f.1", "[::1]", "fd00:ec2::254"):
            refused = stack.request(
                "POST", "/api/datasources", token=token, json_body={"name": "X", "config": {**config, "host": host}}
            )
            assert refused.status == 422, (host, refused.body)
            assert refused.json()["errors"][0]["field"] == "config.host", host
        # allowed on purpose by an operator, saved; then taken off the list: the connection is refused again
        _allow(stack, operator, fresh_tenant.id, [LOOPBACK, "localhost"])
        by_address = _create(stack, token, {"name": "A", "config": config})
        by_name = _create(stack, token, {"name": "B", "config": {**config, "host": "localhost"}})
        # the metadata address stays refused whatever the list says
        _allow(stack, operator, fresh_tenant.id, [LOOPBACK, "169.254.0.0/16"])
        metadata = {"name": "M", "config": {**config, "host": "169.254.169.254"}}
        assert stack.request("POST", "/api/datasources", token=token, json_body=metadata).status == 422
        _allow(stack, operator, fresh_tenant.id, [])
        for made in (by_address, by_name):
            tested = stack.request("POST", f"/api/datasources/{made['id']}/test", token=token)
            assert tested.status == 422, tested.body
            assert tested.json()["errors"][0]["field"] == "config.host"
            with pytest.raises(ValidationError):
                _query(fresh_tenant.id, _stored(fresh_tenant.id, made["id"]), "SELECT 1")
        assert listener.accepted == 0
        # with the host allowed again, the same test does connect (and fails as a database would not answer)
        _allow(stack, operator, fresh_tenant.id, [LOOPBACK])
        tested = stack.request("POST", f"/api/datasources/{by_address['id']}/test", token=token)
        assert tested.status == 200 and tested.json()["ok"] is False and tested.json()["reason"], tested.body
        assert listener.accepted == 1
    finally:
        listener.close()


def test_an_unreachable_or_wrongly_signed_in_database_is_reported_not_a_500(
    stack: LocalStack,
    fresh_tenant: TenantFixture,
    operator: Account,
    postgres_server: DatabaseServer,
    mariadb_server: DatabaseServer,
) -> None:
    _allow(stack, operator, fresh_tenant.id, [LOOPBACK])
    token = fresh_tenant.admin_token
    closed = socket.create_server(("127.0.0.1", 0))
    port = int(closed.getsockname()[1])
    closed.close()  # nothing listens there now
    nobody = _create(stack, token, {"name": "gone", "config": postgres_server.source_config(port=port)})
    wrong = _create(
        stack, token, {"name": "bad", "config": postgres_server.source_config(), "secret": "not-the-password"}
    )
    # ssl: true requires TLS, which the test servers do not offer: no fallback to plain text
    plain = [
        _create(
            stack, token, {"name": "tls", "config": server.source_config(ssl=True), "secret": server.reader_password}
        )
        for server in (postgres_server, mariadb_server)
    ]
    wrong_mariadb = _create(
        stack, token, {"name": "bad", "config": mariadb_server.source_config(), "secret": "not-the-password"}
    )
    for made, reason in (
        (nobody, "connect_failed"),
        (wrong, "authentication_failed"),
        (wrong_mariadb, "authentication_failed"),
        *((made, "tls_failed") for made in plain),
    ):
        tested = stack.request("POST", f"/api/datasources/{made['id']}/test", token=token)
        assert tested.status == 200, tested.body
        assert tested.json()["ok"] is False and tested.json()["reason"] == reason, tested.body
        with pytest.raises(OutboundError) as failed:
            _query(fresh_tenant.id, _stored(fresh_tenant.id, made["id"]), "SELECT 1")
        assert failed.value.reason == reason


# -- HTTP APIs -----------------------------------------------------------------------------------------------
def test_an_http_source_is_tested_and_called_with_its_secret_through_the_guard(
    stack: LocalStack, fresh_tenant: TenantFixture, operator: Account, remote: Remote
) -> None:
    token = fresh_tenant.admin_token
    config = {"type": "http", "base_url": f"{remote.url}/v1", "headers": {"X-Client": "riveredge"}, "auth": "bearer"}
    assert (
        stack.request("POST", "/api/datasources", token=token, json_body={"name": "API", "config": config}).status
        == 422
    )
    refused = stack.request(
        "POST", "/api/datasources", token=token, json_body={"name": "API", "config": config, "secret": "t0ken"}
    )
    assert refused.status == 422 and refused.json()["errors"][0]["field"] == "config.base_url"
    _allow(stack, operator, fresh_tenant.id, [LOOPBACK])
    made = _create(stack, token, {"name": "API", "config": config, "secret": "t0ken"})
    remote.answers["/v1"] = (200, {"Server": "Remote/1.0"}, b"{}")
    tested = stack.request("POST", f"/api/datasources/{made['id']}/test", token=token).json()
    assert tested["ok"] is True and tested["status"] == 200 and "Remote/1.0" in tested["server_version"]

    remote.answers["/v1/orders?state=open&page=2"] = (200, {}, b'{"items": [{"id": 1}], "total": 1}')
    scope = Scope(fresh_tenant.id)
    source = _stored(fresh_tenant.id, made["id"])
    with use_scope(scope):
        answer = datasources.call_api(
            scope,
            source,
            method="GET",
            path="/orders",
            query={"state": "open", "page": "2"},
            body=None,
            timeout_ms=2000,
        )
        assert answer == {"items": [{"id": 1}], "total": 1}
        seen = remote.seen[-1]
        assert seen["headers"]["Authorization"] == "Bearer t0ken" and seen["headers"]["X-Client"] == "riveredge"
        posted = datasources.call_api(
            scope, source, method="POST", path="/search", query={}, body={"q": "x"}, timeout_ms=2000
        )
        assert posted == {} and remote.seen[-1]["body"] == b'{"q":"x"}'
        remote.answers["/v1/missing"] = (404, {}, b'{"error": "no"}')
        with pytest.raises(OutboundError) as failed:
            datasources.call_api(scope, source, method="GET", path="/missing", query={}, body=None, timeout_ms=2000)
        assert failed.value.reason == "bad_status"
        for path in ("/../admin", "/a/%2e%2e/b", "//elsewhere.example/x", "x"):
            with pytest.raises(ValidationError) as bad:
                datasources.call_api(scope, source, method="GET", path=path, query={}, body=None, timeout_ms=2000)
            assert bad.value.errors[0].field == "path", path
        with pytest.raises(ValidationError):
            datasources.run_query(scope, source, "SELECT 1", {}, max_rows=1, timeout_ms=100)
    assert "t0ken" not in stack.request("GET", f"/api/datasources/{made['id']}", token=token).body.decode()


# -- the routes: secrets, versions, tenants, permissions, bad input ------------------------------------------
def test_the_secret_is_write_only_replaced_by_writing_and_deleted_with_the_source(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    config = {"type": "mysql", "host": "db.example.com", "database": "erp", "username": "reports"}
    made = _create(stack, token, {"name": "ERP", "description": "Orders", "config": config, "secret": "pw-one"})
    assert made["config"]["port"] == 3306 and made["config"]["ssl"] is False and made["secret"] == "******"
    name = integrations.secret_name(Scope(fresh_tenant.id), made["id"], "datasources")
    client = boto3.client("secretsmanager")
    assert client.get_secret_value(SecretId=name)["SecretString"] == "pw-one"
    path = f"/api/datasources/{made['id']}"
    changed = stack.request("PUT", path, token=token, json_body={"secret": "pw-two", "version": made["version"]})
    assert changed.status == 200 and b"pw-two" not in changed.body
    assert client.get_secret_value(SecretId=name)["SecretString"] == "pw-two"
    stale = stack.request("PUT", path, token=token, json_body={"name": "Old", "version": made["version"]})
    assert stale.status == 412
    retyped = stack.request(
        "PUT",
        path,
        token=token,
        json_body={"config": {**config, "type": "postgresql"}, "version": changed.json()["version"]},
    )
    assert retyped.status == 422 and retyped.json()["errors"][0]["field"] == "config.type"
    listed = stack.request("GET", "/api/datasources", token=token).json()["items"]
    assert [item["id"] for item in listed] == [made["id"]]
    gone = stack.request("DELETE", f"{path}?version={changed.json()['version']}", token=token)
    assert gone.status == 204
    assert stack.request("GET", path, token=token).status == 404
    assert client.describe_secret(SecretId=name).get("DeletedDate") is not None


def test_another_tenants_source_is_not_found_and_each_route_needs_its_permission(
    stack: LocalStack, fresh_tenant: TenantFixture, globex: TenantFixture
) -> None:
    config = {"type": "postgresql", "host": "db.example.com", "database": "erp", "username": "reports"}
    made = _create(stack, fresh_tenant.admin_token, {"name": "Mine", "config": config})
    path = f"/api/datasources/{made['id']}"
    for method, suffix, body in [
        ("GET", "", None),
        ("PUT", "", {"name": "Theirs", "version": made["version"]}),
        ("DELETE", f"?version={made['version']}", None),
        ("POST", "/test", None),
    ]:
        answer = stack.request(method, path + suffix, token=globex.admin_token, json_body=body)
        assert answer.status == 404, (method, suffix, answer.body)
    theirs = stack.request("GET", "/api/datasources", token=globex.admin_token).json()["items"]
    assert made["id"] not in [item["id"] for item in theirs]
    assert stack.request("GET", path, token=fresh_tenant.admin_token).json()["name"] == "Mine"

    viewer = make_user(stack, fresh_tenant.id, fresh_tenant.code, [seed_role(fresh_tenant.id, ["datasource.view"])])
    member = make_user(stack, fresh_tenant.id, fresh_tenant.code, [seed_role(fresh_tenant.id, ["user.view"])])
    routes = [
        ("GET", "/api/datasources", None),
        ("POST", "/api/datasources", {"name": "X", "config": config}),
        ("GET", path, None),
        ("PUT", path, {"name": "X", "version": made["version"]}),
        ("DELETE", f"{path}?version={made['version']}", None),
        ("POST", f"{path}/test", None),
    ]
    for method, route, body in routes:
        assert stack.request(method, route, token=member["token"], json_body=body).status == 403, (method, route)
    for method, route, body in routes[1:2] + routes[3:]:
        assert stack.request(method, route, token=viewer["token"], json_body=body).status == 403, (method, route)
    assert stack.request("GET", path, token=viewer["token"]).status == 200


@pytest.mark.parametrize(
    ("config", "secret", "field"),
    [
        ({"type": "postgresql", "database": "d", "username": "u"}, None, "config.postgresql.host"),
        (
            {"type": "postgresql", "host": "db.example.com", "port": 0, "database": "d", "username": "u"},
            None,
            "config.postgresql.port",
        ),
        ({"type": "mysql", "host": "db example", "database": "d", "username": "u"}, None, "config.mysql.host"),
        ({"type": "oracle", "host": "db.example.com", "database": "d", "username": "u"}, None, "config"),
        ({"type": "http", "base_url": "ftp://files.example.com"}, None, "config.base_url"),
        ({"type": "http", "base_url": "https://api.example.com", "auth": "header"}, "t", "config.http"),
        ({"type": "http", "base_url": "https://api.example.com", "headers": {"Host": "x"}}, None, "config.http"),
        ({"type": "http", "base_url": "https://api.example.com", "auth": "basic", "username": "u"}, None, "secret"),
    ],
)
def test_bad_data_source_input_is_refused_naming_the_field_and_nothing_is_stored(
    stack: LocalStack, fresh_tenant: TenantFixture, config: dict[str, Any], secret: str | None, field: str
) -> None:
    body: dict[str, Any] = {"name": "Bad", "config": config}
    if secret:
        body["secret"] = secret
    refused = stack.request("POST", "/api/datasources", token=fresh_tenant.admin_token, json_body=body)
    assert refused.status in {400, 422}, refused.body
    fields = [problem["field"] for problem in refused.json()["errors"]]
    assert fields == [field], fields
    assert stack.request("GET", "/api/datasources", token=fresh_tenant.admin_token).json()["items"] == []


def test_a_source_that_fails_to_save_leaves_its_secret_as_it_was(
    stack: LocalStack, fresh_tenant: TenantFixture, monkeypatch: pytest.MonkeyPatch, in_process: InProcess
) -> None:
    in_process("DatasourcesFunction")  # the test patches its modules
    from datasources import repository

    token, client = fresh_tenant.admin_token, boto3.client("secretsmanager")
    config = {"type": "postgresql", "host": "db.example.com", "database": "erp", "username": "reports"}
    made = _create(stack, token, {"name": "ERP", "config": config, "secret": "pw-one"})

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the table is unavailable")

    monkeypatch.setattr(repository, "change", failing)

    # a new source: its secret was written first, and is scheduled for deletion with the failed save
    def tenants_secrets() -> list[dict[str, Any]]:
        pages = client.get_paginator("list_secrets").paginate(IncludePlannedDeletion=True)
        listed = [secret for page in pages for secret in page["SecretList"]]
        return [dict(s) for s in listed if f"/datasources/{fresh_tenant.id}/" in s["Name"]]

    before = {s["Name"] for s in tenants_secrets()}
    failed = stack.request(
        "POST", "/api/datasources", token=token, json_body={"name": "X", "config": config, "secret": "s"}
    )
    assert failed.status == 500
    written = [s for s in tenants_secrets() if s["Name"] not in before]
    assert len(written) == 1 and written[0].get("DeletedDate") is not None
    # a replaced secret: put back as it was
    path = f"/api/datasources/{made['id']}"
    failed = stack.request("PUT", path, token=token, json_body={"secret": "pw-two", "version": made["version"]})
    assert failed.status == 500
    name = integrations.secret_name(Scope(fresh_tenant.id), made["id"], "datasources")
    assert client.get_secret_value(SecretId=name)["SecretString"] == "pw-one"
    assert [item["id"] for item in stack.request("GET", "/api/datasources", token=token).json()["items"]] == [
        made["id"]
    ]


def test_ssl_checks_the_servers_certificate_against_the_sources_own_authority(
    stack: LocalStack, fresh_tenant: TenantFixture, operator: Account, postgres_server: DatabaseServer
) -> None:
    authority = postgres_server.enable_tls()
    _allow(stack, operator, fresh_tenant.id, [LOOPBACK])
    token, secret = fresh_tenant.admin_token, postgres_server.reader_password

    def tested(**config: Any) -> dict[str, Any]:
        made = _create(
            stack, token, {"name": "TLS", "config": postgres_server.source_config(**config), "secret": secret}
        )
        reply = stack.request("POST", f"/api/datasources/{made['id']}/test", token=token)
        assert reply.status == 200, reply.body
        return dict(reply.json(), id=made["id"])

    # the test CA is no public authority, and another CA did not sign the server's certificate
    assert tested(ssl=True)["reason"] == "tls_failed"
    assert tested(ssl=True, ca_certificate=make_certificates()[0])["reason"] == "tls_failed"
    trusted = tested(ssl=True, ca_certificate=authority)
    assert trusted["ok"] is True and trusted["server_version"].startswith("PostgreSQL")
    source = _stored(fresh_tenant.id, trusted["id"])
    assert _query(fresh_tenant.id, source, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").rows == [[True]]
    for config in (
        {"ssl": False, "ca_certificate": authority},
        {"ssl": True, "ca_certificate": "not a certificate"},
        {"ssl": True, "ca_certificate": ":\u00ca"},  # not ASCII: the ssl module raises TypeError, not SSLError
    ):
        body = {"name": "Bad", "config": postgres_server.source_config(**config), "secret": secret}
        refused = stack.request("POST", "/api/datasources", token=token, json_body=body)
        assert refused.status == 422 and refused.json()["errors"][0]["field"] == "config.postgresql", refused.body
