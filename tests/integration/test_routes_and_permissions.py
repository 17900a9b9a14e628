"""Every route: declared in template.yaml and in the OpenAPI with its permission, and enforced."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from riveredge.auth.principal import Principal

from local_stack.stack import LocalStack
from tests.integration.conftest import TenantFixture
from tests.support import claims_of

OPEN = {"public", "authenticated"}


def _operations(stack: LocalStack) -> list[tuple[str, str, dict[str, Any]]]:
    spec = stack.openapi()
    return [(method.upper(), path, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


def test_the_openapi_and_the_template_declare_the_same_routes(stack: LocalStack) -> None:
    documented = {(m, p) for m, p, _ in _operations(stack)}
    deployed = {(r.method, r.path) for r in stack.gateway.routes}
    assert documented == deployed


def test_every_operation_names_its_permission(stack: LocalStack) -> None:
    for method, path, operation in _operations(stack):
        permission = operation.get("x-permission")
        assert permission in OPEN or re.fullmatch(r"[a-z_]+\.[a-z_]+", str(permission)), (method, path)
        assert str(permission) in operation["description"]


def test_public_routes_are_exactly_the_template_routes_without_authorizer(stack: LocalStack) -> None:
    public = {(m, p) for m, p, op in _operations(stack) if op["x-permission"] == "public"}
    unauthorized = {(r.method, r.path) for r in stack.gateway.routes if not r.authorized}
    assert public == unauthorized


def _event(stack: LocalStack, method: str, path: str, principal: Principal) -> dict[str, Any]:
    concrete = re.sub(r"\{[^}]+\}", "01ARZ3NDEKTSV4RRFFQ69G5FAV", path)
    return {
        "resource": path,
        "path": concrete,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": dict(
            re.findall(r"\{([^}]+)\}", path)
            and dict.fromkeys(re.findall(r"\{([^}]+)\}", path), "01ARZ3NDEKTSV4RRFFQ69G5FAV")
        )
        or None,
        "body": json.dumps({}) if method in {"POST", "PUT", "PATCH"} else None,
        "isBase64Encoded": False,
        "requestContext": {
            "requestId": "matrix",
            "stage": "local",
            "resourcePath": path,
            "httpMethod": method,
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": {**principal.to_context(), "principalId": principal.user_id},
        },
    }


def test_role_by_route_matrix(stack: LocalStack, acme: TenantFixture) -> None:
    """For every protected route: without its permission 403; with it, anything but 401/403."""
    claims = claims_of(acme.admin_token)
    checked = 0
    for method, path, operation in _operations(stack):
        permission = operation["x-permission"]
        if permission in OPEN:
            continue
        route = next(r for r in stack.gateway.routes if (r.method, r.path) == (method, path))
        function = stack.registry.get(route.function)
        tenant_id = "platform" if operation.get("x-platform-only") else acme.id
        without = Principal(tenant_id, claims["sub"], claims["sid"], frozenset({"unrelated.read"}))
        holder = Principal(tenant_id, claims["sub"], claims["sid"], frozenset({permission}))
        denied = function.invoke(_event(stack, method, path, without))
        allowed = function.invoke(_event(stack, method, path, holder))
        assert denied["statusCode"] == 403, (method, path)
        assert allowed["statusCode"] not in (401, 403), (method, path, allowed["body"])
        checked += 1
    assert checked >= 6


@pytest.mark.parametrize("platform_route", [("GET", "/api/tenants"), ("POST", "/api/tenants/{tenant_id}/suspend")])
def test_platform_routes_refuse_tenants_even_with_the_permission(
    stack: LocalStack, acme: TenantFixture, platform_route: tuple[str, str]
) -> None:
    method, path = platform_route
    claims = claims_of(acme.admin_token)
    route = next(r for r in stack.gateway.routes if (r.method, r.path) == (method, path))
    holder = Principal(acme.id, claims["sub"], claims["sid"], frozenset({"*"}))
    answer = stack.registry.get(route.function).invoke(_event(stack, method, path, holder))
    assert answer["statusCode"] == 403


def test_the_permission_catalogue_is_generated_from_the_routes(stack: LocalStack) -> None:
    from local_stack.catalogue import CATALOGUE, generate, render

    documented = {op["x-permission"] for _, _, op in _operations(stack)} - OPEN
    catalogued = {p["code"] for p in generate()}
    assert documented <= catalogued
    assert CATALOGUE.read_text() == render(generate()), "run: python -m local_stack.catalogue"
