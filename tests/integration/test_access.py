"""Roles and permissions: catalogue, inheritance, manage, union, the grant bound, explain, user roles."""

from __future__ import annotations

from typing import Any

import pytest

from local_stack.stack import LocalStack
from tests.integration.accounts import make_role, make_user
from tests.integration.conftest import TenantFixture
from tests.support import claims_of, problem_without_request_id


def _roles_by_name(stack: LocalStack, token: str) -> dict[str, Any]:
    return {r["name"]: r for r in stack.request("GET", "/api/roles?limit=200", token=token).json()["items"]}


def test_the_catalogue_lists_tenant_permissions_only(stack: LocalStack, acme: TenantFixture) -> None:
    reply = stack.request("GET", "/api/permissions", token=acme.admin_token)
    assert reply.status == 200
    codes = {p["code"] for p in reply.json()["items"]}
    assert {"role.view", "role.create", "role.manage", "user.view", "permission.view"} <= codes
    assert not any(code.startswith("tenant.") for code in codes)


def test_system_roles_are_seeded_and_cannot_be_deleted(stack: LocalStack, acme: TenantFixture) -> None:
    roles = _roles_by_name(stack, acme.admin_token)
    assert {"super_admin", "admin", "user", "guest"} <= roles.keys()
    assert all(roles[code]["system"] for code in ("super_admin", "admin", "user", "guest"))
    reply = stack.request("DELETE", f"/api/roles/{roles['guest']['id']}", token=acme.admin_token)
    assert reply.status == 409
    edit = stack.request(
        "PUT",
        f"/api/roles/{roles['super_admin']['id']}/permissions",
        token=acme.admin_token,
        json_body={"permissions": ["user.view"], "version": roles["super_admin"]["version"]},
    )
    assert edit.status == 409


def test_create_read_update_delete_a_role(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    role = make_role(stack, token, ["user.view"], data_scope="self")
    assert role["permissions"] == ["user.view"] and role["system"] is False and role["version"] == 1
    assert stack.request("GET", f"/api/roles/{role['id']}", token=token).json() == role
    updated = stack.request(
        "PUT",
        f"/api/roles/{role['id']}",
        token=token,
        json_body={"display_name": "Readers", "data_scope": "all", "version": role["version"]},
    )
    assert updated.status == 200 and updated.json()["display_name"] == "Readers"
    stale = stack.request(
        "PUT",
        f"/api/roles/{role['id']}",
        token=token,
        json_body={"display_name": "Again", "data_scope": "all", "version": role["version"]},
    )
    assert stale.status == 412
    assert stack.request("DELETE", f"/api/roles/{role['id']}", token=token).status == 204
    assert stack.request("GET", f"/api/roles/{role['id']}", token=token).status == 404


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"name": "Bad Name", "display_name": "x"}, "name", 422),
        ({"name": "ok_name", "display_name": "x", "permissions": ["no.such"]}, "permissions", 422),
        ({"name": "ok_name", "display_name": "x", "permissions": ["not-a-code"]}, "permissions.0", 422),
        ({"name": "ok_name", "display_name": "x", "parent_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, "parent_id", 422),
        ({"name": "ok_name", "display_name": "x", "data_scope": "custom"}, "departments", 422),
        ({"name": "ok_name", "display_name": "x", "data_scope": "everything"}, "data_scope", 422),
        ({"name": "ok_name", "display_name": "x", "system": True}, "system", 422),
    ],
)
def test_bad_role_bodies(stack: LocalStack, acme: TenantFixture, body: dict[str, Any], field: str, status: int) -> None:
    reply = stack.request("POST", "/api/roles", token=acme.admin_token, json_body=body)
    assert reply.status == status
    assert field in [e["field"] for e in reply.json()["errors"]]


def test_a_duplicate_role_name_is_a_conflict(stack: LocalStack, acme: TenantFixture) -> None:
    role = make_role(stack, acme.admin_token, [])
    again = stack.request(
        "POST", "/api/roles", token=acme.admin_token, json_body={"name": role["name"], "display_name": "Again"}
    )
    assert again.status == 409


@pytest.mark.parametrize("name", ["super_admin", "admin", "user", "guest"])
def test_a_role_cannot_take_the_name_of_a_system_role(stack: LocalStack, acme: TenantFixture, name: str) -> None:
    reply = stack.request(
        "POST", "/api/roles", token=acme.admin_token, json_body={"name": name, "display_name": "Impostor"}
    )
    assert reply.status == 409 and reply.json()["type"] == "/problems/conflict"
    listed = stack.request("GET", "/api/roles?limit=200", token=acme.admin_token).json()["items"]
    assert [r["name"] for r in listed].count(name) == 1


def test_inheritance_and_explain_name_the_path(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    # Given a parent role with role.view and a child role without it
    token = fresh_tenant.admin_token
    parent = make_role(stack, token, ["role.view"])
    child = make_role(stack, token, ["user.view"], parent_id=parent["id"])
    user = make_user(stack, fresh_tenant.id, fresh_tenant.code, [child["id"]])
    # When the holder of the child role lists roles, it works through inheritance
    assert stack.request("GET", "/api/roles", token=user["token"]).status == 200
    # And explain names the child role and the path to the parent that grants it
    reply = stack.request("GET", f"/api/permissions/explain?user_id={user['id']}&permission=role.view", token=token)
    assert reply.status == 200
    body = reply.json()
    assert body["granted"] is True
    assert body["decided_by"] == [
        {"role_id": child["id"], "role": child["name"], "path": [child["name"], parent["name"]], "via": "exact"}
    ]
    denied = stack.request(
        "GET", f"/api/permissions/explain?user_id={user['id']}&permission=role.delete", token=token
    ).json()
    assert denied["granted"] is False and denied["decided_by"] == []


def test_manage_implies_every_action_of_its_module(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    manager = make_role(stack, fresh_tenant.admin_token, ["role.manage"])
    user = make_user(stack, fresh_tenant.id, fresh_tenant.code, [manager["id"]])
    made = stack.request(
        "POST", "/api/roles", token=user["token"], json_body={"name": "by_manager", "display_name": "x"}
    )
    assert made.status == 201
    explained = stack.request(
        "GET", f"/api/permissions/explain?user_id={user['id']}&permission=role.delete", token=fresh_tenant.admin_token
    ).json()
    assert explained["decided_by"][0]["via"] == "manage"


def test_roles_combine_as_a_union(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    viewer, permission_viewer = make_role(stack, token, ["role.view"]), make_role(stack, token, ["permission.view"])
    user = make_user(stack, fresh_tenant.id, fresh_tenant.code, [viewer["id"], permission_viewer["id"]])
    assert stack.request("GET", "/api/roles", token=user["token"]).status == 200
    assert stack.request("GET", "/api/permissions", token=user["token"]).status == 200
    assert (
        stack.request("POST", "/api/roles", token=user["token"], json_body={"name": "nope", "display_name": "x"}).status
        == 403
    )


def test_an_inheritance_cycle_is_refused(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    a = make_role(stack, token, [])
    b = make_role(stack, token, [], parent_id=a["id"])
    for role, parent in ((a, b["id"]), (a, a["id"])):
        reply = stack.request(
            "PUT",
            f"/api/roles/{role['id']}",
            token=token,
            json_body={"display_name": "x", "data_scope": "all", "parent_id": parent, "version": role["version"]},
        )
        assert reply.status == 422
        assert reply.json()["errors"][0]["field"] == "parent_id"


def test_nobody_grants_what_they_do_not_hold(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    # Given a role manager who holds role.manage and role.assign but not user.manage, with a self data scope
    token = fresh_tenant.admin_token
    manager_role = make_role(stack, token, ["role.manage", "role.assign"], data_scope="self")
    manager = make_user(stack, fresh_tenant.id, fresh_tenant.code, [manager_role["id"]])
    # Then they cannot create a role with more permissions, or a wider scope, than theirs
    more = stack.request(
        "POST",
        "/api/roles",
        token=manager["token"],
        json_body={"name": "too_much", "display_name": "x", "permissions": ["user.manage"]},
    )
    assert more.status == 403
    assert more.json()["errors"][0]["field"] == "permissions"
    wider = stack.request(
        "POST",
        "/api/roles",
        token=manager["token"],
        json_body={"name": "too_wide", "display_name": "x", "data_scope": "all"},
    )
    assert wider.status == 403
    # And they cannot hand a stronger existing role to anyone, themselves included
    strong = make_role(stack, token, ["user.manage"], data_scope="self")
    me = stack.request("GET", f"/api/users/{manager['id']}/roles", token=manager["token"]).json()
    escalate = stack.request(
        "PUT",
        f"/api/users/{manager['id']}/roles",
        token=manager["token"],
        json_body={"role_ids": [*me["role_ids"], strong["id"]], "version": me["version"]},
    )
    assert escalate.status == 403
    # But a role within their bounds is fine
    within = stack.request(
        "POST",
        "/api/roles",
        token=manager["token"],
        json_body={"name": "within", "display_name": "x", "permissions": ["role.view"], "data_scope": "self"},
    )
    assert within.status == 201


def test_a_role_change_takes_effect_on_the_next_request(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    role = make_role(stack, token, [])
    user = make_user(stack, fresh_tenant.id, fresh_tenant.code, [role["id"]])
    assert stack.request("GET", "/api/roles", token=user["token"]).status == 403
    grant = stack.request(
        "PUT",
        f"/api/roles/{role['id']}/permissions",
        token=token,
        json_body={"permissions": ["role.view"], "version": role["version"]},
    )
    assert grant.status == 200 and grant.json()["permissions"] == ["role.view"]
    assert stack.request("GET", "/api/roles", token=user["token"]).status == 200


def test_user_roles_read_and_set(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    role = make_role(stack, token, ["user.view"])
    user = make_user(stack, fresh_tenant.id, fresh_tenant.code, [])
    current = stack.request("GET", f"/api/users/{user['id']}/roles", token=token).json()
    assert current["role_ids"] == []
    reply = stack.request(
        "PUT",
        f"/api/users/{user['id']}/roles",
        token=token,
        json_body={"role_ids": [role["id"]], "version": current["version"]},
    )
    assert reply.status == 200 and reply.json()["role_ids"] == [role["id"]]
    stale = stack.request(
        "PUT", f"/api/users/{user['id']}/roles", token=token, json_body={"role_ids": [], "version": current["version"]}
    )
    assert stale.status == 412
    unknown = stack.request(
        "PUT",
        f"/api/users/{user['id']}/roles",
        token=token,
        json_body={"role_ids": ["01ARZ3NDEKTSV4RRFFQ69G5FAV"], "version": reply.json()["version"]},
    )
    assert unknown.status == 422 and unknown.json()["errors"][0]["field"] == "role_ids"
    # A role held by an account cannot be deleted
    assert stack.request("DELETE", f"/api/roles/{role['id']}", token=token).status == 409


def test_the_last_super_admin_keeps_the_role(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    admin_id = claims_of(fresh_tenant.admin_token)["sub"]
    current = stack.request("GET", f"/api/users/{admin_id}/roles", token=fresh_tenant.admin_token).json()
    reply = stack.request(
        "PUT",
        f"/api/users/{admin_id}/roles",
        token=fresh_tenant.admin_token,
        json_body={"role_ids": [], "version": current["version"]},
    )
    assert reply.status == 409


def test_another_tenants_roles_and_users_are_404(stack: LocalStack, acme: TenantFixture, globex: TenantFixture) -> None:
    role = make_role(stack, acme.admin_token, ["user.view"])
    acme_admin = claims_of(acme.admin_token)["sub"]
    missing = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    for method, path, body in [
        ("GET", "/api/roles/{r}", None),
        ("PUT", "/api/roles/{r}", {"display_name": "x", "data_scope": "all", "version": 1}),
        ("DELETE", "/api/roles/{r}", None),
        ("GET", "/api/roles/{r}/permissions", None),
        ("PUT", "/api/roles/{r}/permissions", {"permissions": [], "version": 1}),
        ("GET", "/api/users/{u}/roles", None),
        ("PUT", "/api/users/{u}/roles", {"role_ids": [], "version": 1}),
        ("GET", "/api/permissions/explain?user_id={u}&permission=role.view", None),
    ]:
        foreign = stack.request(
            method, path.format(r=role["id"], u=acme_admin), token=globex.admin_token, json_body=body
        )
        nowhere = stack.request(method, path.format(r=missing, u=missing), token=globex.admin_token, json_body=body)
        assert foreign.status == nowhere.status == 404, path
        assert problem_without_request_id(foreign.json()) == problem_without_request_id(nowhere.json())


def test_a_user_without_role_permissions_is_refused(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    nobody = make_user(stack, fresh_tenant.id, fresh_tenant.code, [])
    for method, path in [("GET", "/api/roles"), ("GET", "/api/permissions"), ("POST", "/api/roles")]:
        reply = stack.request(
            method,
            path,
            token=nobody["token"],
            json_body={"name": "x_y", "display_name": "x"} if method == "POST" else None,
        )
        assert reply.status == 403, path


def test_seeded_roles_grant_only_catalogued_permissions() -> None:
    from access.service import catalogue
    from onboarding.defaults import SYSTEM_ROLES

    known = {p["code"] for p in catalogue()} | {"*"}
    for code, (_, _, permissions, _) in SYSTEM_ROLES.items():
        assert set(permissions) <= known, code


def _department(tenant: TenantFixture, name: str, parent_path: str | None = None) -> Any:
    import uuid

    from riveredge.clock import new_id
    from riveredge.db.models import Department
    from riveredge.scope import Scope, use_scope

    scope = Scope(tenant.id)
    department = Department.new(scope, new_id(), parent_path, name=name, code=f"{name}-{uuid.uuid4().hex[:4]}")
    with use_scope(scope):
        department.save()
    return department


def test_a_custom_scope_names_existing_departments(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    sales = _department(fresh_tenant, "sales")
    role = make_role(
        stack, fresh_tenant.admin_token, ["user.view"], data_scope="custom", departments=[sales.department_id]
    )
    assert role["departments"] == [sales.department_id]
    reply = stack.request(
        "POST",
        "/api/roles",
        token=fresh_tenant.admin_token,
        json_body={
            "name": "ghost_dept",
            "display_name": "x",
            "data_scope": "custom",
            "departments": ["01ARZ3NDEKTSV4RRFFQ69G5FAV"],
        },
    )
    assert reply.status == 422 and reply.json()["errors"][0]["field"] == "departments"


def test_a_custom_scope_is_grantable_within_the_grantors_subtree_only(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    # Given a role manager whose scope is the sales subtree
    sales = _department(fresh_tenant, "sales")
    team = _department(fresh_tenant, "team", sales.path)
    marketing = _department(fresh_tenant, "marketing")
    manager_role = make_role(stack, fresh_tenant.admin_token, ["role.manage"], data_scope="dept_and_children")
    manager = make_user(
        stack,
        fresh_tenant.id,
        fresh_tenant.code,
        [manager_role["id"]],
        department_id=sales.department_id,
        department_path=sales.path,
    )
    # Then a custom scope on a team inside sales is theirs to give, marketing is not
    inside = stack.request(
        "POST",
        "/api/roles",
        token=manager["token"],
        json_body={
            "name": "team_only",
            "display_name": "x",
            "data_scope": "custom",
            "departments": [team.department_id],
        },
    )
    assert inside.status == 201
    outside = stack.request(
        "POST",
        "/api/roles",
        token=manager["token"],
        json_body={
            "name": "marketing_only",
            "display_name": "x",
            "data_scope": "custom",
            "departments": [marketing.department_id],
        },
    )
    assert outside.status == 403
