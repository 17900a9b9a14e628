"""Integrations: configs with write-only secrets in Secrets Manager, URLs checked when saved and when called
(through the SSRF guard), test calls against a real HTTP server, per-tenant allow-lists set by operators."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from riveredge import integrations
from riveredge.scope import Scope

from local_stack.stack import LocalStack
from tests.integration.accounts import make_user, seed_role
from tests.integration.conftest import Account, TenantFixture


class Remote:
    """A real HTTP server on loopback that records what it is sent and answers as told."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.answers: dict[str, tuple[int, dict[str, str], bytes]] = {}
        remote = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                remote.seen.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                )
                status, headers, answer = remote.answers.get(self.path, (200, {}, b"{}"))
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = _serve

            def log_message(self, *args: Any) -> None:
                """Quiet: http.server writes a line to stderr for every request."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture
def remote() -> Iterator[Remote]:
    server = Remote()
    yield server
    server.stop()


def _create(stack: LocalStack, token: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = stack.request("POST", "/api/integrations", token=token, json_body=body)
    assert reply.status == 201, reply.body
    return dict(reply.json())


def _allow(stack: LocalStack, operator: Account, tenant_id: str, hosts: list[str]) -> None:
    path = f"/api/tenants/{tenant_id}/outbound-allow-list"
    current = stack.request("GET", path, token=operator.token).json()
    reply = stack.request("PUT", path, token=operator.token, json_body={"hosts": hosts, "version": current["version"]})
    assert reply.status == 200, reply.body


def _secret(tenant_id: str, integration_id: str) -> str:
    name = integrations.secret_name(Scope(tenant_id), integration_id)
    return str(boto3.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"])


def _test(stack: LocalStack, token: str, integration_id: str) -> Any:
    return stack.request("POST", f"/api/integrations/{integration_id}/test", token=token)


def test_a_secret_is_write_only_and_rotated_by_writing_a_new_one(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    body = {"name": "ERP", "config": {"type": "api", "base_url": "https://erp.example.com/v1"}, "secret": "key-one"}
    made = _create(stack, token, body)
    assert made["secret"] == "******" and made["config"]["auth_header"] == "Authorization"
    for reply in (
        stack.request("GET", "/api/integrations", token=token),
        stack.request("GET", f"/api/integrations/{made['id']}", token=token),
    ):
        assert b"key-one" not in reply.body
    assert _secret(fresh_tenant.id, made["id"]) == "key-one"
    rotated = stack.request(
        "PUT",
        f"/api/integrations/{made['id']}",
        token=token,
        json_body={"secret": "key-two", "version": made["version"]},
    )
    assert rotated.status == 200 and b"key-two" not in rotated.body
    assert _secret(fresh_tenant.id, made["id"]) == "key-two"
    assert rotated.json()["secret_updated_at"]
    # A webhook needs its signing secret
    missing = stack.request(
        "POST",
        "/api/integrations",
        token=token,
        json_body={"name": "H", "config": {"type": "webhook", "url": "https://h.example.com"}},
    )
    assert missing.status == 422 and missing.json()["errors"][0]["field"] == "secret"
    # Deleting it schedules its secret's deletion
    deleted = stack.request("DELETE", f"/api/integrations/{made['id']}", token=token)
    assert deleted.status == 204
    name = integrations.secret_name(Scope(fresh_tenant.id), made["id"])
    assert "DeletedDate" in boto3.client("secretsmanager").describe_secret(SecretId=name)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.8/hook",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://[::ffff:192.168.0.1]/",
        "http://[fd00::1]/",
        "http://localhost:8080/",
        "ftp://files.example.com/",
        "http://user:pass@example.com/",
    ],
)
def test_an_integration_url_inside_the_network_is_refused_naming_the_field(
    stack: LocalStack, acme: TenantFixture, url: str
) -> None:
    before = stack.request("GET", "/api/integrations", token=acme.admin_token).json()["items"]
    body = {"name": "Inside", "config": {"type": "webhook", "url": url}, "secret": "s"}
    refused = stack.request("POST", "/api/integrations", token=acme.admin_token, json_body=body)
    assert refused.status == 422, refused.body
    assert [e["field"] for e in refused.json()["errors"]] == ["config.url"]
    assert stack.request("GET", "/api/integrations", token=acme.admin_token).json()["items"] == before


def test_test_calls_go_through_the_guard_and_report_what_the_server_answered(
    stack: LocalStack, fresh_tenant: TenantFixture, operator: Account, remote: Remote
) -> None:
    token = fresh_tenant.admin_token
    # A loopback server: refused at save time until an operator allows it for this tenant
    hook = {"name": "Hook", "config": {"type": "webhook", "url": f"{remote.url}/hook"}, "secret": "sign-me"}
    refused = stack.request("POST", "/api/integrations", token=token, json_body=hook)
    assert refused.status == 422 and refused.json()["errors"][0]["field"] == "config.url"
    _allow(stack, operator, fresh_tenant.id, ["127.0.0.1/32"])
    webhook = _create(stack, token, hook)
    api = _create(
        stack,
        token,
        {
            "name": "API",
            "config": {"type": "api", "base_url": f"{remote.url}/api", "auth_scheme": "Token"},
            "secret": "k",
        },
    )
    oauth = _create(
        stack,
        token,
        {
            "name": "IdP",
            "config": {"type": "oauth2", "client_id": "cid", "token_url": f"{remote.url}/token", "scopes": ["read"]},
            "secret": "csecret",
        },
    )
    remote.answers["/token"] = (200, {}, json.dumps({"access_token": "t", "token_type": "bearer"}).encode())

    # A webhook test is a signed POST
    answer = _test(stack, token, webhook["id"])
    assert answer.status == 200, answer.body
    assert answer.json()["ok"] is True and answer.json()["status"] == 200 and answer.json()["latency_ms"] >= 0
    sent = remote.seen[-1]
    signed = f"{sent['headers']['X-RiverEdge-Timestamp']}.".encode() + sent["body"]
    expected = "sha256=" + hmac.new(b"sign-me", signed, hashlib.sha256).hexdigest()
    assert sent["method"] == "POST" and sent["headers"]["X-RiverEdge-Signature"] == expected
    # An API test sends the key in the configured header
    assert _test(stack, token, api["id"]).json()["ok"] is True
    assert remote.seen[-1]["headers"]["Authorization"] == "Token k"
    # An OAuth 2 test asks for a client-credentials token with the client's own credentials
    assert _test(stack, token, oauth["id"]).json()["ok"] is True
    token_request = remote.seen[-1]
    assert token_request["body"] == b"grant_type=client_credentials&scope=read"
    assert token_request["headers"]["Authorization"] == "Basic Y2lkOmNzZWNyZXQ="
    # A refusal by the remote server is reported, not raised
    remote.answers["/token"] = (401, {}, b'{"error": "invalid_client"}')
    failed = _test(stack, token, oauth["id"]).json()
    assert failed["ok"] is False and failed["status"] == 401 and "401" in failed["error"]
    # A redirect to the metadata address is not followed
    remote.answers["/api"] = (302, {"Location": "http://169.254.169.254/latest/meta-data"}, b"")
    redirected = _test(stack, token, api["id"])
    assert redirected.status == 422 and "redirects to a refused URL" in redirected.json()["errors"][0]["message"]
    # And once the operator takes loopback off the list, the next call is refused again
    _allow(stack, operator, fresh_tenant.id, [])
    again = _test(stack, token, webhook["id"])
    assert again.status == 422 and again.json()["errors"][0]["field"] == "config.url"


def test_another_tenants_integration_answers_404(
    stack: LocalStack, fresh_tenant: TenantFixture, globex: TenantFixture
) -> None:
    made = _create(
        stack,
        fresh_tenant.admin_token,
        {"name": "Mine", "config": {"type": "webhook", "url": "https://hooks.example.com/x"}, "secret": "s"},
    )
    path = f"/api/integrations/{made['id']}"
    for method, suffix, body in [
        ("GET", "", None),
        ("PUT", "", {"name": "Stolen", "version": made["version"]}),
        ("DELETE", "", None),
        ("POST", "/test", None),
    ]:
        answer = stack.request(method, path + suffix, token=globex.admin_token, json_body=body)
        assert answer.status == 404, (method, suffix, answer.body)
    assert stack.request("GET", path, token=fresh_tenant.admin_token).json()["name"] == "Mine"


def test_integration_permissions_and_the_operators_allow_list(
    stack: LocalStack, fresh_tenant: TenantFixture, operator: Account
) -> None:
    member = make_user(stack, fresh_tenant.id, fresh_tenant.code, [seed_role(fresh_tenant.id, ["user.view"])])["token"]
    for method, path, body in [
        ("GET", "/api/integrations", None),
        ("POST", "/api/integrations", {"name": "X", "config": {"type": "api", "base_url": "https://a.example.com"}}),
        ("POST", "/api/integrations/01ARZ3NDEKTSV4RRFFQ69G5FAV/test", None),
    ]:
        assert stack.request(method, path, token=member, json_body=body).status == 403, (method, path)
    # The allow-list is the operators' alone: a tenant's admin cannot widen its own guard
    path = f"/api/tenants/{fresh_tenant.id}/outbound-allow-list"
    assert stack.request("GET", path, token=fresh_tenant.admin_token).status == 403
    widened = stack.request(
        "PUT", path, token=fresh_tenant.admin_token, json_body={"hosts": ["10.0.0.0/8"], "version": 0}
    )
    assert widened.status == 403
    assert stack.request("GET", path, token=operator.token).json()["hosts"] == []
    unknown = stack.request("GET", "/api/tenants/01ARZ3NDEKTSV4RRFFQ69G5FAV/outbound-allow-list", token=operator.token)
    assert unknown.status == 404
