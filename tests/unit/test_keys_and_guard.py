"""The key module and the tenant guard: every key carries its scope, and nothing else gets through."""

from __future__ import annotations

from typing import Any

import pytest
from riveredge import guard, keys
from riveredge.errors import TenantIsolationError
from riveredge.scope import Scope, platform_scope, use_scope

ACME = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
GLOBEX = "01BX5ZZKBKACTAV9WEVGEMMVRZ"


def test_tenant_keys_start_with_the_tenant_prefix() -> None:
    scope = Scope(ACME)
    built = [
        keys.user(scope, "u"),
        keys.login(scope, "A@B.example"),
        keys.session(scope, "s"),
        keys.role(scope, "r"),
        keys.authz(scope),
        keys.oplog(scope, "1"),
        keys.login_log(scope, "1"),
        keys.idempotency(scope, "k"),
        keys.tenant(ACME),
        keys.pending_admin(ACME),
    ]
    assert all(k.pk.startswith(f"T#{ACME}#") for k in built)
    assert keys.user_email_index(scope).startswith(f"T#{ACME}#")
    assert keys.login(scope, "A@B.example").sk == "a@b.example"


def test_platform_keys_start_with_p() -> None:
    assert keys.user(platform_scope(), "u").pk == "P#USER"
    assert keys.tenant_code("acme").pk.startswith("P#")


def test_a_scope_refuses_what_is_not_a_tenant_id() -> None:
    for bad in ("", "acme", "T#x#", "01ARZ3NDEKTSV4RRFFQ69G5FA"):
        with pytest.raises(ValueError, match="tenant id"):
            Scope(bad)


def _item(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": "x"}}


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("GetItem", {"Key": _item(f"T#{ACME}#USER")}),
        ("PutItem", {"Item": {**_item(f"T#{ACME}#USER"), "gsi1pk": {"S": f"T#{ACME}#USER_EMAIL"}}}),
        (
            "Query",
            {
                "KeyConditionExpression": "#0 = :0",
                "ExpressionAttributeNames": {"#0": "pk"},
                "ExpressionAttributeValues": {":0": {"S": f"T#{ACME}#ROLE"}},
            },
        ),
        (
            "Query",
            {
                "IndexName": "gsi1",
                "KeyConditionExpression": "gsi1pk = :p AND begins_with(gsi1sk, :s)",
                "ExpressionAttributeValues": {":p": {"S": f"T#{ACME}#USER_EMAIL"}, ":s": {"S": "a"}},
            },
        ),
        ("BatchGetItem", {"RequestItems": {"t": {"Keys": [_item(f"T#{ACME}#USER"), _item(f"T#{ACME}#AUTHZ")]}}}),
        (
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"Item": _item(f"T#{ACME}#USER")}},
                    {"Delete": {"Key": _item(f"T#{ACME}#LOGIN")}},
                ]
            },
        ),
        ("CreateTable", {"TableName": "t"}),
    ],
)
def test_the_guard_lets_the_scopes_own_keys_through(operation: str, params: dict[str, Any]) -> None:
    with use_scope(Scope(ACME)):
        guard.check(operation, params)


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("GetItem", {"Key": _item(f"T#{GLOBEX}#USER")}),
        ("GetItem", {"Key": _item(f"T#{ACME}")}),  # a prefix without its '#' is not the tenant's
        ("PutItem", {"Item": {**_item(f"T#{ACME}#USER"), "gsi1pk": {"S": "P#TENANTS"}}}),
        ("UpdateItem", {"Key": _item("P#USER")}),
        ("DeleteItem", {"Key": {"sk": {"S": "x"}}}),
        ("Query", {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": f"T#{GLOBEX}#X"}}}),
        ("Query", {"KeyConditionExpression": "begins_with(sk, :s)", "ExpressionAttributeValues": {":s": {"S": "a"}}}),
        ("Scan", {"TableName": "t"}),
        ("ExecuteStatement", {"Statement": "SELECT * FROM t"}),
        ("BatchGetItem", {"RequestItems": {"t": {"Keys": [_item(f"T#{ACME}#USER"), _item(f"T#{GLOBEX}#USER")]}}}),
        ("BatchWriteItem", {"RequestItems": {"t": [{"PutRequest": {"Item": _item(f"T#{GLOBEX}#USER")}}]}}),
        (
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"Item": _item(f"T#{ACME}#USER")}},
                    {"ConditionCheck": {"Key": _item(f"T#{GLOBEX}#USER")}},
                ]
            },
        ),
    ],
)
def test_the_guard_refuses_other_scopes_keys(operation: str, params: dict[str, Any]) -> None:
    with use_scope(Scope(ACME)), pytest.raises(TenantIsolationError):
        guard.check(operation, params)


def test_the_guard_fails_closed_without_a_scope() -> None:
    with pytest.raises(TenantIsolationError):
        guard.check("GetItem", {"Key": _item(f"T#{ACME}#USER")})


def test_a_platform_scope_may_open_named_tenants_only() -> None:
    scope = platform_scope().with_tenant(ACME)
    with use_scope(scope):
        guard.check("PutItem", {"Item": {**_item(f"T#{ACME}#TENANT"), "gsi1pk": {"S": "P#TENANTS"}}})
        with pytest.raises(TenantIsolationError):
            guard.check("GetItem", {"Key": _item(f"T#{GLOBEX}#TENANT")})
    with pytest.raises(PermissionError):
        Scope(ACME).with_tenant(GLOBEX)


def test_the_guard_is_on_every_new_botocore_session() -> None:
    import boto3

    # A client made by anyone (boto3, PynamoDB, Powertools) refuses before anything is sent:
    # there is no endpoint here that could answer.
    client = boto3.session.Session().client("dynamodb", region_name="us-east-1", endpoint_url="http://127.0.0.1:9")
    with pytest.raises(TenantIsolationError):
        client.get_item(TableName="t", Key=_item(f"T#{ACME}#USER"))
