"""Tenant isolation: another tenant's objects answer 404, platform routes answer 403, the guard refuses."""

from __future__ import annotations

import pytest
from riveredge import keys
from riveredge.db.models import User
from riveredge.errors import TenantIsolationError
from riveredge.scope import Scope, use_scope

from local_stack.stack import LocalStack
from tests.integration.conftest import TenantFixture
from tests.support import claims_of


def test_another_tenants_user_is_404(stack: LocalStack, acme: TenantFixture, globex: TenantFixture) -> None:
    # Given acme's admin, and globex's admin who knows acme's admin id
    acme_admin_id = claims_of(acme.admin_token)["sub"]
    assert stack.request("GET", f"/api/users/{acme_admin_id}", token=acme.admin_token).status == 200
    # When globex's admin reads it
    reply = stack.request("GET", f"/api/users/{acme_admin_id}", token=globex.admin_token)
    # Then it does not exist for them: the same 404 as an id that exists nowhere
    nowhere = stack.request("GET", "/api/users/01ARZ3NDEKTSV4RRFFQ69G5FAV", token=globex.admin_token)
    assert reply.status == nowhere.status == 404
    assert reply.json()["detail"] == nowhere.json()["detail"]


def test_tenant_admins_cannot_reach_platform_routes(
    stack: LocalStack, acme: TenantFixture, globex: TenantFixture
) -> None:
    # A tenant's super admin holds "*" in their tenant, which must not open the platform's routes
    for method, path in [
        ("GET", "/api/tenants"),
        ("GET", f"/api/tenants/{globex.id}"),
        ("GET", f"/api/tenants/{acme.id}"),
        ("POST", f"/api/tenants/{globex.id}/suspend"),
        ("POST", f"/api/tenants/{globex.id}/resume"),
    ]:
        reply = stack.request(method, path, token=acme.admin_token)
        assert reply.status == 403, path
        assert reply.json()["type"] == "/problems/forbidden"
    created = stack.request(
        "POST",
        "/api/tenants",
        token=acme.admin_token,
        json_body={
            "code": "sneaky",
            "name": "Sneaky",
            "admin": {"email": "a@sneaky.example", "name": "A", "password": "Correct-horse-42"},
        },
    )
    assert created.status == 403


def test_the_guard_refuses_another_tenants_keys_before_sending(acme: TenantFixture, globex: TenantFixture) -> None:
    # Given code running for globex that builds a key of acme's (a bug, or an attack through an id)
    acme_user = keys.user(Scope(acme.id), claims_of(acme.admin_token)["sub"])
    with use_scope(Scope(globex.id)), pytest.raises(TenantIsolationError):
        User.get(acme_user.pk, acme_user.sk)


def test_the_guard_refuses_requests_outside_any_scope(acme: TenantFixture) -> None:
    acme_user = keys.user(Scope(acme.id), claims_of(acme.admin_token)["sub"])
    with pytest.raises(TenantIsolationError):
        User.get(acme_user.pk, acme_user.sk)


def test_a_cursor_of_one_query_does_not_open_another(
    stack: LocalStack, operator_token: str, acme: TenantFixture, globex: TenantFixture
) -> None:
    from riveredge import cursors
    from riveredge.scope import platform_scope

    # A cursor signed for acme's scope is refused in the platform's list
    minted = cursors.encode(Scope(acme.id), cursors.fingerprint({"route": "tenants"}), {"pk": "x", "sk": "y"})
    reply = stack.request("GET", f"/api/tenants?cursor={minted}", token=operator_token)
    assert reply.status == 400
    # And one for another query of the same scope is refused too
    other = cursors.encode(platform_scope(), cursors.fingerprint({"route": "users"}), {"pk": "x", "sk": "y"})
    assert stack.request("GET", f"/api/tenants?cursor={other}", token=operator_token).status == 400
