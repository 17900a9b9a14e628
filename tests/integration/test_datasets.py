"""Datasets: SQL with typed :name parameters run on a real PostgreSQL and MariaDB (read-only, with a statement
timeout and a row cap), API datasets through the SSRF guard with a JMESPath extraction, results cached per
parameters, and export jobs (xlsx / CSV, cells neutralised) run by the export queue's consumer."""

from __future__ import annotations

import io
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from openpyxl import load_workbook
from riveredge import keys
from riveredge.clock import new_id
from riveredge.db.changes import System, change
from riveredge.db.datasets import DatasetExport
from riveredge.scope import Scope, use_scope

from local_stack.stack import LocalStack, Reply
from tests.dbservers import DatabaseServer
from tests.integration.accounts import make_user, seed_role
from tests.integration.conftest import Account, InProcess, TenantFixture, make_tenant

ORDERS = [
    (1, "ada", "2026-01-05", "12.50", True, "plain"),
    (2, "ada", "2026-02-01", "99.00", False, "=1+1"),
    (3, "bob", "2026-02-03", "7.25", True, "+SUM(A1)"),
    (4, "bob", "2025-12-30", "40.00", True, "@cmd"),
]
SQL = (
    "SELECT id, customer, note FROM orders"
    " WHERE customer = :customer AND placed >= :since AND amount > :min_amount AND paid = :paid ORDER BY id"
)
PARAMETERS = [
    {"name": "customer", "type": "string", "required": True},
    {"name": "since", "type": "date", "default": "2026-01-01"},
    {"name": "min_amount", "type": "number", "default": 0},
    {"name": "paid", "type": "boolean", "default": True},
]


class Api:
    """A real HTTP server on loopback answering an orders list; counts the requests it serves."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items
        self.seen: list[str] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                api.seen.append(self.path)
                body = json.dumps({"data": {"items": api.items}, "path": self.path}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                """Quiet: http.server writes a line to stderr for every request."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture
def api() -> Iterator[Api]:
    items = [{"id": n, "total": n * 5.5, "customer": "ada" if n % 2 else "bob"} for n in range(1, 7)]
    server = Api(items)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def org(stack: LocalStack, operator: Account) -> TenantFixture:
    """A tenant whose outbound calls may reach loopback (where the test servers listen), on purpose."""
    tenant = make_tenant(stack, operator, f"ds-{uuid.uuid4().hex[:8]}")
    path = f"/api/tenants/{tenant.id}/outbound-allow-list"
    current = stack.request("GET", path, token=operator.token).json()
    body = {"hosts": ["127.0.0.1/32"], "version": current["version"]}
    assert stack.request("PUT", path, token=operator.token, json_body=body).status == 200
    return tenant


def _orders(server: DatabaseServer) -> str:
    """A fresh orders table of the server, seeded as the owner (the data source's user may read every table)."""
    table = f"orders_{uuid.uuid4().hex[:8]}"
    money = "numeric(10,2)" if server.kind == "postgresql" else "decimal(10,2)"
    server.execute(
        f"CREATE TABLE {table} (id int PRIMARY KEY, customer varchar(20), placed date, amount {money},"
        " paid boolean, note varchar(40))"
    )
    for row in ORDERS:
        server.execute(f"INSERT INTO {table} VALUES (%s, %s, %s, %s, %s, %s)", row)
    return table


def _source(stack: LocalStack, token: str, config: dict[str, Any], secret: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": f"src-{uuid.uuid4().hex[:6]}", "config": config}
    if secret is not None:
        body["secret"] = secret
    reply = stack.request("POST", "/api/datasources", token=token, json_body=body)
    assert reply.status == 201, reply.body
    return dict(reply.json())


def _database_source(stack: LocalStack, token: str, server: DatabaseServer) -> dict[str, Any]:
    return _source(stack, token, server.source_config(), server.reader_password)


def _http_source(stack: LocalStack, token: str, url: str) -> dict[str, Any]:
    return _source(stack, token, {"type": "http", "base_url": url})


def _dataset(stack: LocalStack, token: str, **fields: Any) -> dict[str, Any]:
    body = {"name": f"ds-{uuid.uuid4().hex[:6]}", **fields}
    reply = stack.request("POST", "/api/datasets", token=token, json_body=body)
    assert reply.status == 201, reply.body
    assert reply.headers["Location"] == f"/api/datasets/{reply.json()['id']}"
    return dict(reply.json())


def _sql_dataset(stack: LocalStack, token: str, server: DatabaseServer, sql: str, **fields: Any) -> dict[str, Any]:
    source = _database_source(stack, token, server)
    return _dataset(stack, token, datasource_id=source["id"], kind="sql", sql=sql, **fields)


def _preview(stack: LocalStack, token: str, dataset_id: str, **values: Any) -> Reply:
    return stack.request("POST", f"/api/datasets/{dataset_id}/preview", token=token, json_body={"parameters": values})


def _fields(reply: Reply) -> list[str]:
    return [e["field"] for e in reply.json().get("errors", [])]


def _export(stack: LocalStack, token: str, dataset_id: str, **body: Any) -> dict[str, Any]:
    reply = stack.request("POST", f"/api/datasets/{dataset_id}/export", token=token, json_body=body)
    assert reply.status == 202, reply.body
    assert reply.headers["Location"] == f"/api/datasets/{dataset_id}/exports/{reply.json()['id']}"
    assert reply.json()["status"] == "queued"
    stack.settle()
    done = stack.request("GET", reply.headers["Location"], token=token)
    assert done.status == 200, done.body
    return dict(done.json())


def _exported(stack: LocalStack, tenant_id: str, export: dict[str, Any]) -> bytes:
    key = f"{tenant_id}/dataset-exports/{export['dataset_id']}/{export['id']}.{export['format']}"
    assert key in str(export["url"])
    bucket = stack.environment["EXPORTS_BUCKET"]
    return bytes(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


# -- SQL datasets on the real servers -------------------------------------------------------------------------
@pytest.mark.parametrize("server_name", ["postgres_server", "mariadb_server"])
def test_typed_parameters_are_coerced_and_bound_and_an_injecting_value_stays_a_value(
    stack: LocalStack, org: TenantFixture, request: pytest.FixtureRequest, server_name: str
) -> None:
    # Given an orders table and a dataset on it with typed parameters (one required, three with defaults)
    server: DatabaseServer = request.getfixturevalue(server_name)
    table = _orders(server)
    dataset = _sql_dataset(stack, org.admin_token, server, SQL.replace("orders", table), parameters=PARAMETERS)
    # When it is previewed with values given as JSON text (coerced to a date, a number and a boolean)
    reply = _preview(stack, org.admin_token, dataset["id"], customer="ada", since="2026-01-01", min_amount="10")
    # Then the driver bound them as typed values: ada's paid orders of 2026 over 10
    assert reply.status == 200, reply.body
    preview = reply.json()
    assert [c["name"] for c in preview["columns"]] == ["id", "customer", "note"]
    assert preview["rows"] == [[1, "ada", "plain"]] and preview["row_count"] == 1
    assert preview["truncated"] is False and preview["cached"] is False
    unpaid = _preview(stack, org.admin_token, dataset["id"], customer="ada", paid="false").json()
    assert unpaid["rows"] == [[2, "ada", "=1+1"]]
    # And a value that tries to inject SQL is compared as a value: no row, nothing dropped
    injected = _preview(stack, org.admin_token, dataset["id"], customer=f"x' OR '1'='1'; DROP TABLE {table}; --")
    assert injected.status == 200 and injected.json()["rows"] == []
    assert len(server.execute(f"SELECT id FROM {table}")) == len(ORDERS)
    # And a value of the wrong type, a missing required one or an undeclared one is a 422 naming it
    bad = _preview(stack, org.admin_token, dataset["id"], customer="ada", since="last week", min_amount=True)
    assert bad.status == 422 and sorted(_fields(bad)) == ["parameters.min_amount", "parameters.since"]
    missing = _preview(stack, org.admin_token, dataset["id"], nope=1)
    assert missing.status == 422 and sorted(_fields(missing)) == ["parameters.customer", "parameters.nope"]


def test_the_row_cap_cuts_a_million_rows_and_says_so(
    stack: LocalStack, org: TenantFixture, postgres_server: DatabaseServer
) -> None:
    # Given a dataset of a million generated rows, capped at 25
    sql = "SELECT n, 'row ' || n AS label FROM generate_series(1, :count) AS n"
    parameters = [{"name": "count", "type": "integer", "default": 1_000_000}]
    dataset = _sql_dataset(stack, org.admin_token, postgres_server, sql, parameters=parameters, row_cap=25)
    # When it is previewed
    reply = _preview(stack, org.admin_token, dataset["id"])
    # Then 25 rows come back, marked truncated
    assert reply.status == 200, reply.body
    assert reply.json()["row_count"] == 25 and reply.json()["truncated"] is True
    assert reply.json()["rows"][-1] == [25, "row 25"]
    # And a count within the cap is not truncated
    small = _preview(stack, org.admin_token, dataset["id"], count=3).json()
    assert small["row_count"] == 3 and small["truncated"] is False


@pytest.mark.parametrize(
    ("server_name", "sql"),
    [("postgres_server", "SELECT pg_sleep(:seconds)"), ("mariadb_server", "SELECT SLEEP(:seconds)")],
)
def test_a_query_that_runs_for_ever_is_stopped_by_the_timeout_as_a_422_naming_sql(
    stack: LocalStack, org: TenantFixture, request: pytest.FixtureRequest, server_name: str, sql: str
) -> None:
    server: DatabaseServer = request.getfixturevalue(server_name)
    parameters = [{"name": "seconds", "type": "integer", "default": 30}]
    dataset = _sql_dataset(stack, org.admin_token, server, sql, parameters=parameters, timeout_ms=500)
    reply = _preview(stack, org.admin_token, dataset["id"])
    assert reply.status == 422, reply.body
    assert _fields(reply) == ["sql"] and "500 ms" in reply.json()["errors"][0]["message"]


def test_a_write_is_refused_and_the_table_is_unchanged(
    stack: LocalStack, org: TenantFixture, postgres_server: DatabaseServer
) -> None:
    table = _orders(postgres_server)
    # Given a dataset whose query hides a DELETE in a CTE, and one that is a plain UPDATE
    hidden = f"WITH gone AS (DELETE FROM {table} RETURNING id) SELECT id FROM gone"
    for sql in (hidden, f"UPDATE {table} SET note = 'x'"):
        dataset = _sql_dataset(stack, org.admin_token, postgres_server, sql)
        # When it is previewed, it is refused naming the SQL
        reply = _preview(stack, org.admin_token, dataset["id"])
        assert reply.status == 422 and _fields(reply) == ["sql"], reply.body
    # And the table is as it was
    assert len(postgres_server.execute(f"SELECT id FROM {table} WHERE note <> 'x'")) == len(ORDERS)
    # And a second statement is refused when the dataset is saved: nothing stored
    source = _database_source(stack, org.admin_token, postgres_server)
    body = {"name": "two", "datasource_id": source["id"], "kind": "sql", "sql": f"SELECT 1; DROP TABLE {table}"}
    refused = stack.request("POST", "/api/datasets", token=org.admin_token, json_body=body)
    assert refused.status == 422 and _fields(refused) == ["sql"]


# -- the definition, checked when saved ----------------------------------------------------------------------
def test_a_definition_is_checked_against_its_source_and_parameters_when_saved(
    stack: LocalStack, org: TenantFixture, globex: TenantFixture, postgres_server: DatabaseServer, api: Api
) -> None:
    token = org.admin_token
    database = _database_source(stack, token, postgres_server)
    http = _http_source(stack, token, api.url)
    theirs = _http_source(stack, globex.admin_token, "https://erp.example.com")
    before = stack.request("GET", "/api/datasets?limit=200", token=token).json()["items"]
    cases: list[tuple[dict[str, Any], list[str]]] = [
        # an undeclared :name, and a declared parameter the SQL does not use
        (
            {"datasource_id": database["id"], "kind": "sql", "sql": "SELECT :a", "parameters": [{"name": "b"}]},
            ["sql", "parameters.0.name"],
        ),
        # a default that is not of its type, a parameter declared twice
        (
            {
                "datasource_id": database["id"],
                "kind": "sql",
                "sql": "SELECT :a::int",
                "parameters": [{"name": "a", "type": "integer", "default": "seven"}, {"name": "a"}],
            },
            ["parameters.0.default", "parameters.1.name"],
        ),
        # a data source of another tenant, or of the wrong kind
        ({"datasource_id": theirs["id"], "kind": "api", "api": {}}, ["datasource_id"]),
        ({"datasource_id": http["id"], "kind": "sql", "sql": "SELECT 1"}, ["datasource_id"]),
        # a JMESPath that does not compile, an undeclared placeholder, a GET with a body
        ({"datasource_id": http["id"], "kind": "api", "api": {"extract": "data.items[?"}}, ["api.extract"]),
        ({"datasource_id": http["id"], "kind": "api", "api": {"path": "/c/{who}"}}, ["api.path"]),
        ({"datasource_id": http["id"], "kind": "api", "api": {"body": {"a": 1}}}, ["api.body"]),
        # out of range, unknown fields
        (
            {"datasource_id": http["id"], "kind": "api", "api": {}, "row_cap": 100_001, "timeout_ms": 50},
            ["row_cap", "timeout_ms"],
        ),
        ({"datasource_id": http["id"], "kind": "api", "api": {}, "tenant_id": "x"}, ["tenant_id"]),
    ]
    for body, fields in cases:
        reply = stack.request("POST", "/api/datasets", token=token, json_body={"name": "bad", **body})
        assert reply.status == 422, (body, reply.body)
        assert sorted(_fields(reply)) == sorted(fields), (body, reply.body)
    assert stack.request("GET", "/api/datasets?limit=200", token=token).json()["items"] == before


def test_a_dataset_is_listed_changed_with_its_version_and_deleted(
    stack: LocalStack, org: TenantFixture, api: Api
) -> None:
    token = org.admin_token
    http = _http_source(stack, token, api.url)
    made = _dataset(stack, token, datasource_id=http["id"], kind="api", api={"extract": "data.items"})
    path = f"/api/datasets/{made['id']}"
    listed = stack.request("GET", f"/api/datasets?datasource_id={http['id']}", token=token).json()["items"]
    assert [d["id"] for d in listed] == [made["id"]]
    # A change is checked as a whole: a placeholder needs its parameter
    change_body = {"api": {"path": "/c/{who}", "extract": "data.items"}, "version": made["version"]}
    refused = stack.request("PUT", path, token=token, json_body=change_body)
    assert refused.status == 422 and _fields(refused) == ["api.path"]
    changed = stack.request(
        "PUT", path, token=token, json_body={**change_body, "parameters": [{"name": "who", "required": True}]}
    )
    assert changed.status == 200, changed.body
    assert changed.json()["version"] == made["version"] + 1 and changed.json()["api"]["path"] == "/c/{who}"
    stale = stack.request("PUT", path, token=token, json_body={"name": "Again", "version": made["version"]})
    assert stale.status == 412
    assert stack.request("DELETE", path, token=token).status == 204
    assert stack.request("GET", path, token=token).status == 404


# -- API datasets and the cache ------------------------------------------------------------------------------
def test_an_api_dataset_fills_its_call_from_typed_parameters_and_extracts_rows_with_jmespath(
    stack: LocalStack, org: TenantFixture, api: Api
) -> None:
    # Given an API dataset: a path and a query filled from parameters, a JMESPath keeping two fields of big orders
    http = _http_source(stack, org.admin_token, api.url)
    dataset = _dataset(
        stack,
        org.admin_token,
        datasource_id=http["id"],
        kind="api",
        api={
            "path": "/customers/{customer}/orders",
            "query": {"since": "{since}", "fixed": "yes"},
            "extract": "data.items[?total > `10`].{id: id, total: total}",
        },
        parameters=[{"name": "customer", "required": True}, {"name": "since", "type": "date"}],
    )
    # When it is previewed with a value that tries to add a path segment and a query
    reply = _preview(stack, org.admin_token, dataset["id"], customer="a/b?admin=1", since="2026-03-01")
    # Then the value stayed inside its path segment, the date went as ISO text, and the rows were shaped
    assert reply.status == 200, reply.body
    assert api.seen == ["/customers/a%2Fb%3Fadmin%3D1/orders?since=2026-03-01&fixed=yes"]
    preview = reply.json()
    assert preview["columns"] == [{"name": "id", "type": "integer"}, {"name": "total", "type": "number"}]
    assert preview["rows"] == [[2, 11.0], [3, 16.5], [4, 22.0], [5, 27.5], [6, 33.0]]
    # And an optional parameter left out leaves its query key out
    _preview(stack, org.admin_token, dataset["id"], customer="ada")
    assert api.seen[-1] == "/customers/ada/orders?fixed=yes"
    # And a value that would climb out of the base URL is refused naming the path, and nothing is called
    for climbing in ("..", "../admin"):
        refused = _preview(stack, org.admin_token, dataset["id"], customer=climbing)
        assert refused.status == 422 and _fields(refused) == ["api.path"], refused.body
    assert len(api.seen) == 2


def test_a_result_is_cached_per_parameters_until_the_dataset_changes(
    stack: LocalStack, org: TenantFixture, api: Api
) -> None:
    token = org.admin_token
    http = _http_source(stack, token, api.url)
    parameters = [{"name": "status", "default": "open"}]
    dataset = _dataset(
        stack,
        token,
        datasource_id=http["id"],
        kind="api",
        api={"query": {"status": "{status}"}, "extract": "data.items"},
        parameters=parameters,
        cache_ttl_seconds=300,
    )
    # When the same parameters are previewed twice
    first = _preview(stack, token, dataset["id"]).json()
    second = _preview(stack, token, dataset["id"], status="open").json()
    # Then the second answer came from the cache: one call to the API, the same rows
    assert first["cached"] is False and second["cached"] is True and second["cached_at"]
    assert len(api.seen) == 1 and second["rows"] == first["rows"] and second["columns"] == first["columns"]
    # And other parameters run again, and so does the same after the dataset changed (its version is in the key)
    assert _preview(stack, token, dataset["id"], status="closed").json()["cached"] is False
    path = f"/api/datasets/{dataset['id']}"
    changed = stack.request("PUT", path, token=token, json_body={"name": "Renamed", "version": dataset["version"]})
    assert changed.status == 200
    assert _preview(stack, token, dataset["id"]).json()["cached"] is False
    assert len(api.seen) == 3


def test_a_big_cached_result_is_kept_in_the_exports_bucket(stack: LocalStack, org: TenantFixture, api: Api) -> None:
    # Given an API answer of about 200 KB, cached
    api.items = [{"id": n, "text": "x" * 200} for n in range(1000)]
    http = _http_source(stack, org.admin_token, api.url)
    dataset = _dataset(
        stack,
        org.admin_token,
        datasource_id=http["id"],
        kind="api",
        api={"extract": "data.items"},
        cache_ttl_seconds=60,
    )
    first = _preview(stack, org.admin_token, dataset["id"]).json()
    # Then the result is an object under the tenant's dataset-cache prefix, and the next preview reads it
    listed = boto3.client("s3").list_objects_v2(
        Bucket=stack.environment["EXPORTS_BUCKET"], Prefix=f"{org.id}/dataset-cache/{dataset['id']}/"
    )
    assert listed["KeyCount"] == 1
    second = _preview(stack, org.admin_token, dataset["id"]).json()
    assert second["cached"] is True and second["rows"] == first["rows"] and len(second["rows"]) == 1000
    assert len(api.seen) == 1


# -- exports -------------------------------------------------------------------------------------------------
def test_an_export_job_writes_xlsx_and_csv_with_neutralised_cells(
    stack: LocalStack, org: TenantFixture, postgres_server: DatabaseServer
) -> None:
    table = _orders(postgres_server)
    sql = f"SELECT id, customer, amount, paid, note FROM {table} WHERE customer = :customer ORDER BY id"
    parameters = [{"name": "customer", "required": True}]
    dataset = _sql_dataset(stack, org.admin_token, postgres_server, sql, parameters=parameters)
    # When ada's orders are exported as xlsx
    export = _export(stack, org.admin_token, dataset["id"], parameters={"customer": "ada"}, format="xlsx")
    # Then the job is done with its row count and a download link, and the sheet reads back as written
    assert export["status"] == "done" and export["row_count"] == 2 and export["truncated"] is False
    assert export["parameters"] == {"customer": "ada"} and export["filename"].endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(_exported(stack, org.id, export)), read_only=True).worksheets[0]
    rows = [tuple(cell.value for cell in row) for row in sheet.iter_rows()]
    assert rows[0] == ("id", "customer", "amount", "paid", "note")
    assert rows[1] == (1, "ada", "12.50", True, "plain")
    # And the formula-like value is text, not a formula
    assert rows[2][4] == "'=1+1"
    # And as CSV, the same rows, neutralised the same way
    csv_export = _export(stack, org.admin_token, dataset["id"], parameters={"customer": "bob"}, format="csv")
    text = _exported(stack, org.id, csv_export).decode("utf-8-sig")
    assert text.splitlines() == ["id,customer,amount,paid,note", "3,bob,7.25,TRUE,'+SUM(A1)", "4,bob,40.00,TRUE,'@cmd"]


def test_an_export_that_fails_says_why(stack: LocalStack, org: TenantFixture, postgres_server: DatabaseServer) -> None:
    parameters = [{"name": "seconds", "type": "integer", "default": 30}]
    dataset = _sql_dataset(
        stack, org.admin_token, postgres_server, "SELECT pg_sleep(:seconds)", parameters=parameters, timeout_ms=300
    )
    export = _export(stack, org.admin_token, dataset["id"])
    assert export["status"] == "failed" and export["url"] is None
    assert export["error"].startswith("sql: ") and "300 ms" in export["error"]


def _queued_export(tenant_id: str, dataset: dict[str, Any], parameters: dict[str, Any]) -> DatasetExport:
    """An export job stored as the export route stores it, but not sent to the queue (the test delivers it)."""
    scope = Scope(tenant_id)
    with use_scope(scope):
        export = DatasetExport.new(
            scope,
            dataset["id"],
            new_id(),
            dataset_version=dataset["version"],
            format="csv",
            parameters=parameters,
            status="queued",
            created_by="test",
        )
        with change(System(scope, "test"), "dataset.export", export) as c:
            c.create(export, conflict="exists")
    return export


def _message(stack: LocalStack, tenant_id: str, export: DatasetExport, message_id: str) -> dict[str, Any]:
    queue = str(stack.registry.get("DatasetsFunction").spec.environment["DATASET_EXPORT_QUEUE_URL"])
    return {
        "Records": [
            {
                "messageId": message_id,
                "receiptHandle": "test",
                "body": json.dumps({"dataset_id": export.dataset_id, "export_id": export.export_id}),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {"tenant_id": {"stringValue": tenant_id, "dataType": "String"}},
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue.rsplit('/', 1)[-1]}",
            }
        ]
    }


def _export_log(tenant_id: str, export_id: str) -> list[str]:
    from riveredge.db.models import OperationLogEntry

    scope = Scope(tenant_id)
    with use_scope(scope):
        entries = OperationLogEntry.query(keys.collection(scope, "OPLOG"), consistent_read=True)
        return [e.action for e in entries if isinstance(e, OperationLogEntry) and e.resource_id == export_id]


def test_the_same_export_message_twice_writes_one_export_and_another_tenant_cannot_run_it(
    stack: LocalStack, org: TenantFixture, globex: TenantFixture, api: Api
) -> None:
    http = _http_source(stack, org.admin_token, api.url)
    dataset = _dataset(stack, org.admin_token, datasource_id=http["id"], kind="api", api={"extract": "data.items"})
    export = _queued_export(org.id, dataset, {})
    # When a message naming it arrives for another tenant, it is refused (dead-lettered) and the job is untouched
    foreign = stack.invoke("DatasetExportsFunction", _message(stack, globex.id, export, str(uuid.uuid4())))
    assert foreign == {"batchItemFailures": []}
    path = f"/api/datasets/{dataset['id']}/exports/{export.export_id}"
    assert stack.request("GET", path, token=org.admin_token).json()["status"] == "queued"
    # When its message is delivered twice, and a copy under another message id
    message = _message(stack, org.id, export, str(uuid.uuid4()))
    answers = [
        stack.invoke("DatasetExportsFunction", m)
        for m in (message, message, _message(stack, org.id, export, str(uuid.uuid4())))
    ]
    # Then it ran once: one call to the API, one file, one end in the log
    assert answers == [{"batchItemFailures": []}] * 3
    assert len(api.seen) == 1
    done = stack.request("GET", path, token=org.admin_token).json()
    assert done["status"] == "done" and done["row_count"] == len(api.items)
    listed = boto3.client("s3").list_objects_v2(
        Bucket=stack.environment["EXPORTS_BUCKET"], Prefix=f"{org.id}/dataset-exports/{dataset['id']}/"
    )
    assert listed["KeyCount"] == 1
    assert _export_log(org.id, export.export_id) == ["dataset.export", "dataset.export_done"]


# -- isolation, permissions, bad input -----------------------------------------------------------------------
def _routes(dataset_id: str, export_id: str) -> list[tuple[str, str, Any]]:
    base = f"/api/datasets/{dataset_id}"
    return [
        ("GET", base, None),
        ("PUT", base, {"name": "Mine", "version": 1}),
        ("DELETE", base, None),
        ("POST", f"{base}/preview", {"parameters": {}}),
        ("POST", f"{base}/export", {"format": "csv"}),
        ("GET", f"{base}/exports/{export_id}", None),
    ]


def test_another_tenants_dataset_and_export_are_404_on_every_route(
    stack: LocalStack, org: TenantFixture, globex: TenantFixture, api: Api
) -> None:
    http = _http_source(stack, org.admin_token, api.url)
    dataset = _dataset(stack, org.admin_token, datasource_id=http["id"], kind="api", api={"extract": "data.items"})
    export = _export(stack, org.admin_token, dataset["id"], format="csv")
    for method, path, body in _routes(dataset["id"], export["id"]):
        reply = stack.request(method, path, token=globex.admin_token, json_body=body)
        assert reply.status == 404, (method, path, reply.body)
    listed = stack.request("GET", "/api/datasets?limit=200", token=globex.admin_token).json()["items"]
    assert dataset["id"] not in {d["id"] for d in listed}
    assert stack.request("GET", f"/api/datasets/{dataset['id']}", token=org.admin_token).status == 200


def test_every_route_needs_its_permission(stack: LocalStack, org: TenantFixture, api: Api) -> None:
    http = _http_source(stack, org.admin_token, api.url)
    dataset = _dataset(stack, org.admin_token, datasource_id=http["id"], kind="api", api={"extract": "data.items"})
    export = _export(stack, org.admin_token, dataset["id"], format="csv")
    viewer = make_user(stack, org.id, org.code, [seed_role(org.id, ["dataset.view"])])
    nobody = make_user(stack, org.id, org.code, [seed_role(org.id, ["user.view"])])
    needs = {
        ("GET", f"/api/datasets/{dataset['id']}"): "dataset.view",
        ("PUT", f"/api/datasets/{dataset['id']}"): "dataset.edit",
        ("DELETE", f"/api/datasets/{dataset['id']}"): "dataset.delete",
        ("POST", f"/api/datasets/{dataset['id']}/preview"): "dataset.view",
        ("POST", f"/api/datasets/{dataset['id']}/export"): "dataset.export",
        ("GET", f"/api/datasets/{dataset['id']}/exports/{export['id']}"): "dataset.export",
    }
    for method, path, body in [*_routes(dataset["id"], export["id"]), ("POST", "/api/datasets", {"name": "x"})]:
        permission = needs.get((method, path), "dataset.create")
        holder = viewer if permission != "dataset.view" else nobody
        reply = stack.request(method, path, token=holder["token"], json_body=body)
        assert reply.status == 403 and permission in reply.json()["detail"], (method, path, reply.body)
    assert stack.request("GET", "/api/datasets", token=nobody["token"]).status == 403
    assert stack.request("GET", "/api/datasets", token=viewer["token"]).status == 200
    assert _preview(stack, viewer["token"], dataset["id"]).status == 200


def test_bad_input_is_refused_naming_the_field(stack: LocalStack, org: TenantFixture, api: Api) -> None:
    http = _http_source(stack, org.admin_token, api.url)
    dataset = _dataset(stack, org.admin_token, datasource_id=http["id"], kind="api", api={"extract": "data.items"})
    base = f"/api/datasets/{dataset['id']}"
    cases: list[tuple[str, str, Any, str, int]] = [
        ("POST", f"{base}/export", {"format": "pdf"}, "format", 422),
        ("POST", f"{base}/export", {"parameters": {"x": 1}}, "parameters.x", 422),
        ("POST", f"{base}/preview", {"parameters": {"x": [1]}}, "parameters.x", 422),
        ("POST", f"{base}/preview", {"limit": 5}, "limit", 422),
        ("GET", "/api/datasets?limit=0", None, "limit", 400),
        ("GET", "/api/datasets?cursor=forged.cursor", None, "", 400),
        ("GET", f"/api/datasets/{'x' * 1100}", None, "", 404),  # longer than a sort key may be: never sent
        ("POST", f"/api/datasets/{'x' * 1100}/preview", {}, "", 404),
        ("GET", f"{base}/exports/{'y' * 1100}", None, "", 404),
    ]
    for method, path, body, field, status in cases:
        reply = stack.request(method, path, token=org.admin_token, json_body=body)
        assert reply.status == status, (path, body, reply.body)
        assert reply.headers["Content-Type"] == "application/problem+json"
        if field:
            assert field in _fields(reply), (path, reply.body)
    missing = stack.request("GET", f"{base}/exports/{new_id()}", token=org.admin_token)
    assert missing.status == 404


def test_an_export_the_queue_does_not_take_is_failed_with_the_reason(
    stack: LocalStack, org: TenantFixture, api: Api, monkeypatch: pytest.MonkeyPatch, in_process: InProcess
) -> None:
    in_process("DatasetsFunction")  # the test points it at a queue that does not exist
    from datasets import repository

    http = _http_source(stack, org.admin_token, api.url)
    dataset = _dataset(stack, org.admin_token, datasource_id=http["id"], kind="api", api={"extract": "data.items"})
    monkeypatch.setattr(repository, "_queue_url", lambda: "https://sqs.us-east-1.amazonaws.com/123456789012/gone")
    # When an export is asked for and its message cannot be sent
    reply = stack.request("POST", f"/api/datasets/{dataset['id']}/export", token=org.admin_token, json_body={})
    # Then the answer is our fault (a 500), and the job is recorded failed with why: it never runs
    assert reply.status == 500 and reply.headers["Content-Type"] == "application/problem+json"
    scope = Scope(org.id)
    with use_scope(scope):
        exports = [
            e for e in DatasetExport.query(keys.dataset_exports(scope, dataset["id"])) if isinstance(e, DatasetExport)
        ]
    assert [(e.status, e.error) for e in exports] == [("failed", "the export could not be queued: QueueDoesNotExist")]
    assert api.seen == []


def test_a_source_that_cannot_be_reached_is_a_502_for_a_preview_and_a_reason_for_an_export(
    stack: LocalStack, org: TenantFixture, postgres_server: DatabaseServer
) -> None:
    # Given a dataset whose database listens nowhere (a port just closed)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = postgres_server.source_config(port=port, connect_timeout_ms=1000)
    source = _source(stack, org.admin_token, config, postgres_server.reader_password)
    dataset = _dataset(stack, org.admin_token, datasource_id=source["id"], kind="sql", sql="SELECT 1")
    # Then a preview is the remote's fault, not ours (a 502 problem), and an export fails saying why
    reply = _preview(stack, org.admin_token, dataset["id"])
    assert reply.status == 502 and reply.json()["type"] == "/problems/outbound-request-failed", reply.body
    export = _export(stack, org.admin_token, dataset["id"])
    assert export["status"] == "failed" and export["error"] == reply.json()["detail"]
