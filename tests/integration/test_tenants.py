"""Tenants: creation with onboarding, listing, reading, suspension, for platform operators only."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest
from riveredge import keys
from riveredge.db.models import OperationLogEntry
from riveredge.scope import platform_scope, use_scope

from local_stack.stack import LocalStack
from tests.integration.conftest import TenantFixture, login
from tests.support import PASSWORD


def _new_tenant_body(code: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "code": code,
        "name": f"{code} Ltd",
        "tier": "standard",
        "admin": {"email": f"boss@{code}.example", "name": "Boss", "password": PASSWORD},
    }
    body.update(overrides)
    return body


def _watch_bus(stack: LocalStack, detail_type: str) -> str:
    """An SQS queue that receives every `detail_type` event of the application's bus."""
    sqs, events = boto3.client("sqs"), boto3.client("events")
    name = f"watch-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = stack.environment["EVENT_BUS_NAME"]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"detail-type": [detail_type]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return url


def test_creating_a_tenant_runs_onboarding_end_to_end(stack: LocalStack, operator_token: str) -> None:
    queue = _watch_bus(stack, "tenant.created")
    # When the operator creates a tenant
    reply = stack.request("POST", "/api/tenants", token=operator_token, json_body=_new_tenant_body("initech"))
    # Then it answers 201 with the tenant, provisioning, and where it lives
    assert reply.status == 201
    tenant = reply.json()
    assert tenant["status"] == "provisioning" and tenant["code"] == "initech" and tenant["tier"] == "standard"
    assert reply.headers["Location"] == f"/api/tenants/{tenant['id']}"
    assert set(tenant) >= {"id", "created_at", "updated_at", "version"}
    # And the onboarding state machine really runs to the end
    execution = stack.wait_for_execution(stack.onboarding_execution_arn(tenant["id"]))
    assert execution["status"] == "SUCCEEDED"
    # And the tenant is active, its admin can sign in and read their own account
    assert stack.request("GET", f"/api/tenants/{tenant['id']}", token=operator_token).json()["status"] == "active"
    signed_in = login(stack, "initech", "boss@initech.example")
    assert signed_in.status == 200
    me = stack.request("GET", "/api/auth/me", token=signed_in.json()["access_token"]).json()
    admin = stack.request("GET", f"/api/users/{me['user']['id']}", token=signed_in.json()["access_token"])
    assert admin.status == 200 and admin.json()["email"] == "boss@initech.example"
    # And the welcome mail is in SES's outbox
    welcome = [m for m in stack.sent_mail() if "boss@initech.example" in m["to"]]
    assert len(welcome) == 1 and "initech" in welcome[0]["body"]
    # And tenant.created was published on the bus with the tenant in its detail
    messages = boto3.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    details = [json.loads(m["Body"])["detail"] for m in messages]
    assert {"tenant_id": tenant["id"], "code": "initech"}.items() <= details[0].items()


def test_the_creation_is_in_the_operation_log(stack: LocalStack, operator_token: str) -> None:
    reply = stack.request("POST", "/api/tenants", token=operator_token, json_body=_new_tenant_body("oplogged"))
    tenant_id = reply.json()["id"]
    with use_scope(platform_scope()):
        entries = [
            e for e in OperationLogEntry.query(keys.collection(platform_scope(), "OPLOG")) if e.resource_id == tenant_id
        ]
    assert [(e.action, e.before, e.after["code"]) for e in entries] == [("tenant.create", None, "oplogged")]
    assert PASSWORD not in json.dumps([e.after for e in entries])


def test_a_taken_code_is_a_conflict_and_nothing_is_stored(
    stack: LocalStack, operator_token: str, acme: TenantFixture
) -> None:
    before = stack.request("GET", "/api/tenants?limit=200", token=operator_token).json()["items"]
    reply = stack.request("POST", "/api/tenants", token=operator_token, json_body=_new_tenant_body("acme"))
    assert reply.status == 409
    assert reply.json()["type"] == "/problems/conflict"
    after = stack.request("GET", "/api/tenants?limit=200", token=operator_token).json()["items"]
    assert len(after) == len(before)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_new_tenant_body("platform"), "code"),
        (_new_tenant_body("Bad Code!"), "code"),
        (_new_tenant_body("x"), "code"),
        (
            _new_tenant_body("weakpw", admin={"email": "a@weakpw.example", "name": "A", "password": "short"}),
            "admin.password",
        ),
        (
            _new_tenant_body("bademail", admin={"email": "not-an-email", "name": "A", "password": PASSWORD}),
            "admin.email",
        ),
        (_new_tenant_body("badtier", tier="platinum"), "tier"),
        (_new_tenant_body("extra", tenant_id="01ARZ3NDEKTSV4RRFFQ69G5FAV"), "tenant_id"),
        (_new_tenant_body("extra2", status="active"), "status"),
        (_new_tenant_body("typed", name=42), "name"),
    ],
)
def test_bad_tenant_bodies_are_422_naming_the_field(
    stack: LocalStack, operator_token: str, body: dict[str, Any], field: str
) -> None:
    reply = stack.request("POST", "/api/tenants", token=operator_token, json_body=body)
    assert reply.status == 422
    assert reply.content_type == "application/problem+json"
    assert field in [e["field"] for e in reply.json()["errors"]]


def test_idempotency_key_replays_the_first_answer(stack: LocalStack, operator_token: str) -> None:
    headers = {"Idempotency-Key": f"create-{uuid.uuid4()}"}
    body = _new_tenant_body("idem-co")
    first = stack.request("POST", "/api/tenants", token=operator_token, json_body=body, headers=headers)
    again = stack.request("POST", "/api/tenants", token=operator_token, json_body=body, headers=headers)
    assert first.status == again.status == 201
    assert first.json() == again.json()
    changed = stack.request(
        "POST", "/api/tenants", token=operator_token, json_body={**body, "name": "Another name"}, headers=headers
    )
    assert changed.status == 422
    assert changed.json()["type"] == "/problems/idempotency-key-reused"


def test_tenants_list_in_pages_with_a_signed_cursor(
    stack: LocalStack, operator_token: str, acme: TenantFixture, globex: TenantFixture
) -> None:
    first = stack.request("GET", "/api/tenants?limit=1", token=operator_token)
    assert first.status == 200
    page = first.json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    second = stack.request("GET", f"/api/tenants?limit=1&cursor={page['next_cursor']}", token=operator_token).json()
    assert second["items"][0]["id"] != page["items"][0]["id"]
    # A cursor that was changed, or is not one, is a 400
    forged = page["next_cursor"][:-3] + ("AAA" if not page["next_cursor"].endswith("AAA") else "BBB")
    for cursor in (forged, "garbage", "a.b"):
        reply = stack.request("GET", f"/api/tenants?limit=1&cursor={cursor}", token=operator_token)
        assert reply.status == 400, cursor
        assert reply.json()["type"] == "/problems/bad-request"


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=abc"])
def test_bad_list_parameters_are_400(stack: LocalStack, operator_token: str, query: str) -> None:
    reply = stack.request("GET", f"/api/tenants?{query}", token=operator_token)
    assert reply.status == 400
    assert [e["field"] for e in reply.json()["errors"]] == ["limit"]


def test_an_unknown_tenant_is_404(stack: LocalStack, operator_token: str) -> None:
    for tenant_id in ("01ARZ3NDEKTSV4RRFFQ69G5FAV", "not-an-id", "platform"):
        assert stack.request("GET", f"/api/tenants/{tenant_id}", token=operator_token).status == 404


def test_a_suspended_tenant_cannot_sign_in_and_its_tokens_stop(
    stack: LocalStack, operator_token: str, fresh_tenant: TenantFixture
) -> None:
    # When the operator suspends the tenant
    reply = stack.request("POST", f"/api/tenants/{fresh_tenant.id}/suspend", token=operator_token)
    assert reply.status == 200 and reply.json()["status"] == "suspended"
    # Then the live token stops working and nobody can sign in
    assert stack.request("GET", "/api/auth/me", token=fresh_tenant.admin_token).status == 401
    refused = login(stack, fresh_tenant.code, fresh_tenant.admin_email)
    assert refused.status == 403
    assert (
        stack.request("POST", "/api/auth/refresh", json_body={"refresh_token": fresh_tenant.admin_refresh}).status
        == 401
    )
    # And after resuming, sign-in works again
    resumed = stack.request("POST", f"/api/tenants/{fresh_tenant.id}/resume", token=operator_token)
    assert resumed.status == 200 and resumed.json()["status"] == "active"
    assert login(stack, fresh_tenant.code, fresh_tenant.admin_email).status == 200


def test_a_stale_version_is_412_and_changes_nothing(
    stack: LocalStack, operator_token: str, fresh_tenant: TenantFixture
) -> None:
    current = stack.request("GET", f"/api/tenants/{fresh_tenant.id}", token=operator_token).json()
    stale = stack.request(
        "POST",
        f"/api/tenants/{fresh_tenant.id}/suspend",
        token=operator_token,
        json_body={"version": current["version"] - 1},
    )
    assert stale.status == 412
    by_header = stack.request(
        "POST",
        f"/api/tenants/{fresh_tenant.id}/suspend",
        token=operator_token,
        headers={"If-Match": str(current["version"] - 1)},
    )
    assert by_header.status == 412
    assert stack.request("GET", f"/api/tenants/{fresh_tenant.id}", token=operator_token).json()["status"] == "active"
    fresh = stack.request(
        "POST",
        f"/api/tenants/{fresh_tenant.id}/suspend",
        token=operator_token,
        headers={"If-Match": f'"{current["version"]}"'},
    )
    assert fresh.status == 200 and fresh.json()["version"] == current["version"] + 1


def test_get_tenant_makes_one_dynamodb_call_in_the_route(
    stack: LocalStack, operator_token: str, acme: TenantFixture
) -> None:
    from tests.support import dynamodb_calls

    with dynamodb_calls() as calls:
        assert stack.request("GET", f"/api/tenants/{acme.id}", token=operator_token).status == 200
    assert calls["GetItem"] == 1
