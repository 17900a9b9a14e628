"""Accounts: create or invite, activate, list through the data scope, update, delete, batch, reset."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from riveredge.clock import new_id
from riveredge.db.models import Department
from riveredge.scope import Scope, use_scope

from local_stack.stack import LocalStack
from tests.integration.accounts import make_role, make_user
from tests.integration.conftest import TenantFixture, login
from tests.support import PASSWORD, claims_of, dynamodb_calls, problem_without_request_id


def _department(tenant: TenantFixture, name: str, parent: Department | None = None) -> Department:
    scope = Scope(tenant.id)
    department = Department.new(
        scope, new_id(), parent.path if parent else None, name=name, code=f"{name}-{uuid.uuid4().hex[:4]}"
    )
    with use_scope(scope):
        department.save()
    return department


def _email(tenant: TenantFixture) -> str:
    return f"p-{uuid.uuid4().hex[:8]}@{tenant.code}.example"


def _activation_token(stack: LocalStack, email: str) -> str:
    body = next(m["body"] for m in reversed(stack.sent_mail()) if email in m["to"])
    link = re.search(r'href="([^"]+)"', body).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    return parse_qs(urlparse(link).query)["token"][0]


def test_an_account_with_a_password_can_sign_in(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    email = _email(fresh_tenant)
    reply = stack.request(
        "POST",
        "/api/users",
        token=fresh_tenant.admin_token,
        json_body={"email": email, "name": "Pat", "password": PASSWORD},
    )
    assert reply.status == 201
    user = reply.json()
    assert user["status"] == "active" and user["email"] == email
    assert reply.headers["Location"] == f"/api/users/{user['id']}"
    assert login(stack, fresh_tenant.code, email).status == 200


def test_an_invited_account_activates_through_its_mailed_link(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    email = _email(fresh_tenant)
    reply = stack.request(
        "POST", "/api/users", token=fresh_tenant.admin_token, json_body={"email": email, "name": "Ivy"}
    )
    assert reply.status == 201 and reply.json()["status"] == "invited"
    assert login(stack, fresh_tenant.code, email).status == 401
    token = _activation_token(stack, email)
    activated = stack.request(
        "POST", "/api/public/activate", json_body={"tenant": fresh_tenant.code, "token": token, "password": PASSWORD}
    )
    assert activated.status == 200 and activated.json()["status"] == "active"
    assert login(stack, fresh_tenant.code, email).status == 200
    again = stack.request(
        "POST", "/api/public/activate", json_body={"tenant": fresh_tenant.code, "token": token, "password": PASSWORD}
    )
    assert again.status == 422 and again.json()["errors"][0]["field"] == "token"


@pytest.mark.parametrize("token", ["act1.nope.secret", "garbage-token-value", "act1.01ARZ3NDEKTSV4RRFFQ69G5FAV.xyz"])
def test_a_bad_activation_link_is_refused_alike(stack: LocalStack, acme: TenantFixture, token: str) -> None:
    reply = stack.request(
        "POST", "/api/public/activate", json_body={"tenant": "acme", "token": token, "password": PASSWORD}
    )
    assert reply.status == 422
    assert reply.json()["errors"] == [{"field": "token", "message": "the link is not valid or has expired"}]


def test_accounts_list_with_filters_and_cursor(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    emails = [_email(fresh_tenant) for _ in range(3)]
    for i, email in enumerate(emails):
        stack.request(
            "POST", "/api/users", token=token, json_body={"email": email, "name": f"Lister {i}", "password": PASSWORD}
        )
    seen, cursor = [], None
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = stack.request("GET", f"/api/users?{query}", token=token).json()
        seen += [u["email"] for u in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert set(emails) <= set(seen) and len(seen) == len(set(seen))
    found = stack.request("GET", "/api/users?q=lister%201", token=token).json()["items"]
    assert [u["email"] for u in found] == [emails[1]]
    invited = stack.request("GET", "/api/users?status=invited", token=token).json()["items"]
    assert all(u["status"] == "invited" for u in invited)


def test_a_department_admin_lists_exactly_their_subtree_in_one_query(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    # Given sales with a child team, and marketing beside them
    sales = _department(fresh_tenant, "sales")
    team = _department(fresh_tenant, "team", sales)
    marketing = _department(fresh_tenant, "marketing")
    viewer = make_role(stack, fresh_tenant.admin_token, ["user.view"], data_scope="dept_and_children")
    head = make_user(
        stack,
        fresh_tenant.id,
        fresh_tenant.code,
        [viewer["id"]],
        department_id=sales.department_id,
        department_path=sales.path,
    )
    in_team = make_user(
        stack, fresh_tenant.id, fresh_tenant.code, [], department_id=team.department_id, department_path=team.path
    )
    outside = make_user(
        stack,
        fresh_tenant.id,
        fresh_tenant.code,
        [],
        department_id=marketing.department_id,
        department_path=marketing.path,
    )
    # When the head of sales lists accounts
    with dynamodb_calls() as calls:
        reply = stack.request("GET", "/api/users?limit=50", token=head["token"])
    # Then they see exactly sales and its team, in one Query (besides the authorizer's BatchGetItem)
    assert reply.status == 200
    assert {u["id"] for u in reply.json()["items"]} == {head["id"], in_team["id"]}
    assert calls["Query"] == 1
    assert stack.request("GET", f"/api/users/{outside['id']}", token=head["token"]).status == 404
    assert stack.request("GET", f"/api/users/{in_team['id']}", token=head["token"]).status == 200
    narrowed = stack.request("GET", f"/api/users?department_id={team.department_id}", token=head["token"]).json()
    assert [u["id"] for u in narrowed["items"]] == [in_team["id"]]


def test_update_disable_and_version(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    email = _email(fresh_tenant)
    user = stack.request(
        "POST", "/api/users", token=token, json_body={"email": email, "name": "Dee", "password": PASSWORD}
    ).json()
    session = stack.login(fresh_tenant.code, email, PASSWORD)
    reply = stack.request(
        "PUT",
        f"/api/users/{user['id']}",
        token=token,
        json_body={"name": "Dee Dee", "status": "disabled", "version": user["version"]},
    )
    assert reply.status == 200 and reply.json()["status"] == "disabled" and reply.json()["name"] == "Dee Dee"
    assert stack.request("GET", "/api/auth/me", token=session["access_token"]).status == 401
    assert login(stack, fresh_tenant.code, email).status == 401
    stale = stack.request(
        "PUT",
        f"/api/users/{user['id']}",
        token=token,
        json_body={"name": "x", "status": "active", "version": user["version"]},
    )
    assert stale.status == 412


def test_delete_and_self_protection(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    email = _email(fresh_tenant)
    user = stack.request(
        "POST", "/api/users", token=token, json_body={"email": email, "name": "Gone", "password": PASSWORD}
    ).json()
    assert stack.request("DELETE", f"/api/users/{user['id']}", token=token).status == 204
    assert stack.request("GET", f"/api/users/{user['id']}", token=token).status == 404
    assert login(stack, fresh_tenant.code, email).status == 401
    me = claims_of(token)["sub"]
    assert stack.request("DELETE", f"/api/users/{me}", token=token).status == 409


def test_batch_answers_per_account(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    ids = [
        stack.request(
            "POST",
            "/api/users",
            token=token,
            json_body={"email": _email(fresh_tenant), "name": "B", "password": PASSWORD},
        ).json()["id"]
        for _ in range(2)
    ]
    missing = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    reply = stack.request(
        "POST", "/api/users/batch", token=token, json_body={"action": "disable", "user_ids": [*ids, missing]}
    )
    assert reply.status == 200
    results = {r["id"]: r for r in reply.json()["results"]}
    assert [results[i]["status"] for i in ids] == ["ok", "ok"]
    assert results[missing]["status"] == "error" and results[missing]["error"]["type"] == "/problems/not-found"
    assert all(stack.request("GET", f"/api/users/{i}", token=token).json()["status"] == "disabled" for i in ids)
    role = make_role(stack, token, ["user.view"])
    given = stack.request(
        "POST",
        "/api/users/batch",
        token=token,
        json_body={"action": "assign_roles", "user_ids": ids, "role_ids": [role["id"]]},
    )
    assert all(r["status"] == "ok" for r in given.json()["results"])
    assert stack.request("GET", f"/api/users/{ids[0]}", token=token).json()["role_ids"] == [role["id"]]


def test_an_admin_cannot_reset_their_own_password_through_the_admin_route(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    # Given the admin signed in
    token = fresh_tenant.admin_token
    me = stack.request("GET", "/api/auth/me", token=token).json()

    # When they reset their own password as if it were another account's
    for body in ({}, {"password": "Brand-new-pass-7"}):
        reply = stack.request("POST", f"/api/users/{me['user']['id']}/reset-password", token=token, json_body=body)

        # Then it is a conflict that says where their own password is changed, and their session goes on
        assert reply.status == 409 and "/api/me/password" in reply.json()["detail"]
    assert stack.request("GET", "/api/auth/me", token=token).status == 200


def test_reset_password_ends_sessions(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    email = _email(fresh_tenant)
    user = stack.request(
        "POST", "/api/users", token=token, json_body={"email": email, "name": "Res", "password": PASSWORD}
    ).json()
    session = stack.login(fresh_tenant.code, email, PASSWORD)
    reply = stack.request(
        "POST", f"/api/users/{user['id']}/reset-password", token=token, json_body={"password": "Brand-new-pass-7"}
    )
    assert reply.status == 200 and reply.json() == {
        "user_id": user["id"],
        "method": "password_set",
        "sessions_revoked": 1,
    }
    assert stack.request("GET", "/api/auth/me", token=session["access_token"]).status == 401
    assert login(stack, fresh_tenant.code, email, "Brand-new-pass-7").status == 200
    linked = stack.request("POST", f"/api/users/{user['id']}/reset-password", token=token, json_body={})
    assert linked.json()["method"] == "link_sent"
    done = stack.request(
        "POST",
        "/api/public/activate",
        json_body={
            "tenant": fresh_tenant.code,
            "token": _activation_token(stack, email),
            "password": "Third-pass-word-9",
        },
    )
    assert done.status == 200
    assert login(stack, fresh_tenant.code, email, "Third-pass-word-9").status == 200


def test_roles_on_a_new_account_respect_the_grant_bound(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    creator_role = make_role(stack, token, ["user.create", "user.view"])
    creator = make_user(stack, fresh_tenant.id, fresh_tenant.code, [creator_role["id"]])
    strong = make_role(stack, token, ["role.manage"])
    reply = stack.request(
        "POST",
        "/api/users",
        token=creator["token"],
        json_body={"email": _email(fresh_tenant), "name": "X", "password": PASSWORD, "role_ids": [strong["id"]]},
    )
    assert reply.status == 403 and reply.json()["errors"][0]["field"] == "role_ids"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "name": "X"}, "email"),
        ({"email": "a@b.example", "name": ""}, "name"),
        ({"email": "a@b.example", "name": "X", "phone": "call me"}, "phone"),
        ({"email": "a@b.example", "name": "X", "is_admin": True}, "is_admin"),
        ({"email": "a@b.example", "name": "X", "password": "short"}, "password"),
        ({"email": "a@b.example", "name": "X", "department_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, "department_id"),
        ({"email": "a@b.example", "name": "X", "role_ids": ["01ARZ3NDEKTSV4RRFFQ69G5FAV"]}, "role_ids"),
    ],
)
def test_bad_account_bodies(stack: LocalStack, acme: TenantFixture, body: dict[str, Any], field: str) -> None:
    reply = stack.request("POST", "/api/users", token=acme.admin_token, json_body=body)
    assert reply.status == 422
    assert field in [e["field"] for e in reply.json()["errors"]]


def test_a_taken_email_is_a_conflict(stack: LocalStack, acme: TenantFixture) -> None:
    reply = stack.request(
        "POST", "/api/users", token=acme.admin_token, json_body={"email": acme.admin_email, "name": "Dup"}
    )
    assert reply.status == 409


def test_another_tenants_accounts_are_404(stack: LocalStack, acme: TenantFixture, globex: TenantFixture) -> None:
    target = claims_of(acme.admin_token)["sub"]
    missing = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    for method, path, body in [
        ("GET", "/api/users/{u}", None),
        ("PUT", "/api/users/{u}", {"name": "x", "status": "active", "version": 1}),
        ("DELETE", "/api/users/{u}", None),
        ("POST", "/api/users/{u}/reset-password", {}),
    ]:
        foreign = stack.request(method, path.format(u=target), token=globex.admin_token, json_body=body)
        nowhere = stack.request(method, path.format(u=missing), token=globex.admin_token, json_body=body)
        assert foreign.status == nowhere.status == 404, path
        assert problem_without_request_id(foreign.json()) == problem_without_request_id(nowhere.json())
    listed = stack.request("GET", "/api/users?limit=200", token=globex.admin_token).json()["items"]
    assert target not in {u["id"] for u in listed}


def test_accounts_routes_need_their_permissions(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    nobody = make_user(stack, fresh_tenant.id, fresh_tenant.code, [])
    for method, path, body in [
        ("GET", "/api/users", None),
        ("POST", "/api/users", {"email": "a@b.example", "name": "x"}),
        ("POST", "/api/users/batch", {"action": "enable", "user_ids": [nobody["id"]]}),
    ]:
        assert stack.request(method, path, token=nobody["token"], json_body=body).status == 403, path
