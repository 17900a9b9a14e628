"""Invitations: codes with roles, expiry and a maximum of uses; registration with a code creates the account."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from riveredge import keys
from riveredge.clock import new_id
from riveredge.db import roles
from riveredge.db.models import Department, OperationLogEntry, User
from riveredge.scope import Scope, use_scope

from local_stack.stack import LocalStack
from tests.integration.accounts import make_user, seed_role
from tests.integration.conftest import Account, InProcess, TenantFixture, login, make_tenant
from tests.support import PASSWORD, claims_of, problem_without_request_id

MISSING_CODE = "NoSuchCodeAtAll_0000"


def _in(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat().replace("+00:00", "Z")


def _role_ids(tenant_id: str) -> dict[str, str]:
    """Role code -> role id, from the tenant's role index."""
    scope = Scope(tenant_id)
    with use_scope(scope):
        index = roles.current_index(scope)
    assert index is not None
    return {entry["code"]: role_id for role_id, entry in index.roles.items()}


def _role(tenant_id: str, permissions: list[str], data_scope: str = "all", departments: list[str] | None = None) -> str:
    """A role granting `permissions`, stored with its role-index entry as the application stores roles."""
    return seed_role(tenant_id, permissions, data_scope=data_scope, departments=departments)


def _department(tenant_id: str, name: str) -> Department:
    scope = Scope(tenant_id)
    department = Department.new(scope, new_id(), None, name=name, code=f"d{uuid.uuid4().hex[:6]}")
    with use_scope(scope):
        department.save(condition=Department.pk.does_not_exist())
    return department


def _invite(stack: LocalStack, tenant: TenantFixture, **fields: Any) -> dict[str, Any]:
    body = {"role_ids": [_role_ids(tenant.id)["user"]], "expires_at": _in(7), "max_uses": 5, **fields}
    reply = stack.request("POST", "/api/invitations", token=tenant.admin_token, json_body=body)
    assert reply.status == 201, reply.body
    return reply.json()  # type: ignore[no-any-return]


def _register(stack: LocalStack, tenant: str, code: str, email: str | None = None, **fields: Any) -> Any:
    body = {
        "tenant": tenant,
        "invitation_code": code,
        "email": email or f"new-{uuid.uuid4().hex[:8]}@{tenant}.example",
        "name": "New Hire",
        "password": PASSWORD,
        **fields,
    }
    return stack.request("POST", "/api/public/register", json_body=body)


def _stored(tenant_id: str, code: str) -> Any:
    from invitations.repository import Invitation

    scope = Scope(tenant_id)
    key = keys.invitation(scope, code)
    with use_scope(scope):
        return Invitation.get(key.pk, key.sk, consistent_read=True)


def _accounts(tenant_id: str, email_part: str) -> list[User]:
    scope = Scope(tenant_id)
    with use_scope(scope):
        users = User.query(keys.collection(scope, "USER"), consistent_read=True)
        return [u for u in users if isinstance(u, User) and email_part in u.email]


def _oplog(tenant_id: str, resource_id: str) -> list[OperationLogEntry]:
    scope = Scope(tenant_id)
    with use_scope(scope):
        return [e for e in OperationLogEntry.query(keys.collection(scope, "OPLOG")) if e.resource_id == resource_id]


# -- create, read, list, revoke -----------------------------------------------------------
def test_create_and_read_an_invitation(stack: LocalStack, acme: TenantFixture) -> None:
    role_id = _role_ids(acme.id)["user"]
    expires = _in(30)
    # When the admin creates an invitation
    reply = stack.request(
        "POST",
        "/api/invitations",
        token=acme.admin_token,
        json_body={"role_ids": [role_id], "expires_at": expires, "max_uses": 3},
    )
    # Then it answers 201 with a random URL-safe code made by the server, and where it lives
    assert reply.status == 201, reply.body
    invitation = reply.json()
    assert re.fullmatch(r"[A-Za-z0-9_-]{12,}", invitation["code"])
    assert invitation["id"] == invitation["code"]
    assert reply.headers["Location"] == f"/api/invitations/{invitation['code']}"
    assert invitation["role_ids"] == [role_id]
    assert (invitation["max_uses"], invitation["uses"], invitation["status"], invitation["expired"]) == (
        3,
        0,
        "active",
        False,
    )
    assert invitation["created_by"] == claims_of(acme.admin_token)["sub"]
    assert abs(datetime.fromisoformat(invitation["expires_at"]) - datetime.fromisoformat(expires)) < timedelta(
        milliseconds=1
    )
    # And reading it answers the same object
    code = invitation["code"]
    assert stack.request("GET", f"/api/invitations/{code}", token=acme.admin_token).json() == invitation
    # And the creation is in the operation log
    assert [(e.action, e.actor_id) for e in _oplog(acme.id, code)] == [("invitation.create", invitation["created_by"])]


def test_two_invitations_never_share_a_code(stack: LocalStack, acme: TenantFixture) -> None:
    codes = {_invite(stack, acme)["code"] for _ in range(5)}
    assert len(codes) == 5


def test_the_list_pages_with_a_signed_cursor(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    made = {_invite(stack, fresh_tenant)["code"] for _ in range(3)}
    first = stack.request("GET", "/api/invitations?limit=2", token=fresh_tenant.admin_token).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = stack.request(
        "GET", f"/api/invitations?limit=2&cursor={first['next_cursor']}", token=fresh_tenant.admin_token
    ).json()
    assert {i["code"] for i in first["items"] + second["items"]} == made
    assert second.get("next_cursor") is None
    tampered = first["next_cursor"][:-2] + ("AA" if not first["next_cursor"].endswith("AA") else "BB")
    assert stack.request("GET", f"/api/invitations?cursor={tampered}", token=fresh_tenant.admin_token).status == 400


def test_the_same_idempotency_key_answers_the_first_invitation(stack: LocalStack, acme: TenantFixture) -> None:
    body = {"role_ids": [_role_ids(acme.id)["user"]], "expires_at": _in(3), "max_uses": 2}
    key = {"Idempotency-Key": f"invite-{uuid.uuid4().hex}"}
    first = stack.request("POST", "/api/invitations", token=acme.admin_token, json_body=body, headers=key)
    again = stack.request("POST", "/api/invitations", token=acme.admin_token, json_body=body, headers=key)
    assert first.status == again.status == 201
    assert again.json()["code"] == first.json()["code"]
    other = stack.request(
        "POST", "/api/invitations", token=acme.admin_token, json_body={**body, "max_uses": 9}, headers=key
    )
    assert other.status == 422
    assert other.json()["type"] == "/problems/idempotency-key-reused"


def test_revoke_an_invitation(stack: LocalStack, acme: TenantFixture) -> None:
    invitation = _invite(stack, acme)
    path = f"/api/invitations/{invitation['code']}/revoke"
    # A stale version changes nothing
    stale = stack.request("POST", path, token=acme.admin_token, json_body={"version": invitation["version"] + 1})
    assert stale.status == 412
    # The current one revokes it
    reply = stack.request("POST", path, token=acme.admin_token, json_body={"version": invitation["version"]})
    assert reply.status == 200
    assert (reply.json()["status"], reply.json()["version"]) == ("revoked", invitation["version"] + 1)
    # Revoking again (no body) changes nothing more
    again = stack.request("POST", path, token=acme.admin_token)
    assert again.status == 200 and again.json() == reply.json()
    assert [e.action for e in _oplog(acme.id, invitation["code"])] == ["invitation.create", "invitation.revoke"]
    # And it no longer registers anyone
    assert _register(stack, acme.code, invitation["code"]).status == 422


# -- bad input ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def quiet(stack: LocalStack, operator: Account) -> TenantFixture:
    """A tenant in which no invitation is ever stored."""
    return make_tenant(stack, operator, "invitations-quiet")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"expires_at": "past"}, "expires_at"),
        ({"expires_at": "too-far"}, "expires_at"),
        ({"expires_at": "2030-01-01T00:00:00"}, "expires_at"),  # no time zone
        ({"expires_at": "tomorrow"}, "expires_at"),
        ({"expires_at": None}, "expires_at"),
        ({"max_uses": 0}, "max_uses"),
        ({"max_uses": 1001}, "max_uses"),
        ({"role_ids": []}, "role_ids"),
        ({"role_ids": ["01ARZ3NDEKTSV4RRFFQ69G5FAV"]}, "role_ids"),
        ({"department_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, "department_id"),
        ({"code": "ChosenByMe123"}, "code"),
        ({"uses": 5}, "uses"),
    ],
)
def test_bad_invitation_bodies_are_422_naming_the_field(
    stack: LocalStack, quiet: TenantFixture, change: dict[str, Any], field: str
) -> None:
    body = {"role_ids": [_role_ids(quiet.id)["user"]], "expires_at": _in(7), "max_uses": 5, **change}
    body["expires_at"] = {"past": _in(-1), "too-far": _in(91)}.get(str(body["expires_at"]), body["expires_at"])
    reply = stack.request("POST", "/api/invitations", token=quiet.admin_token, json_body=body)
    assert reply.status == 422, reply.body
    assert reply.content_type == "application/problem+json"
    assert field in [e["field"] for e in reply.json()["errors"]]
    # And nothing was stored
    assert stack.request("GET", "/api/invitations", token=quiet.admin_token).json()["items"] == []


def test_an_unknown_code_is_404(stack: LocalStack, acme: TenantFixture) -> None:
    for code in (MISSING_CODE, "short", "has spaces and more"):
        for method, path in [("GET", f"/api/invitations/{code}"), ("POST", f"/api/invitations/{code}/revoke")]:
            reply = stack.request(method, path, token=acme.admin_token)
            assert reply.status == 404, (method, code)


# -- the grant bound and permissions ------------------------------------------------------
def test_an_inviter_cannot_give_roles_beyond_their_own(stack: LocalStack, acme: TenantFixture) -> None:
    # Given a user who may create invitations and holds nothing else
    own_role = _role(acme.id, ["invitation.create", "invitation.view"])
    inviter = make_user(stack, acme.id, acme.code, [own_role])
    seeded = _role_ids(acme.id)
    # When they invite with the admin role
    body = {"role_ids": [seeded["admin"]], "expires_at": _in(1), "max_uses": 1}
    reply = stack.request("POST", "/api/invitations", token=inviter["token"], json_body=body)
    # Then it is refused naming role_ids, and nothing was stored
    assert reply.status == 403
    assert {e["field"] for e in reply.json()["errors"]} == {"role_ids"}
    listed = stack.request("GET", "/api/invitations?limit=200", token=inviter["token"]).json()["items"]
    assert all(i["created_by"] != inviter["id"] for i in listed)
    # But a role within what they hold is fine
    ok = stack.request("POST", "/api/invitations", token=inviter["token"], json_body={**body, "role_ids": [own_role]})
    assert ok.status == 201


def test_an_inviter_cannot_invite_into_a_department_outside_their_data_scope(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    # Given a user who sees the Sales department only, and may create invitations
    sales, support = _department(fresh_tenant.id, "Sales"), _department(fresh_tenant.id, "Support")
    own_role = _role(fresh_tenant.id, ["invitation.create"], "custom", [sales.department_id])
    inviter = make_user(stack, fresh_tenant.id, fresh_tenant.code, [own_role])
    body = {"role_ids": [own_role], "expires_at": _in(1)}
    # When they invite into Support
    reply = stack.request(
        "POST", "/api/invitations", token=inviter["token"], json_body={**body, "department_id": support.department_id}
    )
    # Then it is refused naming department_id
    assert reply.status == 403
    assert [e["field"] for e in reply.json()["errors"]] == ["department_id"]
    # But Sales is theirs to invite into
    ok = stack.request(
        "POST", "/api/invitations", token=inviter["token"], json_body={**body, "department_id": sales.department_id}
    )
    assert ok.status == 201, ok.body
    codes = [
        i["code"] for i in stack.request("GET", "/api/invitations", token=fresh_tenant.admin_token).json()["items"]
    ]
    assert codes == [ok.json()["code"]]


def test_each_route_needs_its_permission(stack: LocalStack, acme: TenantFixture) -> None:
    invitation = _invite(stack, acme)
    code = invitation["code"]
    viewer = make_user(stack, acme.id, acme.code, [_role(acme.id, ["invitation.view"])])
    outsider = make_user(stack, acme.id, acme.code, [_role(acme.id, ["user.view"])])
    body = {"role_ids": [_role_ids(acme.id)["guest"]], "expires_at": _in(1)}
    # The viewer reads but cannot create or revoke
    assert stack.request("GET", "/api/invitations", token=viewer["token"]).status == 200
    assert stack.request("GET", f"/api/invitations/{code}", token=viewer["token"]).status == 200
    assert stack.request("POST", "/api/invitations", token=viewer["token"], json_body=body).status == 403
    assert stack.request("POST", f"/api/invitations/{code}/revoke", token=viewer["token"]).status == 403
    # Someone without invitation permissions reads nothing
    for path in ("/api/invitations", f"/api/invitations/{code}"):
        reply = stack.request("GET", path, token=outsider["token"])
        assert reply.status == 403 and reply.json()["type"] == "/problems/forbidden"
    # And without a token there is nothing at all
    assert stack.request("GET", "/api/invitations").status == 401
    assert _stored(acme.id, code).status == "active"


def test_another_tenants_invitation_is_404(stack: LocalStack, acme: TenantFixture, globex: TenantFixture) -> None:
    # Given an invitation of acme's, and globex's admin who knows its code
    code = _invite(stack, acme)["code"]
    # When globex's admin reads or revokes it
    read = stack.request("GET", f"/api/invitations/{code}", token=globex.admin_token)
    revoke = stack.request("POST", f"/api/invitations/{code}/revoke", token=globex.admin_token)
    # Then it does not exist for them: the same answer as a code that exists nowhere
    nowhere = stack.request("GET", f"/api/invitations/{MISSING_CODE}", token=globex.admin_token)
    assert read.status == revoke.status == nowhere.status == 404
    assert problem_without_request_id(read.json()) == problem_without_request_id(nowhere.json())
    assert code not in {
        i["code"] for i in stack.request("GET", "/api/invitations?limit=200", token=globex.admin_token).json()["items"]
    }
    assert _stored(acme.id, code).status == "active"


# -- registration -------------------------------------------------------------------------
def test_registration_creates_an_account_with_the_invitations_roles(stack: LocalStack, acme: TenantFixture) -> None:
    seeded = _role_ids(acme.id)
    invitation = _invite(stack, acme, role_ids=[seeded["user"], seeded["guest"]], max_uses=2)
    email = f"joiner-{uuid.uuid4().hex[:8]}@acme.example"
    # When someone registers with the code, without any token
    reply = _register(stack, acme.code, invitation["code"], email, name="Joan Joiner")
    # Then the account is created and answered, without tokens
    assert reply.status == 201, reply.body
    user = reply.json()
    assert (user["email"], user["name"], user["status"]) == (email, "Joan Joiner", "active")
    assert user["role_ids"] == sorted([seeded["user"], seeded["guest"]])
    assert user["created_by"] == invitation["created_by"]
    assert reply.headers["Location"] == f"/api/users/{user['id']}"
    assert "access_token" not in user and "password" not in reply.body.decode()
    # And they sign in with their password and hold the invitation's roles
    signed_in = login(stack, acme.code, email)
    assert signed_in.status == 200
    me = stack.request("GET", "/api/auth/me", token=signed_in.json()["access_token"]).json()
    assert me["user"]["id"] == user["id"] and me["user"]["role_ids"] == user["role_ids"]
    # And the invitation counts the use
    assert stack.request("GET", f"/api/invitations/{invitation['code']}", token=acme.admin_token).json()["uses"] == 1
    # And the operation log has the account and the use, both by the new user
    entries = [(e.action, e.actor_id) for e in _oplog(acme.id, user["id"]) + _oplog(acme.id, invitation["code"])]
    assert ("user.create", user["id"]) in entries and ("invitation.use", user["id"]) in entries


def test_registration_places_the_account_in_the_invitations_department(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    # Given a department, and an invitation into it
    scope = Scope(fresh_tenant.id)
    department = _department(fresh_tenant.id, "Sales")
    invitation = _invite(stack, fresh_tenant, department_id=department.department_id)
    assert invitation["department_id"] == department.department_id
    # When someone registers with it
    reply = _register(stack, fresh_tenant.code, invitation["code"])
    # Then their account is in the department, at its place in the tree
    assert reply.status == 201, reply.body
    with use_scope(scope):
        key = keys.user(scope, reply.json()["id"])
        stored = User.get(key.pk, key.sk)
    assert (stored.department_id, stored.department_path) == (department.department_id, department.path)


def test_an_invitation_creates_at_most_max_uses_accounts(stack: LocalStack, acme: TenantFixture) -> None:
    marker = uuid.uuid4().hex[:8]
    invitation = _invite(stack, acme, max_uses=2)
    answers = [_register(stack, acme.code, invitation["code"], f"{marker}-{n}@acme.example").status for n in range(3)]
    assert answers == [201, 201, 422]
    assert len(_accounts(acme.id, marker)) == 2
    assert _stored(acme.id, invitation["code"]).uses == 2


def test_racing_registrations_cannot_exceed_max_uses(
    stack: LocalStack, acme: TenantFixture, monkeypatch: pytest.MonkeyPatch, in_process: InProcess
) -> None:
    in_process("InvitationsFunction")  # the test patches its modules
    from invitations import repository

    # Given registrations that all checked the invitation before any of them wrote (a race for its uses)
    marker = uuid.uuid4().hex[:8]
    max_uses = 3
    invitation = _invite(stack, acme, max_uses=max_uses)
    scope = Scope(acme.id)
    with use_scope(scope):
        as_first_read = repository.registration_state(scope, invitation["code"])
    monkeypatch.setattr(repository, "registration_state", lambda scope, code: as_first_read)
    # When max_uses + 1 of them go ahead
    answers = [
        _register(stack, acme.code, invitation["code"], f"{marker}-{n}@acme.example") for n in range(max_uses + 1)
    ]
    # Then exactly max_uses accounts exist; the last one is refused with the generic answer
    assert [a.status for a in answers] == [201] * max_uses + [422]
    assert answers[-1].json()["errors"] == [{"field": "invitation_code", "message": "invitation is not valid"}]
    assert len(_accounts(acme.id, marker)) == max_uses
    assert _stored(acme.id, invitation["code"]).uses == max_uses


def test_invalid_invitations_are_one_and_the_same_422(
    stack: LocalStack, acme: TenantFixture, globex: TenantFixture
) -> None:
    marker = uuid.uuid4().hex[:8]
    # Given a revoked, an expired and a used-up invitation of acme's, and a valid one
    revoked = _invite(stack, acme)
    stack.request("POST", f"/api/invitations/{revoked['code']}/revoke", token=acme.admin_token)
    expired = _invite(stack, acme)
    stored = _stored(acme.id, expired["code"])
    with use_scope(Scope(acme.id)):
        stored.update(actions=[type(stored).expires_at.set(datetime.now(UTC) - timedelta(minutes=1))])
    used_up = _invite(stack, acme, max_uses=1)
    assert _register(stack, acme.code, used_up["code"], f"{marker}-first@acme.example").status == 201
    valid = _invite(stack, acme)
    # When people register with them, with an unknown code, at the wrong organisation or at the platform
    attempts = {
        "revoked": _register(stack, acme.code, revoked["code"], f"{marker}-1@acme.example"),
        "expired": _register(stack, acme.code, expired["code"], f"{marker}-2@acme.example"),
        "used up": _register(stack, acme.code, used_up["code"], f"{marker}-3@acme.example"),
        "unknown": _register(stack, acme.code, MISSING_CODE, f"{marker}-4@acme.example"),
        "malformed": _register(stack, acme.code, "?", f"{marker}-5@acme.example"),
        "other tenant": _register(stack, globex.code, valid["code"], f"{marker}-6@globex.example"),
        "unknown tenant": _register(stack, "nowhere-inc", valid["code"], f"{marker}-7@acme.example"),
        "platform": _register(stack, "platform", valid["code"], f"{marker}-8@acme.example"),
    }
    # Then each is the same 422 naming invitation_code, with nothing to tell them apart
    bodies = {name: problem_without_request_id(reply.json()) for name, reply in attempts.items()}
    assert {reply.status for reply in attempts.values()} == {422}
    assert all(body == bodies["unknown"] for body in bodies.values()), bodies
    assert bodies["unknown"]["errors"] == [{"field": "invitation_code", "message": "invitation is not valid"}]
    # And no account was created, and the valid invitation is unused
    assert [u.email for u in _accounts(acme.id, marker)] == [f"{marker}-first@acme.example"]
    assert _accounts(globex.id, marker) == []
    assert _stored(acme.id, valid["code"]).uses == 0


def test_a_suspended_organisation_takes_no_registrations(
    stack: LocalStack, fresh_tenant: TenantFixture, operator_token: str
) -> None:
    invitation = _invite(stack, fresh_tenant)
    suspended = stack.request("POST", f"/api/tenants/{fresh_tenant.id}/suspend", token=operator_token)
    assert suspended.status == 200
    reply = _register(stack, fresh_tenant.code, invitation["code"])
    assert reply.status == 422
    assert reply.json()["errors"] == [{"field": "invitation_code", "message": "invitation is not valid"}]


def test_a_registered_email_is_409_and_uses_nothing(stack: LocalStack, acme: TenantFixture) -> None:
    invitation = _invite(stack, acme)
    reply = _register(stack, acme.code, invitation["code"], acme.admin_email)
    assert reply.status == 409
    assert reply.json()["type"] == "/problems/conflict"
    assert _stored(acme.id, invitation["code"]).uses == 0
    # The address is compared without regard to case
    assert _register(stack, acme.code, invitation["code"], acme.admin_email.upper()).status == 409


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"password": "short1"}, "password"),
        ({"password": "no-digits-at-all"}, "password"),
        ({"password": ""}, "password"),
        ({"email": "not-an-email"}, "email"),
        ({"email": None}, "email"),
        ({"name": ""}, "name"),
        ({"tenant": "Not A Code!"}, "tenant"),
        ({"invitation_code": ""}, "invitation_code"),
        ({"role_ids": ["01ARZ3NDEKTSV4RRFFQ69G5FAV"]}, "role_ids"),
    ],
)
def test_bad_registrations_are_422_naming_the_field(
    stack: LocalStack, acme: TenantFixture, change: dict[str, Any], field: str
) -> None:
    invitation = _invite(stack, acme)
    marker = uuid.uuid4().hex[:8]
    body = {
        "tenant": acme.code,
        "invitation_code": invitation["code"],
        "email": f"{marker}@acme.example",
        "name": "N",
        "password": PASSWORD,
        **change,
    }
    reply = stack.request("POST", "/api/public/register", json_body=body)
    assert reply.status == 422, reply.body
    assert reply.content_type == "application/problem+json"
    assert field in [e["field"] for e in reply.json()["errors"]]
    assert _accounts(acme.id, marker) == []
    assert _stored(acme.id, invitation["code"]).uses == 0
