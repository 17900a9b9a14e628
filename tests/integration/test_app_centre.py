"""App centre: apps switched on and off per tenant, tiers that do not offer some, routes and menus gated."""

from __future__ import annotations

from typing import Any

from riveredge import apps, keys
from riveredge.db.models import OperationLogEntry, OutboxEvent
from riveredge.scope import Scope, use_scope

from local_stack.stack import LocalStack
from tests.integration.accounts import make_user, seed_role
from tests.integration.conftest import Account, TenantFixture
from tests.support import PASSWORD, dynamodb_calls


def _apps(stack: LocalStack, token: str) -> dict[str, dict[str, Any]]:
    reply = stack.request("GET", "/api/apps", token=token)
    assert reply.status == 200, reply.body
    return {app["code"]: app for app in reply.json()["items"]}


def _switch(stack: LocalStack, token: str, code: str, on: bool) -> Any:
    return stack.request("POST", f"/api/apps/{code}/{'enable' if on else 'disable'}", token=token)


def _menu(stack: LocalStack, token: str, name: str, path: str, permission: str | None = None) -> None:
    body = {"name": name, "type": "menu", "path": path, "permission": permission}
    reply = stack.request("POST", "/api/menus", token=token, json_body=body)
    assert reply.status == 201, reply.body


def _mine(stack: LocalStack, token: str) -> set[str]:
    reply = stack.request("GET", "/api/menus/mine", token=token)
    assert reply.status == 200, reply.body

    def names(nodes: list[dict[str, Any]]) -> set[str]:
        return {n["name"] for n in nodes} | {name for n in nodes for name in names(n.get("children", []))}

    return names(reply.json()["items"])


def test_the_app_centre_lists_every_app_with_its_state(stack: LocalStack, acme: TenantFixture) -> None:
    apps = _apps(stack, acme.admin_token)
    assert {"accounts", "access", "organisation", "dictionaries", "site", "apps", "integrations"} <= set(apps)
    organisation = apps["organisation"]
    assert organisation["route"] == "/system/organisation"
    assert organisation["enabled"] and organisation["offered"] and not organisation["core"]
    assert apps["accounts"]["core"] and apps["accounts"]["enabled"]
    one = stack.request("GET", "/api/apps/organisation", token=acme.admin_token)
    assert one.status == 200 and one.json() == organisation
    missing = stack.request("GET", "/api/apps/no-such-app", token=acme.admin_token)
    assert missing.status == 404 and missing.json()["type"] == "/problems/not-found"


def test_a_switched_off_app_refuses_its_routes_and_hides_its_menus(
    stack: LocalStack, fresh_tenant: TenantFixture, globex: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    _menu(stack, token, "Departments", "/system/organisation/departments", "department.view")
    _menu(stack, token, "Roles", "/system/access/roles", "role.view")
    department = stack.request("POST", "/api/departments", token=token, json_body={"name": "Ops", "code": "OPS"})
    assert department.status == 201
    assert {"Departments", "Roles"} <= _mine(stack, token)

    # When the admin switches the organisation app off
    off = _switch(stack, token, "organisation", False)
    assert off.status == 200 and off.json()["enabled"] is False

    # Then its routes answer 403 naming the app, reads and writes alike, and nothing is written
    for method, path, body in [
        ("GET", "/api/departments", None),
        ("GET", f"/api/departments/{department.json()['id']}", None),
        ("POST", "/api/departments", {"name": "Sales", "code": "SALES"}),
        ("GET", "/api/positions", None),
    ]:
        refused = stack.request(method, path, token=token, json_body=body)
        assert refused.status == 403, (path, refused.body)
        assert refused.json()["type"] == "/problems/app-disabled"
        assert "'Organisation' (organisation)" in refused.json()["detail"]
    # And its menus are gone from the caller's menu, the others stay
    assert "Departments" not in _mine(stack, token) and "Roles" in _mine(stack, token)
    # And work off the request path sees it too
    with use_scope(Scope(fresh_tenant.id)) as scope:
        assert not apps.enabled_for(scope, "organisation")
        assert apps.enabled_for(scope, "access")
    # And another tenant is not touched
    assert stack.request("GET", "/api/departments", token=globex.admin_token).status == 200
    assert _apps(stack, globex.admin_token)["organisation"]["enabled"] is True

    # When it is switched on again, everything is back (the department was kept)
    on = _switch(stack, token, "organisation", True)
    assert on.status == 200 and on.json()["enabled"] is True
    back = stack.request("GET", f"/api/departments/{department.json()['id']}", token=token)
    assert back.status == 200 and back.json()["name"] == "Ops"
    assert "Departments" in _mine(stack, token)


def test_each_switch_is_logged_and_announced_once(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    assert _switch(stack, token, "dictionaries", False).status == 200
    # Switching off an app that is off changes nothing: no second entry, no second event
    assert _switch(stack, token, "dictionaries", False).json()["enabled"] is False
    assert _switch(stack, token, "dictionaries", True).status == 200
    scope = Scope(fresh_tenant.id)
    with use_scope(scope):
        entries = [e for e in OperationLogEntry.query(keys.oplog(scope, "").pk) if e.resource == "app"]
        events = [e for e in OutboxEvent.query(keys.outbox(scope, "").pk) if e.detail_type.startswith("app.")]
    assert [(e.action, e.resource_id, e.before, e.after) for e in entries] == [
        (
            "app.disable",
            "dictionaries",
            {"code": "dictionaries", "enabled": True},
            {"code": "dictionaries", "enabled": False},
        ),
        (
            "app.enable",
            "dictionaries",
            {"code": "dictionaries", "enabled": False},
            {"code": "dictionaries", "enabled": True},
        ),
    ]
    assert [e.detail_type for e in events] == ["app.disabled", "app.enabled"]


def test_core_apps_cannot_be_switched_off(stack: LocalStack, acme: TenantFixture) -> None:
    for code in ("accounts", "access", "site", "apps"):
        refused = _switch(stack, acme.admin_token, code, False)
        assert refused.status == 409, refused.body
        assert "core app" in refused.json()["detail"]
    assert stack.request("GET", "/api/users", token=acme.admin_token).status == 200


def _tenant_of_tier(stack: LocalStack, operator: Account, code: str, tier: str) -> TenantFixture:
    email = f"admin@{code}.example"
    body = {"code": code, "name": code, "tier": tier, "admin": {"email": email, "name": "Admin", "password": PASSWORD}}
    reply = stack.request("POST", "/api/tenants", token=operator.token, json_body=body)
    assert reply.status == 201, reply.body
    tenant = reply.json()
    assert stack.wait_for_execution(stack.onboarding_execution_arn(tenant["id"]))["status"] == "SUCCEEDED"
    return TenantFixture(tenant["id"], code, email, Account(stack, code, email))


def test_a_tier_that_does_not_offer_an_app_keeps_it_off(stack: LocalStack, operator: Account) -> None:
    import uuid

    free = _tenant_of_tier(stack, operator, f"free-{uuid.uuid4().hex[:6]}", "free")
    apps = _apps(stack, free.admin_token)
    assert apps["integrations"]["offered"] is False and apps["integrations"]["enabled"] is False
    assert apps["organisation"]["enabled"] is True
    refused = _switch(stack, free.admin_token, "integrations", True)
    assert refused.status == 409 and "free tier" in refused.json()["detail"]
    # And the app's routes answer 403 naming it
    gated = stack.request("GET", "/api/integrations", token=free.admin_token)
    assert gated.status == 403 and gated.json()["type"] == "/problems/app-disabled"


def test_the_app_check_costs_no_dynamodb_call(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    stack.settle()
    with dynamodb_calls() as served:
        assert stack.request("GET", "/api/departments", token=token).status == 200
    assert _switch(stack, token, "monitoring", False).status == 200
    stack.settle()  # the switch's event relayed: nothing else runs while counting
    with dynamodb_calls() as still_served:
        assert stack.request("GET", "/api/departments", token=token).status == 200
    assert sum(still_served.values()) == sum(served.values())
    assert _switch(stack, token, "organisation", False).status == 200
    stack.settle()
    with dynamodb_calls() as refused:
        assert stack.request("GET", "/api/departments", token=token).status == 403
    # The authorizer's one BatchGetItem, and nothing else: the refusal reads nothing
    assert dict(refused) == {"BatchGetItem": 1}


def test_app_centre_permissions(stack: LocalStack, acme: TenantFixture) -> None:
    nobody = make_user(stack, acme.id, acme.code, [seed_role(acme.id, ["user.view"])])
    viewer = make_user(stack, acme.id, acme.code, [seed_role(acme.id, ["app.view"])])
    assert stack.request("GET", "/api/apps", token=nobody["token"]).status == 403
    assert stack.request("GET", "/api/apps/organisation", token=nobody["token"]).status == 403
    assert stack.request("GET", "/api/apps", token=viewer["token"]).status == 200
    for token in (nobody["token"], viewer["token"]):
        assert _switch(stack, token, "organisation", False).status == 403
        assert _switch(stack, token, "organisation", True).status == 403
    assert stack.request("GET", "/api/apps").status == 401
    assert _apps(stack, acme.admin_token)["organisation"]["enabled"] is True
