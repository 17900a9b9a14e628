"""What the router applies to every route of a kind, checked on every such route the API has.

The routes come from the merged OpenAPI: every creating POST (201 or 202, signed in) must honour
``Idempotency-Key`` and every update (PUT, DELETE, and the POSTs that change one object) must honour
``If-Match``. Each such route needs a recipe below that builds a real request for it; a new route
without one fails `test_every_route_of_a_kind_has_a_recipe`, so none goes unchecked.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import requests
from riveredge import keys
from riveredge.db.models import OperationLogEntry
from riveredge.scope import Scope, platform_scope, use_scope

from local_stack.stack import LocalStack, Reply
from tests.integration.accounts import make_user
from tests.integration.conftest import Account, TenantFixture, make_tenant
from tests.integration.test_accounts_excel import _upload as put_workbook
from tests.integration.test_accounts_excel import _workbook

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and method in {"get", "post", "put", "delete", "patch"}
    ]


def _creating(method: str, operation: dict[str, Any]) -> bool:
    answers = set(operation.get("responses", {}))
    return method == "POST" and bool({"201", "202"} & answers) and operation.get("x-permission") != "public"


def _header(operation: dict[str, Any], name: str) -> bool:
    return any(p.get("in") == "header" and p.get("name") == name for p in operation.get("parameters", []))


@dataclass
class Call:
    """One request of a recipe, and how to read back what it would change."""

    method: str
    path: str
    token: str
    body: Any = None
    version: int | None = None  # the version the object is at (for If-Match)
    read: Callable[[], Any] | None = None  # the object as a client sees it
    settle: Callable[[Reply], None] | None = None  # wait for what the answer started (a workflow)
    variant: dict[str, Any] | None = None  # another valid body (a reused Idempotency-Key must refuse it)

    def other_body(self) -> Any:
        changes = self.variant or ({"name": "Another"} if isinstance(self.body, dict) and "name" in self.body else {})
        return {**(self.body or {}), **changes}

    headers: dict[str, str] = field(default_factory=dict)

    def send(self, stack: LocalStack, **headers: str) -> Reply:
        return stack.request(self.method, self.path, token=self.token, json_body=self.body, headers=headers)


@dataclass
class World:
    """A tenant of this module's own with one object of each kind, made through the API."""

    stack: LocalStack
    tenant: TenantFixture
    operator: Account

    @property
    def token(self) -> str:
        return self.tenant.admin_token

    def post(self, path: str, body: Any, token: str | None = None) -> dict[str, Any]:
        reply = self.stack.request("POST", path, token=token or self.token, json_body=body)
        assert reply.status in (200, 201), (path, reply.status, reply.body)
        return dict(reply.json())

    def get(self, path: str, token: str | None = None) -> Any:
        reply = self.stack.request("GET", path, token=token or self.token)
        assert reply.status == 200, (path, reply.status, reply.body)
        return reply.json()

    def code(self, stem: str) -> str:
        return f"{stem}-{uuid.uuid4().hex[:8]}"

    def department(self) -> dict[str, Any]:
        return self.post("/api/departments", {"name": "Dept", "code": self.code("D")})

    def position(self) -> dict[str, Any]:
        department = self.department()
        return self.post("/api/positions", {"department_id": department["id"], "name": "Pos", "code": self.code("P")})

    def role_name(self) -> str:
        return f"r_{uuid.uuid4().hex[:10]}"

    def role(self) -> dict[str, Any]:
        return self.post("/api/roles", {"name": self.role_name(), "display_name": "Role"})

    def user_role(self) -> str:
        return next(r["id"] for r in self.get("/api/roles?limit=200")["items"] if r["name"] == "user")

    def menu(self) -> dict[str, Any]:
        return self.post("/api/menus", {"name": "Menu", "type": "directory"})

    def user(self) -> dict[str, Any]:
        return self.post("/api/users", {"email": f"{self.code('u')}@ct.example", "name": "Person"})

    def invitation(self) -> dict[str, Any]:
        expires = (datetime.now(UTC) + timedelta(days=7)).isoformat()
        return self.post("/api/invitations", {"expires_at": expires, "role_ids": [self.user_role()]})

    def person(self) -> dict[str, Any]:
        return make_user(self.stack, self.tenant.id, self.tenant.code, [])

    def tenant_of_its_own(self) -> dict[str, Any]:
        made = make_tenant(self.stack, self.operator, self.code("ct"))
        return dict(self.get(f"/api/tenants/{made.id}", token=self.operator.token))


# -- recipes: a real request for each route -------------------------------------------------
def _domain_recipes(kind: str, world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    """The recipes of the domains that keep theirs in `tests/integration/contract_recipes/<domain>.py`: each
    module has `creating(world)` and `versioned(world)`, answering dicts like the two below."""
    import importlib
    import pkgutil

    from tests.integration import contract_recipes

    found: dict[tuple[str, str], Callable[[], Call]] = {}
    for module in sorted(m.name for m in pkgutil.iter_modules(contract_recipes.__path__)):
        recipes = getattr(importlib.import_module(f"{contract_recipes.__name__}.{module}"), kind)(world)
        assert not set(recipes) & set(found), f"{module} repeats a recipe"
        found.update(recipes)
    return found


def _creating_recipes(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    def tenant() -> Call:
        code = world.code("ct")
        admin = {"email": f"admin@{code}.example", "name": "Admin", "password": "Correct-Horse-9-battery"}
        body = {"code": code, "name": "CT", "admin": admin}

        def onboarded(reply: Reply) -> None:
            world.stack.wait_for_execution(world.stack.onboarding_execution_arn(reply.json()["id"]))
            world.stack.settle()

        return Call("POST", "/api/tenants", world.operator.token, body, settle=onboarded)

    def position() -> Call:
        body = {"department_id": world.department()["id"], "name": "Pos", "code": world.code("P")}
        return Call("POST", "/api/positions", world.token, body)

    def workbook() -> Call:
        rows = [[f"{world.code('i')}@ct.example", "Imported", "", "", "", ""]]
        key = put_workbook(world.stack, world.tenant.id, _workbook(rows))
        return Call("POST", "/api/users/imports", world.token, {"key": key}, variant={"dry_run": True})

    def invitation() -> Call:
        expires = (datetime.now(UTC) + timedelta(days=7)).isoformat()
        body = {"expires_at": expires, "max_uses": 2, "role_ids": [world.user_role()]}
        return Call("POST", "/api/invitations", world.token, body, variant={"max_uses": 3})

    return {
        ("POST", "/api/tenants"): tenant,
        ("POST", "/api/users"): lambda: Call(
            "POST", "/api/users", world.token, {"email": f"{world.code('u')}@ct.example", "name": "Person"}
        ),
        ("POST", "/api/roles"): lambda: Call(
            "POST", "/api/roles", world.token, {"name": world.role_name(), "display_name": "Role"}
        ),
        ("POST", "/api/menus"): lambda: Call("POST", "/api/menus", world.token, {"name": "Menu", "type": "directory"}),
        ("POST", "/api/departments"): lambda: Call(
            "POST", "/api/departments", world.token, {"name": "Dept", "code": world.code("D")}
        ),
        ("POST", "/api/positions"): position,
        ("POST", "/api/invitations"): invitation,
        ("POST", "/api/users/imports"): workbook,
        **_domain_recipes("creating", world),
    }


def _versioned_recipes(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    def reader(path: str, token: str | None = None) -> Callable[[], Any]:
        return lambda: world.get(path, token)

    def role(method: str, suffix: str = "") -> Callable[[], Call]:
        def make() -> Call:
            made = world.role()
            path = f"/api/roles/{made['id']}{suffix}"
            body = (
                {"display_name": "Renamed", "data_scope": "self", "version": made["version"]}
                if method == "PUT" and not suffix
                else {"permissions": [], "version": made["version"]}
                if suffix
                else None
            )
            return Call(method, path, world.token, body, made["version"], reader(f"/api/roles/{made['id']}"))

        return make

    def plain(made: Callable[[], dict[str, Any]], base: str, method: str, **fields: Any) -> Callable[[], Call]:
        """An object made through the API, changed (PUT) or deleted at `base`/<id>."""

        def make() -> Call:
            current = made()
            path = f"{base}/{current['id']}"
            body = {"name": "Renamed", **fields, "version": current["version"]} if method == "PUT" else None
            return Call(method, path, world.token, body, current["version"], reader(path))

        return make

    def user_roles() -> Call:
        made = world.user()
        path = f"/api/users/{made['id']}/roles"
        return Call(
            "PUT", path, world.token, {"role_ids": [], "version": made["version"]}, made["version"], reader(path)
        )

    def me(path: str, body: Callable[[dict[str, Any], int], Any]) -> Callable[[], Call]:
        def make() -> Call:
            person = world.person()
            current = world.get(f"/api/me/{path}" if path != "avatar" else "/api/me/profile", person["token"])
            version = int(current["version"])
            return Call(
                "PUT",
                f"/api/me/{path}",
                person["token"],
                body(person, version),
                version,
                reader("/api/me/profile" if path != "preferences" else "/api/me/preferences", person["token"]),
            )

        return make

    def avatar_body(person: dict[str, Any], version: int) -> Any:
        ticket = world.stack.request(
            "POST", "/api/me/avatar/upload", token=person["token"], json_body={"content_type": "image/png"}
        ).json()
        sent = requests.post(ticket["url"], data=ticket["fields"], files={"file": ("a", PNG, "image/png")}, timeout=10)
        assert sent.status_code in (200, 204), sent.text
        return {"key": ticket["key"], "version": version}

    def department(method: str, suffix: str = "") -> Callable[[], Call]:
        def make() -> Call:
            made = world.department()
            path = f"/api/departments/{made['id']}{suffix}"
            body = (
                {"parent_id": None, "order": 3, "version": made["version"]}
                if suffix
                else {"name": "Renamed", "version": made["version"]}
                if method == "PUT"
                else None
            )
            return Call(method, path, world.token, body, made["version"], reader(f"/api/departments/{made['id']}"))

        return make

    def invitation() -> Call:
        made = world.invitation()
        path = f"/api/invitations/{made['code']}"
        return Call("POST", f"{path}/revoke", world.token, None, made["version"], reader(path))

    def tenant(action: str) -> Callable[[], Call]:
        def make() -> Call:
            made = world.tenant_of_its_own()
            path = f"/api/tenants/{made['id']}"
            if action == "resume":  # only a suspended tenant resumes
                reply = world.stack.request("POST", f"{path}/suspend", token=world.operator.token)
                assert reply.status == 200, reply.body
                made = reply.json()
            read = reader(path, world.operator.token)
            return Call("POST", f"{path}/{action}", world.operator.token, None, made["version"], read)

        return make

    return {
        ("PUT", "/api/roles/{role_id}"): role("PUT"),
        ("DELETE", "/api/roles/{role_id}"): role("DELETE"),
        ("PUT", "/api/roles/{role_id}/permissions"): role("PUT", "/permissions"),
        ("PUT", "/api/users/{user_id}/roles"): user_roles,
        ("PUT", "/api/users/{user_id}"): plain(world.user, "/api/users", "PUT", status="active"),
        ("DELETE", "/api/users/{user_id}"): plain(world.user, "/api/users", "DELETE"),
        ("PUT", "/api/me/profile"): me("profile", lambda _, v: {"name": "Renamed", "version": v}),
        ("PUT", "/api/me/avatar"): me("avatar", avatar_body),
        ("PUT", "/api/me/preferences"): me("preferences", lambda _, v: {"theme": "dark", "version": v}),
        ("PUT", "/api/menus/{menu_id}"): plain(world.menu, "/api/menus", "PUT"),
        ("DELETE", "/api/menus/{menu_id}"): plain(world.menu, "/api/menus", "DELETE"),
        ("PUT", "/api/departments/{department_id}"): department("PUT"),
        ("POST", "/api/departments/{department_id}/move"): department("POST", "/move"),
        ("DELETE", "/api/departments/{department_id}"): department("DELETE"),
        ("PUT", "/api/positions/{position_id}"): plain(world.position, "/api/positions", "PUT"),
        ("DELETE", "/api/positions/{position_id}"): plain(world.position, "/api/positions", "DELETE"),
        ("POST", "/api/invitations/{code}/revoke"): invitation,
        ("POST", "/api/tenants/{tenant_id}/suspend"): tenant("suspend"),
        ("POST", "/api/tenants/{tenant_id}/resume"): tenant("resume"),
        ("POST", "/api/tenants/{tenant_id}/retry-onboarding"): tenant("retry-onboarding"),
        **_domain_recipes("versioned", world),
    }


# -- the checks -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def spec(stack: LocalStack) -> dict[str, Any]:
    return stack.openapi()


@pytest.fixture(scope="module")
def world(stack: LocalStack, operator: Account) -> World:
    return World(stack, make_tenant(stack, operator, f"ct-{uuid.uuid4().hex[:8]}"), operator)


def _changes(world: World) -> int:
    """The changes the write path logged for the platform and the module's tenant (each change logs one
    operation-log entry at least; events go with them): a repeat or a stale write must add none."""
    client = boto3.client("dynamodb")
    partitions = [f"{prefix}{kind}" for prefix in ("P#", f"T#{world.tenant.id}#") for kind in ("OPLOG", "OUTBOX")]
    count = 0
    with use_scope(platform_scope().with_tenant(world.tenant.id)):
        for partition in partitions:
            count += _count(client, partition)
    return count


def _count(client: Any, partition: str) -> int:
    count, start = 0, None
    while True:
        page = client.query(
            TableName=OperationLogEntry.Meta.table_name,
            Select="COUNT",
            ConsistentRead=True,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": partition}},
            **({"ExclusiveStartKey": start} if start else {}),
        )
        count += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return count


def test_every_creating_post_and_every_update_documents_its_header(spec: dict[str, Any]) -> None:
    operations = _operations(spec)
    creating = [(m, p) for m, p, o in operations if _creating(m, o)]
    updates = [(m, p) for m, p, o in operations if m in {"PUT", "DELETE", "PATCH"} or o.get("x-versioned")]
    assert creating and updates
    by_route = {(m, p): o for m, p, o in operations}
    assert [
        r for r in creating if not (by_route[r].get("x-idempotent") and _header(by_route[r], "Idempotency-Key"))
    ] == []
    assert [r for r in updates if not (by_route[r].get("x-versioned") and _header(by_route[r], "If-Match"))] == []


def test_every_route_of_a_kind_has_a_recipe(spec: dict[str, Any], world: World) -> None:
    operations = _operations(spec)
    assert {(m, p) for m, p, o in operations if o.get("x-idempotent")} == set(_creating_recipes(world))
    assert {(m, p) for m, p, o in operations if o.get("x-versioned")} == set(_versioned_recipes(world))


def test_every_creating_post_answers_a_repeated_idempotency_key_with_its_first_answer(
    stack: LocalStack, world: World
) -> None:
    failures = []
    for route, recipe in _creating_recipes(world).items():
        call, key = recipe(), uuid.uuid4().hex
        first = call.send(stack, **{"Idempotency-Key": key})
        stack.settle()
        if call.settle is not None and first.status < 300:
            call.settle(first)
        before = _changes(world)
        again = call.send(stack, **{"Idempotency-Key": key})
        stack.settle()
        if first.status not in (200, 201, 202):
            failures.append((route, "first", first.status, first.body[:200]))
        elif (again.status, again.json(), again.headers.get("Location")) != (
            first.status,
            first.json(),
            first.headers.get("Location"),
        ):
            failures.append((route, "the repeat answered differently", again.status, again.body[:200]))
        elif _changes(world) != before:
            failures.append((route, "the repeat changed something", again.status))
        other = call.other_body()
        assert other != call.body, route
        reused = stack.request(
            call.method, call.path, token=call.token, json_body=other, headers={"Idempotency-Key": key}
        )
        if reused.status != 422:
            failures.append((route, "the key reused with another body", reused.status))
    assert failures == [], "\n".join(map(str, failures))


def test_every_update_refuses_a_stale_if_match_and_changes_nothing(stack: LocalStack, world: World) -> None:
    failures = []
    for route, recipe in _versioned_recipes(world).items():
        stack.settle()  # what an earlier recipe started (a file settled ready is then previewed) lands first
        call = recipe()
        assert call.read is not None and call.version is not None
        seen = call.read()
        before = _changes(world)
        stale = call.send(stack, **{"If-Match": f'"{call.version + 7}"'})
        if stale.status != 412 or stale.content_type != "application/problem+json":
            failures.append((route, "stale", stale.status, stale.body[:200]))
        elif _changes(world) != before or call.read() != seen:
            failures.append((route, "a stale If-Match changed something"))
        current = call.send(stack, **{"If-Match": f'"{call.version}"'})
        if current.status == 412 or current.status >= 500:
            failures.append((route, "current", current.status, current.body[:200]))
    assert failures == [], "\n".join(map(str, failures))


def test_each_kind_of_object_is_logged_in_one_shape(stack: LocalStack, world: World) -> None:
    # Given the changes the checks above made (every creating and every updating route, on every kind)
    for recipe in [*_creating_recipes(world).values(), *_versioned_recipes(world).values()]:
        call = recipe()
        assert call.send(stack).status < 500
    stack.settle()
    # Then every operation-log entry of one resource shows the same fields, before and after
    shapes: dict[str, set[frozenset[str]]] = {}
    scope = Scope(world.tenant.id)
    with use_scope(scope):
        for entry in OperationLogEntry.query(keys.collection(scope, "OPLOG")):
            for side in (entry.before, entry.after):
                if side is not None:
                    shapes.setdefault(str(entry.resource), set()).add(frozenset(side))
    assert {"user", "role", "menu", "department", "position", "invitation", "preferences"} <= shapes.keys()
    assert {resource: len(kinds) for resource, kinds in shapes.items()} == dict.fromkeys(shapes, 1), shapes
