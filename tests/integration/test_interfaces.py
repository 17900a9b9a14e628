"""The API registry: interfaces described with JSON Schemas (checked when saved), one per method and path, test
calls checked against those schemas and made through the SSRF guard with an integration's credentials against a
real HTTP server, recorded as test runs; the registry exported as OpenAPI 3.1 (valid by openapi-spec-validator)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from openapi_spec_validator import validate
from riveredge.clock import new_id, utcnow
from riveredge.db.interfaces import InterfaceTestRun
from riveredge.scope import Scope, use_scope

from local_stack.stack import LocalStack
from tests.integration.accounts import make_user, seed_role
from tests.integration.conftest import Account, TenantFixture
from tests.integration.test_integrations import Remote, _allow

PATH = "/api/interfaces"
ORDER = {
    "type": "object",
    "required": ["id", "status"],
    "properties": {"id": {"type": "string"}, "status": {"enum": ["open", "shipped"]}},
}


@pytest.fixture
def remote() -> Iterator[Remote]:
    server = Remote()
    yield server
    server.stop()


def _create(stack: LocalStack, token: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = stack.request("POST", PATH, token=token, json_body=body)
    assert reply.status == 201, reply.body
    assert reply.headers["Location"] == f"{PATH}/{reply.json()['id']}"
    return dict(reply.json())


def _integration(stack: LocalStack, token: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = stack.request("POST", "/api/integrations", token=token, json_body=body)
    assert reply.status == 201, reply.body
    return dict(reply.json())


def _names(reply: Any) -> list[str]:
    return [i["name"] for i in reply.json()["items"]]


def _fields(reply: Any) -> list[str]:
    return [e["field"] for e in reply.json()["errors"]]


def test_an_interface_is_created_listed_filtered_updated_and_deleted(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    base = "https://shop.example.com/v1"
    # Given three interfaces in two groups
    orders = _create(
        stack,
        token,
        {
            "name": "List orders",
            "group": "Shop",
            "method": "get",
            "path": f"{base}/orders",
            "tags": ["orders", "orders"],
            "parameters": [{"name": "status", "in": "query", "schema": {"enum": ["open", "shipped"]}}],
            "responses": {"200": {"description": "Orders", "schema": {"type": "array", "items": ORDER}}},
        },
    )
    _create(
        stack,
        token,
        {
            "name": "Create customer",
            "group": "Shop",
            "method": "POST",
            "path": f"{base}/customers",
            "tags": ["customers"],
            "request_body": {"type": "object", "required": ["email"]},
        },
    )
    _create(stack, token, {"name": "Holidays", "group": "Public", "method": "GET", "path": f"{base}/holidays"})
    assert orders["method"] == "GET" and orders["tags"] == ["orders"] and orders["version"] == 1
    assert orders["parameters"] == [
        {
            "name": "status",
            "in": "query",
            "required": False,
            "description": None,
            "schema": {"enum": ["open", "shipped"]},
        }
    ]
    assert orders["responses"]["200"]["schema"]["items"] == ORDER
    assert stack.request("GET", f"{PATH}/{orders['id']}", token=token).json() == orders
    # Then the list filters by group, tag and method, and searches names whatever their case
    listed = {
        query: _names(stack.request("GET", f"{PATH}?{query}", token=token))
        for query in ("group=Shop", "tag=orders", "method=post", "q=ORDERS", "q=zzz")
    }
    assert listed == {
        "group=Shop": ["List orders", "Create customer"],
        "tag=orders": ["List orders"],
        "method=post": ["Create customer"],
        "q=ORDERS": ["List orders"],
        "q=zzz": [],
    }
    # And pages follow their cursor
    seen, cursor = [], None
    while True:
        page = stack.request("GET", f"{PATH}?limit=1" + (f"&cursor={cursor}" if cursor else ""), token=token).json()
        seen += [i["name"] for i in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert seen == ["List orders", "Create customer", "Holidays"]
    # When it is changed (the version read), then cleared, and a stale version refused
    path = f"{PATH}/{orders['id']}"
    changed = stack.request(
        "PUT",
        path,
        token=token,
        json_body={"name": "All orders", "tags": ["sales", "orders"], "description": "Every order", "version": 1},
    )
    assert changed.status == 200, changed.body
    assert (changed.json()["name"], changed.json()["tags"], changed.json()["version"]) == (
        "All orders",
        ["orders", "sales"],
        2,
    )
    cleared = stack.request("PUT", path, token=token, json_body={"description": None, "version": 2})
    assert cleared.status == 200 and cleared.json()["description"] is None
    stale = stack.request("PUT", path, token=token, json_body={"name": "Late", "version": 1})
    assert stale.status == 412
    # Then deleting it (If-Match) frees nothing else and it is gone
    assert stack.request("DELETE", path, token=token, headers={"If-Match": '"3"'}).status == 204
    assert stack.request("GET", path, token=token).status == 404
    assert _names(stack.request("GET", PATH, token=token)) == ["Create customer", "Holidays"]
    assert stack.request("GET", f"{PATH}/{'A' * 2000}", token=token).status == 404  # no id of ours: no key asked for


DEEP: dict[str, Any] = {"type": "object"}
for _ in range(40):
    DEEP = {"type": "object", "properties": {"a": DEEP}}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"parameters": [{"name": "q", "in": "query", "schema": {"type": "strin"}}]}, "parameters.0.schema"),
        (
            {"parameters": [{"name": "q", "in": "query", "schema": {"$ref": "http://169.254.169.254/"}}]},
            "parameters.0.schema",
        ),
        ({"method": "POST", "request_body": {"properties": {"a": {"minLength": -1}}}}, "request_body"),
        ({"method": "POST", "request_body": DEEP}, "request_body"),
        ({"request_body": {"type": "object"}}, "request_body"),  # a GET has no body
        ({"responses": {"200": {"schema": {"type": 5}}}}, "responses.200.schema"),
        ({"path": "https://api.example.com/orders/{order_id}"}, "path"),  # no path parameter declared
        ({"parameters": [{"name": "id", "in": "path", "required": True}]}, "parameters.0.name"),  # not in the path
        ({"parameters": [{"name": "Authorization", "in": "header"}]}, "parameters.0.name"),
        ({"path": "/orders"}, "path"),  # a relative path needs an integration
        ({"path": "/orders", "integration_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, "integration_id"),
        ({"auth_type": "integration"}, "integration_id"),
        ({"path": "https://api.example.com/orders?status=open"}, "path"),
        ({"path": "https://api.example.com/a/../admin"}, "path"),
        ({"path": "http://10.0.0.8/orders"}, "path"),
        ({"path": "http://[::ffff:169.254.169.254]/latest"}, "path"),
        ({"api_key_header": "X-Key"}, "api_key_header"),
        ({"method": "FETCH"}, "method"),
        ({"tenant_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, "tenant_id"),
    ],
)
def test_an_interface_that_cannot_be_saved_is_refused_naming_the_field_and_nothing_is_stored(
    stack: LocalStack, acme: TenantFixture, change: dict[str, Any], field: str
) -> None:
    token = acme.admin_token
    before = stack.request("GET", PATH, token=token).json()["items"]
    body = {"name": "Orders", "method": "GET", "path": "https://api.example.com/orders", **change}
    refused = stack.request("POST", PATH, token=token, json_body=body)
    assert refused.status == 422, refused.body
    assert refused.content_type == "application/problem+json"
    assert field in _fields(refused), refused.body
    assert stack.request("GET", PATH, token=token).json()["items"] == before


def test_one_interface_per_method_and_path(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token

    def body(method: str, path: str, name: str) -> dict[str, Any]:
        parameter = {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        return {"name": f"{method} {path}", "method": method, "path": path, "parameters": [parameter]}

    user = _create(stack, token, body("GET", "https://api.example.com/users/{id}", "id"))
    # Paths that differ only in their parameters' names, or their server, are one path: a 409
    for path, name in (("https://api.example.com/users/{uid}", "uid"), ("https://other.example.com/users/{id}", "id")):
        taken = stack.request("POST", PATH, token=token, json_body=body("GET", path, name))
        assert taken.status == 409, taken.body
    # Another method of the path names its parameters as the first one does
    renamed = stack.request(
        "POST", PATH, token=token, json_body=body("DELETE", "https://api.example.com/users/{uid}", "uid")
    )
    assert renamed.status == 422 and _fields(renamed) == ["path"] and "{id}" in renamed.json()["errors"][0]["message"]
    _create(stack, token, body("DELETE", "https://api.example.com/users/{id}", "id"))
    # Moving an interface frees its old path
    moved = stack.request(
        "PUT",
        f"{PATH}/{user['id']}",
        token=token,
        json_body={"path": "https://api.example.com/people/{id}", "version": user["version"]},
    )
    assert moved.status == 200, moved.body
    _create(stack, token, body("GET", "https://api.example.com/users/{id}", "id"))
    assert len(stack.request("GET", PATH, token=token).json()["items"]) == 3


def test_a_test_call_is_checked_made_with_the_integrations_key_and_recorded(
    stack: LocalStack, fresh_tenant: TenantFixture, operator: Account, remote: Remote
) -> None:
    token = fresh_tenant.admin_token
    _allow(stack, operator, fresh_tenant.id, ["127.0.0.1/32"])
    erp = _integration(
        stack,
        token,
        {
            "name": "ERP",
            "config": {"type": "api", "base_url": f"{remote.url}/v2", "auth_header": "X-Key", "auth_scheme": ""},
            "secret": "erp-key",
        },
    )
    made = _create(
        stack,
        token,
        {
            "name": "Get an order",
            "method": "GET",
            "path": "/orders/{order_id}",
            "integration_id": erp["id"],
            "auth_type": "integration",
            "parameters": [
                {"name": "order_id", "in": "path", "required": True, "schema": {"pattern": "^[0-9]+$"}},
                {"name": "expand", "in": "query", "schema": {"type": "boolean"}},
                {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
            ],
            "responses": {"200": {"description": "The order", "schema": ORDER}},
        },
    )
    test = f"{PATH}/{made['id']}/test"
    # Values that break the schemas are refused naming each, and no call is made
    bad = stack.request(
        "POST", test, token=token, json_body={"path_params": {"order_id": "4/2"}, "query": {"expand": "yes", "x": 1}}
    )
    assert bad.status == 422 and sorted(_fields(bad)) == ["path_params.order_id", "query.expand", "query.x"]
    missing = stack.request("POST", test, token=token, json_body={})
    assert missing.status == 422 and _fields(missing) == ["path_params.order_id"]
    assert remote.seen == []
    # A call the server answers (text read as the schema's boolean): the key sent as the integration says, the
    # run recorded with the body cut
    padded = {"id": "42", "status": "open", "notes": "x" * 5000}
    remote.answers["/v2/orders/42?expand=true"] = (
        200,
        {"ETag": '"v1"', "Set-Cookie": "s=1"},
        json.dumps(padded).encode(),
    )
    values = {"path_params": {"order_id": "42"}, "query": {"expand": "true"}, "headers": {"X-Trace": "t-1"}}
    answered = stack.request("POST", test, token=token, json_body=values)
    assert answered.status == 201, answered.body
    run = answered.json()
    sent = remote.seen[-1]
    assert sent["path"] == "/v2/orders/42?expand=true"
    assert (sent["headers"]["X-Key"], sent["headers"]["X-Trace"]) == ("erp-key", "t-1")
    assert (run["status"], run["ok"], run["schema_matched"], run["error"]) == (200, True, True, None)
    assert isinstance(run["latency_ms"], float) and run["latency_ms"] >= 0
    assert run["body_truncated"] is True and run["body_bytes"] == len(json.dumps(padded).encode())
    assert len(run["body"].encode()) == 4096 and run["body"].startswith('{"id": "42"')
    assert run["response_headers"]["etag"] == '"v1"' and "set-cookie" not in run["response_headers"]
    assert stack.request("GET", answered.headers["Location"], token=token).json() == run
    # A body that breaks the documented schema is recorded as such
    remote.answers["/v2/orders/7"] = (200, {}, b'{"id": "7", "status": "lost"}')
    broken = stack.request("POST", test, token=token, json_body={"path_params": {"order_id": "7"}}).json()
    assert (broken["ok"], broken["schema_matched"]) == (False, False)
    assert [e["field"] for e in broken["schema_errors"]] == ["body.status"]
    # An undocumented status is reported, not judged
    remote.answers["/v2/orders/8"] = (404, {}, b"no such order")
    absent = stack.request("POST", test, token=token, json_body={"path_params": {"order_id": "8"}}).json()
    assert (absent["status"], absent["ok"], absent["schema_matched"], absent["body"]) == (
        404,
        False,
        None,
        "no such order",
    )
    # A run past its TTL (which DynamoDB removes within days) is gone already for the API
    scope = Scope(fresh_tenant.id)
    with use_scope(scope):
        expired = InterfaceTestRun.new(
            scope, made["id"], new_id(), method="GET", url="-", ttl=utcnow() - timedelta(hours=1)
        )
        expired.save()
    assert stack.request("GET", f"{PATH}/{made['id']}/tests/{expired.test_id}", token=token).status == 404
    # The runs are listed newest first, without the key
    listed = stack.request("GET", f"{PATH}/{made['id']}/tests", token=token)
    assert [r["id"] for r in listed.json()["items"]] == [absent["id"], broken["id"], run["id"]]
    assert b"erp-key" not in listed.body
    # An interface whose integration is gone cannot be called
    assert stack.request("DELETE", f"/api/integrations/{erp['id']}", token=token).status == 204
    gone = stack.request("POST", test, token=token, json_body={"path_params": {"order_id": "42"}})
    assert gone.status == 409 and "no longer exists" in gone.json()["detail"]


def test_a_bearer_interface_is_tested_with_the_testers_credential_and_an_oauth2_one_with_a_token(
    stack: LocalStack, fresh_tenant: TenantFixture, operator: Account, remote: Remote
) -> None:
    token = fresh_tenant.admin_token
    _allow(stack, operator, fresh_tenant.id, ["127.0.0.1/32"])
    bearer = _create(stack, token, {"name": "Me", "method": "GET", "path": f"{remote.url}/me", "auth_type": "bearer"})
    # The tester sends the credential (never stored); without it the call is refused naming the header
    refused = stack.request("POST", f"{PATH}/{bearer['id']}/test", token=token, json_body={})
    assert refused.status == 422 and _fields(refused) == ["headers.Authorization"]
    unsendable = {"headers": {"Authorization": "Bearer \u00e9t\u00e9\r\nX-Evil: 1"}}  # not printable ASCII
    refused = stack.request("POST", f"{PATH}/{bearer['id']}/test", token=token, json_body=unsendable)
    assert refused.status == 422 and _fields(refused) == ["headers.Authorization"]
    sent = stack.request(
        "POST", f"{PATH}/{bearer['id']}/test", token=token, json_body={"headers": {"Authorization": "Bearer mine"}}
    )
    assert sent.status == 201 and remote.seen[-1]["headers"]["Authorization"] == "Bearer mine"
    assert b"Bearer mine" not in stack.request("GET", f"{PATH}/{bearer['id']}/tests", token=token).body
    # An OAuth 2 integration's client-credentials token is asked for, then sent as a bearer token
    idp = _integration(
        stack,
        token,
        {
            "name": "IdP",
            "config": {"type": "oauth2", "client_id": "cid", "token_url": f"{remote.url}/token"},
            "secret": "csecret",
        },
    )
    remote.answers["/token"] = (200, {}, b'{"access_token": "tok-1", "token_type": "bearer"}')
    profile = _create(
        stack,
        token,
        {
            "name": "Profile",
            "method": "POST",
            "path": f"{remote.url}/profile",
            "integration_id": idp["id"],
            "auth_type": "integration",
            "request_body": {"type": "object", "required": ["name"]},
        },
    )
    test = f"{PATH}/{profile['id']}/test"
    assert _fields(stack.request("POST", test, token=token, json_body={"body": {"nom": "x"}})) == ["body"]
    called = stack.request("POST", test, token=token, json_body={"body": {"name": "Ada"}})
    assert called.status == 201 and called.json()["ok"] is True, called.body
    token_request, call = remote.seen[-2:]
    assert token_request["body"] == b"grant_type=client_credentials"
    assert (call["headers"]["Authorization"], json.loads(call["body"])) == ("Bearer tok-1", {"name": "Ada"})
    # A token endpoint that refuses is a failed run, recorded with its reason
    remote.answers["/token"] = (401, {}, b'{"error": "invalid_client"}')
    failed = stack.request("POST", test, token=token, json_body={"body": {"name": "Ada"}})
    assert failed.status == 201
    assert (failed.json()["ok"], failed.json()["status"]) == (False, None) and "401" in failed.json()["error"]


def test_a_private_or_metadata_host_is_refused_and_no_connection_is_made(
    stack: LocalStack, fresh_tenant: TenantFixture, operator: Account, remote: Remote
) -> None:
    token = fresh_tenant.admin_token
    # The metadata address is refused even with an allow-list that covers its network
    _allow(stack, operator, fresh_tenant.id, ["127.0.0.1/32", "169.254.0.0/16"])
    metadata = {"name": "Metadata", "method": "GET", "path": "http://169.254.169.254/latest/meta-data"}
    refused = stack.request("POST", PATH, token=token, json_body=metadata)
    assert refused.status == 422 and _fields(refused) == ["path"]
    # A loopback server, saved while the operator allowed it...
    made = _create(stack, token, {"name": "Ping", "method": "GET", "path": f"{remote.url}/ping"})
    remote.answers["/ping"] = (302, {"Location": "http://169.254.169.254/latest/meta-data"}, b"")
    redirected = stack.request("POST", f"{PATH}/{made['id']}/test", token=token, json_body={})
    assert redirected.status == 422 and "redirects to a refused URL" in redirected.json()["errors"][0]["message"]
    calls = len(remote.seen)
    # ...is refused before any connection once it is off the list, and no run is recorded
    _allow(stack, operator, fresh_tenant.id, [])
    again = stack.request("POST", f"{PATH}/{made['id']}/test", token=token, json_body={})
    assert again.status == 422 and _fields(again) == ["path"]
    assert len(remote.seen) == calls
    assert stack.request("GET", f"{PATH}/{made['id']}/tests", token=token).json()["items"] == []


def test_the_openapi_export_is_valid_and_holds_what_was_registered(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    erp = _integration(
        stack,
        token,
        {"name": "ERP", "config": {"type": "api", "base_url": "https://erp.example.com/api/v2"}, "secret": "k"},
    )
    idp = _integration(
        stack,
        token,
        {
            "name": "IdP",
            "config": {
                "type": "oauth2",
                "client_id": "c",
                "token_url": "https://idp.example.com/token",
                "scopes": ["read"],
            },
            "secret": "s",
        },
    )
    year = {"name": "year", "in": "path", "required": True, "schema": {"type": "integer"}}
    registered = [
        {
            "name": "Get an order",
            "group": "ERP",
            "tags": ["orders"],
            "method": "GET",
            "path": "/orders/{order_id}",
            "integration_id": erp["id"],
            "auth_type": "integration",
            "parameters": [{"name": "order_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "The order", "schema": ORDER}, "4XX": {}},
        },
        {
            "name": "Create an order",
            "group": "ERP",
            "method": "POST",
            "path": "/orders",
            "integration_id": erp["id"],
            "request_body": {"type": "object", "required": ["lines"]},
        },
        {
            "name": "Holidays",
            "group": "Public",
            "method": "GET",
            "path": "https://holidays.example.org/v1/holidays/{year}",
            "auth_type": "api_key",
            "api_key_header": "X-Token",
            "parameters": [
                year,
                {"name": "country", "in": "query", "description": "ISO code", "schema": {"type": "string"}},
            ],
        },
        {
            "name": "Forget holidays",
            "group": "Public",
            "method": "DELETE",
            "path": "https://holidays.example.org/v1/holidays/{year}",
            "auth_type": "bearer",
            "parameters": [year],
        },
        {
            "name": "Me",
            "method": "GET",
            "path": "https://api.idp.example.com/me",
            "integration_id": idp["id"],
            "auth_type": "integration",
        },
    ]
    made = [_create(stack, token, body) for body in registered]
    reply = stack.request("GET", f"{PATH}/openapi.json", token=token)
    assert reply.status == 200, reply.body
    document = reply.json()
    validate(document)  # raises when the document is not valid OpenAPI 3.1
    assert document["openapi"] == "3.1.0"
    assert {p: sorted(ops) for p, ops in document["paths"].items()} == {
        "/orders/{order_id}": ["get"],
        "/orders": ["post"],
        "/v1/holidays/{year}": ["delete", "get"],
        "/me": ["get"],
    }
    order = document["paths"]["/orders/{order_id}"]["get"]
    assert order["operationId"] == made[0]["id"] and order["summary"] == "Get an order"
    assert order["tags"] == ["ERP", "orders"]
    assert order["servers"] == [{"url": "https://erp.example.com/api/v2", "description": "ERP"}]
    assert order["parameters"][0] == {"name": "order_id", "in": "path", "required": True, "schema": {"type": "string"}}
    assert order["responses"]["200"]["content"]["application/json"]["schema"] == ORDER
    assert order["responses"]["4XX"] == {"description": "Client error"}
    assert order["security"] == [{f"integration_{erp['id']}": []}]
    create = document["paths"]["/orders"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == registered[1]["request_body"]
    assert create["security"] == [] and create["responses"] == {"default": {"description": "Not documented"}}
    holidays = document["paths"]["/v1/holidays/{year}"]
    assert holidays["get"]["servers"] == [{"url": "https://holidays.example.org"}]
    assert holidays["get"]["security"] == [{"apiKey_X-Token": []}] and holidays["delete"]["security"] == [
        {"bearer": []}
    ]
    assert document["paths"]["/me"]["get"]["security"] == [{f"integration_{idp['id']}": ["read"]}]
    assert document["components"]["securitySchemes"] == {
        "apiKey_X-Token": {"type": "apiKey", "in": "header", "name": "X-Token"},
        "bearer": {"type": "http", "scheme": "bearer"},
        f"integration_{erp['id']}": {
            "type": "http",
            "scheme": "bearer",
            "description": "The credentials of the integration 'ERP'",
        },
        f"integration_{idp['id']}": {
            "type": "oauth2",
            "description": "The credentials of the integration 'IdP'",
            "flows": {"clientCredentials": {"tokenUrl": "https://idp.example.com/token", "scopes": {"read": "read"}}},
        },
    }
    assert [s["url"] for s in document["servers"]] == [
        "https://api.idp.example.com",
        "https://erp.example.com/api/v2",
        "https://holidays.example.org",
    ]
    assert [t["name"] for t in document["tags"]] == ["ERP", "Public", "default", "orders"]
    # One group of it is a document of its own
    public = stack.request("GET", f"{PATH}/openapi.json?group=Public", token=token).json()
    validate(public)
    assert list(public["paths"]) == ["/v1/holidays/{year}"]


def test_another_tenants_interfaces_answer_404(
    stack: LocalStack, fresh_tenant: TenantFixture, globex: TenantFixture
) -> None:
    made = _create(
        stack, fresh_tenant.admin_token, {"name": "Mine", "method": "GET", "path": "https://mine.example.com/x"}
    )
    path = f"{PATH}/{made['id']}"
    theirs = globex.admin_token
    for method, suffix, body in [
        ("GET", "", None),
        ("PUT", "", {"name": "Stolen", "version": made["version"]}),
        ("DELETE", "", None),
        ("POST", "/test", {}),
        ("GET", "/tests", None),
        ("GET", "/tests/01ARZ3NDEKTSV4RRFFQ69G5FAV", None),
    ]:
        answer = stack.request(method, path + suffix, token=theirs, json_body=body)
        assert answer.status == 404, (method, suffix, answer.body)
    assert made["id"] not in json.dumps(stack.request("GET", PATH, token=theirs).json())
    assert made["id"] not in json.dumps(stack.request("GET", f"{PATH}/openapi.json", token=theirs).json())
    assert stack.request("GET", path, token=fresh_tenant.admin_token).json()["name"] == "Mine"


def test_every_route_needs_its_permission(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    made = _create(stack, fresh_tenant.admin_token, {"name": "X", "method": "GET", "path": "https://x.example.com/x"})
    path = f"{PATH}/{made['id']}"
    viewer = make_user(stack, fresh_tenant.id, fresh_tenant.code, [seed_role(fresh_tenant.id, ["api.view"])])["token"]
    nobody = make_user(stack, fresh_tenant.id, fresh_tenant.code, [seed_role(fresh_tenant.id, ["user.view"])])["token"]
    new = {"name": "Y", "method": "GET", "path": "https://x.example.com/y"}
    routes = [
        ("GET", PATH, None, "api.view"),
        ("GET", f"{PATH}/openapi.json", None, "api.view"),
        ("GET", path, None, "api.view"),
        ("GET", f"{path}/tests", None, "api.view"),
        ("GET", f"{path}/tests/01ARZ3NDEKTSV4RRFFQ69G5FAV", None, "api.view"),
        ("POST", PATH, new, "api.create"),
        ("PUT", path, {"name": "Z", "version": made["version"]}, "api.edit"),
        ("DELETE", path, None, "api.delete"),
        ("POST", f"{path}/test", {}, "api.test"),
    ]
    for method, route, body, needed in routes:
        assert stack.request(method, route, token=nobody, json_body=body).status == 403, (method, route)
        answer = stack.request(method, route, token=viewer, json_body=body)
        if needed == "api.view":
            assert answer.status in (200, 404), (method, route, answer.body)  # 404: no such test run
        else:
            assert answer.status == 403 and needed in answer.json()["detail"], (method, route, answer.body)


@pytest.mark.parametrize("query", ["method=FETCH", "limit=0", "limit=201", "cursor=forged.cursor", "q="])
def test_a_bad_query_parameter_is_a_400(stack: LocalStack, acme: TenantFixture, query: str) -> None:
    answer = stack.request("GET", f"{PATH}?{query}", token=acme.admin_token)
    assert answer.status == 400, answer.body
