"""Menus: a tree of items bound to permissions, moved and deleted safely; the caller's visible menu."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from riveredge import keys
from riveredge.db.models import OperationLogEntry
from riveredge.scope import Scope, use_scope

from local_stack.stack import LocalStack
from tests.integration.accounts import make_user, seed_role
from tests.integration.conftest import InProcess, TenantFixture
from tests.support import dynamodb_calls, problem_without_request_id

MISSING_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def _role(tenant_id: str, permissions: list[str]) -> str:
    """A role granting `permissions`, stored with its role-index entry as the application stores roles."""
    return seed_role(tenant_id, permissions)


def _user(stack: LocalStack, tenant: TenantFixture, permissions: list[str]) -> dict[str, Any]:
    return make_user(stack, tenant.id, tenant.code, [_role(tenant.id, permissions)])


def _create(stack: LocalStack, token: str, **fields: Any) -> dict[str, Any]:
    body = {"name": f"Item {uuid.uuid4().hex[:6]}", "type": "directory", **fields}
    reply = stack.request("POST", "/api/menus", token=token, json_body=body)
    assert reply.status == 201, reply.body
    return reply.json()  # type: ignore[no-any-return]


def _tree(stack: LocalStack, token: str, path: str = "/api/menus") -> list[dict[str, Any]]:
    reply = stack.request("GET", path, token=token)
    assert reply.status == 200, reply.body
    return reply.json()["items"]  # type: ignore[no-any-return]


def _shape(nodes: list[dict[str, Any]], only: set[str] | None = None) -> list[Any]:
    """(name, children...) of each node; at the top, only the nodes whose id is in `only`."""
    return [(n["name"], _shape(n["children"])) for n in nodes if only is None or n["id"] in only]


def _count(nodes: list[dict[str, Any]]) -> int:
    return sum(1 + _count(n["children"]) for n in nodes)


def _stored(tenant_id: str, menu_id: str) -> Any:
    from menus.repository import MenuItem

    scope = Scope(tenant_id)
    key = keys.menu(scope, menu_id)
    with use_scope(scope):
        return MenuItem.get(key.pk, key.sk, consistent_read=True)


def _read_stale_once(monkeypatch: pytest.MonkeyPatch, stale: Any) -> None:
    """The next read of a menu item answers `stale` (what a racing request read a moment ago)."""
    from menus import repository

    original, pending = repository.get, [stale]
    monkeypatch.setattr(
        repository, "get", lambda scope, menu_id: pending.pop() if pending else original(scope, menu_id)
    )


# -- create and read --------------------------------------------------------------------
def test_create_and_read_a_menu_item(stack: LocalStack, acme: TenantFixture) -> None:
    # Given a directory
    parent = _create(stack, acme.admin_token, name="System", icon="setting", order=3)
    # When the admin creates a menu under it
    body = {
        "name": "Users",
        "path": "/system/users",
        "icon": "user",
        "type": "menu",
        "parent_id": parent["id"],
        "order": 1,
        "permission": "user.view",
    }
    reply = stack.request("POST", "/api/menus", token=acme.admin_token, json_body=body)
    # Then it answers 201 with the item, where it lives, and the defaults filled in
    assert reply.status == 201
    item = reply.json()
    assert reply.headers["Location"] == f"/api/menus/{item['id']}"
    assert {k: item[k] for k in body} == body
    assert item["visible"] is True and item["status"] == "active" and item["version"] == 1
    assert set(item) >= {"id", "created_at", "updated_at", "version", "created_by"}
    # And reading it answers the same object
    assert stack.request("GET", f"/api/menus/{item['id']}", token=acme.admin_token).json() == item
    # And its materialised path runs from the directory down to it
    assert _stored(acme.id, item["id"]).tree_path == f"/{parent['id']}/{item['id']}/"


def test_the_creation_is_in_the_operation_log(stack: LocalStack, acme: TenantFixture) -> None:
    item = _create(stack, acme.admin_token, name="Logged")
    scope = Scope(acme.id)
    with use_scope(scope):
        entries = [e for e in OperationLogEntry.query(keys.collection(scope, "OPLOG")) if e.resource_id == item["id"]]
    assert [(e.action, e.resource, e.before, e.after["name"]) for e in entries] == [
        ("menu.create", "menu", None, "Logged")
    ]


def test_menu_tree_is_nested_ordered_and_read_in_one_query(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    # Given items created out of order
    system = _create(stack, token, name="System", order=2)
    reports = _create(stack, token, name="Reports", order=1)
    _create(stack, token, name="Audit", order=1)
    roles_menu = _create(stack, token, name="Roles", type="menu", path="/system/roles", parent_id=system["id"], order=2)
    _create(stack, token, name="Users", type="menu", path="/system/users", parent_id=system["id"], order=1)
    _create(stack, token, name="Add role", type="button", parent_id=roles_menu["id"], permission="role.create")
    _create(stack, token, name="Sales", type="menu", path="/reports/sales", parent_id=reports["id"])
    # When the admin reads the tree
    with dynamodb_calls() as calls:
        items = _tree(stack, token)
    # Then it is nested, siblings by order then name
    assert _shape(items) == [
        ("Audit", []),
        ("Reports", [("Sales", [])]),
        ("System", [("Users", []), ("Roles", [("Add role", [])])]),
    ]
    assert items[2]["children"][1]["children"][0]["permission"] == "role.create"
    # And the function read it with one Query (the authorizer's one BatchGetItem aside)
    assert calls["Query"] == 1
    assert sum(calls.values()) - calls["BatchGetItem"] == 1


# -- the caller's menu --------------------------------------------------------------------
@pytest.fixture(scope="module")
def visible_tree(stack: LocalStack, acme: TenantFixture) -> dict[str, Any]:
    """A tree in acme where permissions, hidden items and empty directories all matter."""
    token = acme.admin_token
    home = _create(stack, token, name="Home", type="menu", path="/home", order=0)
    system = _create(stack, token, name="System", order=1)
    users = _create(
        stack, token, name="Users", type="menu", path="/system/users", parent_id=system["id"], permission="user.view"
    )
    _create(stack, token, name="Add user", type="button", parent_id=users["id"], permission="user.create")
    _create(
        stack, token, name="Roles", type="menu", path="/system/roles", parent_id=system["id"], permission="role.view"
    )
    _create(
        stack,
        token,
        name="Sessions",
        type="menu",
        path="/system/sessions",
        parent_id=system["id"],
        permission="session.view",
        status="disabled",
    )
    reports = _create(stack, token, name="Reports", order=0)
    _create(
        stack,
        token,
        name="Sales",
        type="menu",
        path="/reports/sales",
        parent_id=reports["id"],
        permission="report.view",
    )
    hidden = _create(stack, token, name="Labs", order=5, visible=False)
    _create(stack, token, name="Secret", type="menu", path="/labs/secret", parent_id=hidden["id"])
    return {"top": {home["id"], system["id"], reports["id"], hidden["id"]}}


def test_my_menu_differs_by_permission(stack: LocalStack, acme: TenantFixture, visible_tree: dict[str, Any]) -> None:
    top = visible_tree["top"]
    # Given two users: one manages users (manage implies user.view and user.create), one reads roles
    user_manager = _user(stack, acme, ["user.manage"])
    role_reader = _user(stack, acme, ["role.view"])
    # When each reads their menu
    mine_1 = _tree(stack, user_manager["token"], "/api/menus/mine")
    mine_2 = _tree(stack, role_reader["token"], "/api/menus/mine")
    # Then each sees the items their permissions show; Reports (nothing visible inside) is dropped for both,
    # the hidden Labs hides its Secret, and the disabled Sessions shows to nobody
    assert _shape(mine_1, top) == [("Home", []), ("System", [("Users", [("Add user", [])])])]
    assert _shape(mine_2, top) == [("Home", []), ("System", [("Roles", [])])]
    # And the super admin sees everything except hidden and disabled items
    mine_admin = _tree(stack, acme.admin_token, "/api/menus/mine")
    assert _shape(mine_admin, top) == [
        ("Home", []),
        ("Reports", [("Sales", [])]),
        ("System", [("Roles", []), ("Users", [("Add user", [])])]),  # same order: by name
    ]
    # And an item of the caller's menu carries what a front end needs, nothing of the bookkeeping
    home = next(n for n in mine_1 if n["name"] == "Home")
    assert home == {
        "id": home["id"],
        "name": "Home",
        "path": "/home",
        "icon": None,
        "type": "menu",
        "permission": None,
        "children": [],
    }


def test_my_menu_is_one_query_and_needs_only_a_signed_in_caller(
    stack: LocalStack, acme: TenantFixture, visible_tree: dict[str, Any]
) -> None:
    # Given a user without any menu permission
    nobody = _user(stack, acme, [])
    # When they read their menu
    with dynamodb_calls() as calls:
        items = _tree(stack, nobody["token"], "/api/menus/mine")
    # Then they see the items that need no permission, read with one Query
    assert _shape(items, visible_tree["top"]) == [("Home", [])]
    assert calls["Query"] == 1
    # And without a token there is no menu
    assert stack.request("GET", "/api/menus/mine").status == 401


# -- update and move ----------------------------------------------------------------------
def test_update_changes_the_fields_sent(stack: LocalStack, acme: TenantFixture) -> None:
    item = _create(stack, acme.admin_token, name="Old", type="menu", path="/old", icon="file", permission="user.view")
    reply = stack.request(
        "PUT",
        f"/api/menus/{item['id']}",
        token=acme.admin_token,
        json_body={"name": "New", "permission": None, "visible": False, "version": item["version"]},
    )
    assert reply.status == 200, reply.body
    updated = reply.json()
    assert (updated["name"], updated["permission"], updated["visible"], updated["version"]) == ("New", None, False, 2)
    assert (updated["path"], updated["icon"]) == ("/old", "file")  # not sent: unchanged
    assert stack.request("GET", f"/api/menus/{item['id']}", token=acme.admin_token).json() == updated


def test_a_stale_version_is_412_and_changes_nothing(stack: LocalStack, acme: TenantFixture) -> None:
    item = _create(stack, acme.admin_token, name="Versioned")
    path = f"/api/menus/{item['id']}"
    first = stack.request("PUT", path, token=acme.admin_token, json_body={"name": "First", "version": 1})
    assert first.status == 200
    stale = stack.request("PUT", path, token=acme.admin_token, json_body={"name": "Second", "version": 1})
    assert stale.status == 412
    assert stale.json()["type"] == "/problems/stale-version"
    assert stack.request("GET", path, token=acme.admin_token).json()["name"] == "First"


def test_moving_an_item_moves_its_subtree(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    # Given System > Users > Add user, and an empty Admin directory
    system = _create(stack, token, name="System")
    users = _create(stack, token, name="Users", type="menu", path="/users", parent_id=system["id"])
    button = _create(stack, token, name="Add user", type="button", parent_id=users["id"])
    admin = _create(stack, token, name="Admin")
    # When Users moves under Admin
    reply = stack.request(
        "PUT",
        f"/api/menus/{users['id']}",
        token=token,
        json_body={"parent_id": admin["id"], "version": users["version"]},
    )
    # Then it answers the moved item, and the tree shows the subtree under Admin
    assert reply.status == 200, reply.body
    assert reply.json()["parent_id"] == admin["id"]
    assert _shape(_tree(stack, token)) == [("Admin", [("Users", [("Add user", [])])]), ("System", [])]
    # And the materialised paths of the item and its descendant follow
    assert _stored(fresh_tenant.id, users["id"]).tree_path == f"/{admin['id']}/{users['id']}/"
    assert _stored(fresh_tenant.id, button["id"]).tree_path == f"/{admin['id']}/{users['id']}/{button['id']}/"
    # And the old parent, now childless, can be deleted; the new one cannot
    assert stack.request("DELETE", f"/api/menus/{admin['id']}", token=token).status == 409
    assert stack.request("DELETE", f"/api/menus/{system['id']}", token=token).status == 204


def test_moving_to_the_top_level(stack: LocalStack, acme: TenantFixture) -> None:
    parent = _create(stack, acme.admin_token, name="Parent")
    child = _create(stack, acme.admin_token, name="Child", parent_id=parent["id"])
    reply = stack.request(
        "PUT", f"/api/menus/{child['id']}", token=acme.admin_token, json_body={"parent_id": None, "version": 1}
    )
    assert reply.status == 200 and reply.json()["parent_id"] is None
    assert _stored(acme.id, child["id"]).tree_path == f"/{child['id']}/"


@pytest.mark.parametrize("target", ["itself", "child", "grandchild"])
def test_a_move_under_itself_or_a_descendant_is_422(stack: LocalStack, acme: TenantFixture, target: str) -> None:
    # Given A > B > C
    a = _create(stack, acme.admin_token, name="A")
    b = _create(stack, acme.admin_token, name="B", parent_id=a["id"])
    c = _create(stack, acme.admin_token, name="C", parent_id=b["id"])
    new_parent = {"itself": a, "child": b, "grandchild": c}[target]
    # When A is moved under itself or a descendant
    reply = stack.request(
        "PUT", f"/api/menus/{a['id']}", token=acme.admin_token, json_body={"parent_id": new_parent["id"], "version": 1}
    )
    # Then it is refused naming parent_id, and nothing moved
    assert reply.status == 422
    assert [e["field"] for e in reply.json()["errors"]] == ["parent_id"]
    assert _stored(acme.id, a["id"]).tree_path == f"/{a['id']}/"
    assert _stored(acme.id, c["id"]).tree_path == f"/{a['id']}/{b['id']}/{c['id']}/"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "button"}, "type"),  # it has children
        ({"type": "directory"}, "type"),  # it has buttons
        ({"parent_id": MISSING_ID}, "parent_id"),
        ({"path": None}, "path"),  # a menu needs its route
        ({"name": None}, "name"),
        ({"order": -1}, "order"),
        ({"menu_id": "x"}, "menu_id"),
        ({"version": None}, "version"),
    ],
)
def test_bad_updates_are_422_naming_the_field(
    stack: LocalStack, acme: TenantFixture, change: dict[str, Any], field: str
) -> None:
    menu = _create(stack, acme.admin_token, name="Menu", type="menu", path="/m")
    _create(stack, acme.admin_token, name="Button", type="button", parent_id=menu["id"])
    current = stack.request("GET", f"/api/menus/{menu['id']}", token=acme.admin_token).json()
    body = {"version": current["version"], **change}
    reply = stack.request("PUT", f"/api/menus/{menu['id']}", token=acme.admin_token, json_body=body)
    assert reply.status == 422, reply.body
    assert reply.content_type == "application/problem+json"
    assert field in [e["field"] for e in reply.json()["errors"]]
    assert stack.request("GET", f"/api/menus/{menu['id']}", token=acme.admin_token).json() == current


# -- delete -------------------------------------------------------------------------------
def test_an_item_with_children_cannot_be_deleted(stack: LocalStack, acme: TenantFixture) -> None:
    parent = _create(stack, acme.admin_token, name="Parent")
    child = _create(stack, acme.admin_token, name="Child", parent_id=parent["id"])
    # While it has a child: 409, and it stays
    refused = stack.request("DELETE", f"/api/menus/{parent['id']}", token=acme.admin_token)
    assert refused.status == 409
    assert refused.json()["type"] == "/problems/conflict"
    assert stack.request("GET", f"/api/menus/{parent['id']}", token=acme.admin_token).status == 200
    # Once the child is gone, it can go too
    assert stack.request("DELETE", f"/api/menus/{child['id']}", token=acme.admin_token).status == 204
    assert stack.request("GET", f"/api/menus/{child['id']}", token=acme.admin_token).status == 404
    deleted = stack.request("DELETE", f"/api/menus/{parent['id']}", token=acme.admin_token)
    assert deleted.status == 204 and deleted.body == b""
    assert stack.request("GET", f"/api/menus/{parent['id']}", token=acme.admin_token).status == 404
    scope = Scope(acme.id)
    with use_scope(scope):
        actions = [
            e.action for e in OperationLogEntry.query(keys.collection(scope, "OPLOG")) if e.resource_id == parent["id"]
        ]
    assert actions == ["menu.create", "menu.delete"]


def test_a_delete_that_raced_a_new_child_is_refused(
    stack: LocalStack, acme: TenantFixture, monkeypatch: pytest.MonkeyPatch, in_process: InProcess
) -> None:
    in_process("MenusFunction")  # the test patches its modules
    # Given an item read while it had no children
    parent = _create(stack, acme.admin_token, name="Racy")
    stale = _stored(acme.id, parent["id"])
    # And a child added right after that read
    _create(stack, acme.admin_token, name="Late child", parent_id=parent["id"])
    _read_stale_once(monkeypatch, stale)
    # When the delete goes ahead on what it read
    reply = stack.request("DELETE", f"/api/menus/{parent['id']}", token=acme.admin_token)
    # Then it is refused and the item is still there, with its child
    assert reply.status == 409
    assert _stored(acme.id, parent["id"]).child_count == 1


# -- bad input ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "type": "page"}, "type"),
        ({"name": "", "type": "directory"}, "name"),
        ({"name": "X" * 51, "type": "directory"}, "name"),
        ({"type": "directory"}, "name"),
        ({"name": "X", "type": "directory", "permission": "User View"}, "permission"),
        ({"name": "X", "type": "directory", "permission": "user"}, "permission"),
        ({"name": "X", "type": "directory", "permission": "*"}, "permission"),
        ({"name": "X", "type": "menu", "path": "system/users"}, "path"),
        ({"name": "X", "type": "menu"}, "path"),
        ({"name": "X", "type": "directory", "order": -1}, "order"),
        ({"name": "X", "type": "directory", "visible": "sometimes"}, "visible"),
        ({"name": "X", "type": "directory", "status": "gone"}, "status"),
        ({"name": "X", "type": "directory", "id": MISSING_ID}, "id"),
        ({"name": "X", "type": "directory", "parent_id": MISSING_ID}, "parent_id"),
        ({"name": "X", "type": "directory", "parent_id": "not-an-id"}, "parent_id"),
        ({"name": "X", "type": "button"}, "parent_id"),  # a button belongs to a menu
    ],
)
def test_bad_menu_bodies_are_422_naming_the_field(
    stack: LocalStack, acme: TenantFixture, body: dict[str, Any], field: str
) -> None:
    before = _count(_tree(stack, acme.admin_token))
    reply = stack.request("POST", "/api/menus", token=acme.admin_token, json_body=body)
    assert reply.status == 422, reply.body
    assert reply.content_type == "application/problem+json"
    assert field in [e["field"] for e in reply.json()["errors"]]
    assert _count(_tree(stack, acme.admin_token)) == before


def test_a_button_cannot_hold_children(stack: LocalStack, acme: TenantFixture) -> None:
    menu = _create(stack, acme.admin_token, name="Menu", type="menu", path="/m")
    button = _create(stack, acme.admin_token, name="Button", type="button", parent_id=menu["id"])
    reply = stack.request(
        "POST",
        "/api/menus",
        token=acme.admin_token,
        json_body={"name": "X", "type": "menu", "path": "/x", "parent_id": button["id"]},
    )
    assert reply.status == 422
    assert [e["field"] for e in reply.json()["errors"]] == ["parent_id"]


def test_an_unknown_id_is_404(stack: LocalStack, acme: TenantFixture) -> None:
    for method, body in [("GET", None), ("PUT", {"name": "X", "version": 1}), ("DELETE", None)]:
        for menu_id in (MISSING_ID, "mine-but-not-an-id"):
            reply = stack.request(method, f"/api/menus/{menu_id}", token=acme.admin_token, json_body=body)
            assert reply.status == 404, (method, menu_id)
            assert reply.json()["type"] == "/problems/not-found"


# -- tenancy and permissions --------------------------------------------------------------
def test_another_tenants_menu_item_is_404(stack: LocalStack, acme: TenantFixture, globex: TenantFixture) -> None:
    # Given an item of acme's, and globex's admin who knows its id
    item = _create(stack, acme.admin_token, name="Acme only", type="menu", path="/acme")
    path = f"/api/menus/{item['id']}"
    # When globex's admin reads, changes or deletes it
    answers = {
        "GET": stack.request("GET", path, token=globex.admin_token),
        "PUT": stack.request("PUT", path, token=globex.admin_token, json_body={"name": "Mine", "version": 1}),
        "DELETE": stack.request("DELETE", path, token=globex.admin_token),
    }
    # Then it does not exist for them: the same answer as an id that exists nowhere
    nowhere = stack.request("GET", f"/api/menus/{MISSING_ID}", token=globex.admin_token)
    for method, reply in answers.items():
        assert reply.status == 404, method
        assert problem_without_request_id(reply.json()) == problem_without_request_id(nowhere.json())
    # And it is not a parent they can use, nor in their trees
    child = stack.request(
        "POST",
        "/api/menus",
        token=globex.admin_token,
        json_body={"name": "X", "type": "directory", "parent_id": item["id"]},
    )
    assert child.status == 422 and child.json()["errors"][0]["field"] == "parent_id"
    ids = {n["id"] for n in _tree(stack, globex.admin_token)} | {
        n["id"] for n in _tree(stack, globex.admin_token, "/api/menus/mine")
    }
    assert item["id"] not in ids
    # And acme's item is untouched
    assert stack.request("GET", path, token=acme.admin_token).json() == item


def test_each_route_needs_its_permission(stack: LocalStack, acme: TenantFixture) -> None:
    item = _create(stack, acme.admin_token, name="Guarded")
    path = f"/api/menus/{item['id']}"
    # Given a reader (menu.view) and an editor (menu.edit only)
    reader = _user(stack, acme, ["menu.view"])
    editor = _user(stack, acme, ["menu.edit"])
    # Then the reader reads but cannot create, change or delete
    assert stack.request("GET", "/api/menus", token=reader["token"]).status == 200
    assert stack.request("GET", path, token=reader["token"]).status == 200
    for method, target, body in [
        ("POST", "/api/menus", {"name": "X", "type": "directory"}),
        ("PUT", path, {"name": "X", "version": 1}),
        ("DELETE", path, None),
    ]:
        reply = stack.request(method, target, token=reader["token"], json_body=body)
        assert reply.status == 403, (method, target)
        assert reply.json()["type"] == "/problems/forbidden"
    # And the editor changes but cannot read the tree or delete
    assert stack.request("PUT", path, token=editor["token"], json_body={"name": "Y", "version": 1}).status == 200
    assert stack.request("GET", "/api/menus", token=editor["token"]).status == 403
    assert stack.request("GET", path, token=editor["token"]).status == 403
    assert stack.request("DELETE", path, token=editor["token"]).status == 403
    assert stack.request("GET", path, token=acme.admin_token).json()["name"] == "Y"


def test_an_edit_that_raced_another_edit_is_412(
    stack: LocalStack, acme: TenantFixture, monkeypatch: pytest.MonkeyPatch, in_process: InProcess
) -> None:
    in_process("MenusFunction")  # the test patches its modules
    # Given an item read at version 1, then changed by someone else
    item = _create(stack, acme.admin_token, name="Contested")
    stale = _stored(acme.id, item["id"])
    path = f"/api/menus/{item['id']}"
    assert stack.request("PUT", path, token=acme.admin_token, json_body={"name": "Theirs", "version": 1}).status == 200
    _read_stale_once(monkeypatch, stale)
    # When an edit goes ahead on what it read at version 1
    reply = stack.request("PUT", path, token=acme.admin_token, json_body={"name": "Mine", "version": 1})
    # Then the write itself is refused as stale, and the other edit stands
    assert reply.status == 412
    assert stack.request("GET", path, token=acme.admin_token).json()["name"] == "Theirs"


def test_an_edit_keeps_the_children_counted_meanwhile(
    stack: LocalStack, acme: TenantFixture, monkeypatch: pytest.MonkeyPatch, in_process: InProcess
) -> None:
    in_process("MenusFunction")  # the test patches its modules
    # Given a parent read before a child was added (adding a child leaves the parent's version as it is)
    parent = _create(stack, acme.admin_token, name="Busy")
    stale = _stored(acme.id, parent["id"])
    _create(stack, acme.admin_token, name="New child", parent_id=parent["id"])
    assert _stored(acme.id, parent["id"]).version == parent["version"]
    _read_stale_once(monkeypatch, stale)
    # When an edit saves what it read
    path = f"/api/menus/{parent['id']}"
    reply = stack.request("PUT", path, token=acme.admin_token, json_body={"name": "Renamed", "version": 1})
    # Then it is refused (read again and retry), and the count of children is intact
    assert reply.status == 409
    stored = _stored(acme.id, parent["id"])
    assert (stored.name, stored.child_count) == ("Busy", 1)
