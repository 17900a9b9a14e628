"""Departments (a tree with a materialised path) and positions: CRUD, moves, data scopes, isolation."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from riveredge import keys, passwords
from riveredge.clock import new_id
from riveredge.db.accounts import create_user
from riveredge.db.changes import System
from riveredge.db.models import Department, DepartmentCode, OperationLogEntry, User
from riveredge.scope import Scope, use_scope

from local_stack import calls
from local_stack.stack import LocalStack, Reply
from tests.integration.accounts import seed_role
from tests.integration.conftest import InProcess, TenantFixture, login
from tests.support import PASSWORD, dynamodb_calls

MISSING = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


# -- helpers --------------------------------------------------------------------------
def _code(prefix: str = "D") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _department(stack: LocalStack, token: str, name: str = "Dept", **body: Any) -> dict[str, Any]:
    reply = stack.request("POST", "/api/departments", token=token, json_body={"name": name, "code": _code(), **body})
    assert reply.status == 201, reply.body
    return dict(reply.json())


def _position(stack: LocalStack, token: str, department_id: str, **body: Any) -> dict[str, Any]:
    sent = {"department_id": department_id, "name": "Engineer", "code": _code("P"), **body}
    reply = stack.request("POST", "/api/positions", token=token, json_body=sent)
    assert reply.status == 201, reply.body
    return dict(reply.json())


def _role(tenant: TenantFixture, permissions: set[str], data_scope: str = "all") -> str:
    """A role of `tenant` granting `permissions`, stored with its role-index entry as the application does."""
    return seed_role(tenant.id, permissions, data_scope=data_scope)


def _account(
    stack: LocalStack,
    tenant: TenantFixture,
    role_id: str | None = None,
    department: dict[str, Any] | None = None,
) -> tuple[str, str]:
    """An active account of `tenant` (in `department`, holding `role_id`); answers its id and access token."""
    email = f"u-{uuid.uuid4().hex[:10]}@{tenant.code}.example"
    with use_scope(Scope(tenant.id)) as scope:
        user = User.new(
            scope,
            new_id(),
            email,
            name="Member",
            status="active",
            role_ids={role_id} if role_id else None,
            department_id=department["id"] if department else None,
            department_path=department["path"] if department else None,
        )
        create_user(System(scope, "test"), user, passwords.hash_password(PASSWORD))
    signed_in = login(stack, tenant.code, email)
    return user.user_id, str(signed_in.json()["access_token"]) if signed_in.status == 200 else ""


def _stored_user(tenant: TenantFixture, user_id: str) -> User:
    with use_scope(Scope(tenant.id)) as scope:
        key = keys.user(scope, user_id)
        return User.get(key.pk, key.sk, consistent_read=True)


def _member_paths(tenant: TenantFixture, user_ids: list[str]) -> list[str | None]:
    """The department path of each account, read in batches."""
    with use_scope(Scope(tenant.id)) as scope:
        found = {u.user_id: u.department_path for u in User.batch_get([tuple(keys.user(scope, i)) for i in user_ids])}
    return [found[i] for i in user_ids]


@contextmanager
def _transaction_sizes() -> Iterator[list[int]]:
    """The number of items of every TransactWriteItems sent inside the block."""
    sizes: list[int] = []
    with calls.recording() as recorded:
        yield sizes
    sizes.extend(recorded.sizes("TransactWriteItems"))


def _stored_department(tenant: TenantFixture, department_id: str) -> Department:
    with use_scope(Scope(tenant.id)) as scope:
        key = keys.department(scope, department_id)
        return Department.get(key.pk, key.sk, consistent_read=True)


def _oplog(tenant: TenantFixture, resource_id: str) -> list[OperationLogEntry]:
    with use_scope(Scope(tenant.id)) as scope:
        entries = OperationLogEntry.query(keys.collection(scope, "OPLOG"), consistent_read=True)
        return [e for e in entries if isinstance(e, OperationLogEntry) and e.resource_id == resource_id]


def _names(nodes: list[dict[str, Any]]) -> list[Any]:
    """A tree as nested [name, [children...]] pairs, to compare shapes."""
    return [[n["name"], _names(n["children"])] for n in nodes]


def _problem_fields(reply: Reply) -> list[str]:
    return [e["field"] for e in reply.json().get("errors", [])]


# -- departments: create --------------------------------------------------------------
def test_a_department_is_created_with_its_materialised_path(stack: LocalStack, acme: TenantFixture) -> None:
    # Given a root department
    root = _department(stack, acme.admin_token, "Head office", order=3)
    # When a department is created under it
    reply = stack.request(
        "POST",
        "/api/departments",
        token=acme.admin_token,
        json_body={"name": "Sales", "code": _code(), "parent_id": root["id"]},
    )
    # Then it answers 201 with the department, its path below its parent's, and where it lives
    assert reply.status == 201
    child = reply.json()
    assert reply.headers["Location"] == f"/api/departments/{child['id']}"
    assert root["path"] == f"/{root['id']}/" and root["depth"] == 1 and root["parent_id"] is None
    assert child["path"] == f"/{root['id']}/{child['id']}/" and child["depth"] == 2
    assert child["parent_id"] == root["id"] and child["status"] == "active" and child["version"] == 1
    # And the stored item is on the tree index under that path
    stored = _stored_department(acme, child["id"])
    assert (stored.gsi1sk, stored.path, stored.created_by) == (child["path"], child["path"], child["created_by"])


def test_the_creation_is_in_the_operation_log(stack: LocalStack, acme: TenantFixture) -> None:
    department = _department(stack, acme.admin_token, "Logged")
    entries = _oplog(acme, department["id"])
    assert [(e.action, e.resource, e.before, e.after["name"]) for e in entries] == [
        ("department.create", "department", None, "Logged")
    ]


def test_a_taken_code_is_a_conflict_whatever_its_case(stack: LocalStack, acme: TenantFixture) -> None:
    # Given a department with a code
    code = _code("Dup")
    first = stack.request("POST", "/api/departments", token=acme.admin_token, json_body={"name": "A", "code": code})
    assert first.status == 201
    # When another department takes the same code in another case
    again = stack.request(
        "POST", "/api/departments", token=acme.admin_token, json_body={"name": "B", "code": code.upper()}
    )
    # Then it is a 409 and only the first department exists
    assert again.status == 409 and again.json()["type"] == "/problems/conflict"
    with use_scope(Scope(acme.id)) as scope:
        claim = DepartmentCode.get(*keys.department_code(scope, code), consistent_read=True)
    assert claim.department_id == first.json()["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "X1"}, "name"),
        ({"name": "", "code": "X1"}, "name"),
        ({"name": "A"}, "code"),
        ({"name": "A", "code": "has space"}, "code"),
        ({"name": "A", "code": "X1", "parent_id": "not-an-id"}, "parent_id"),
        ({"name": "A", "code": "X1", "order": -1}, "order"),
        ({"name": "A", "code": "X1", "status": "archived"}, "status"),
        ({"name": "A", "code": "X1", "leader_id": 42}, "leader_id"),
        ({"name": "A", "code": "X1", "path": "/x/"}, "path"),
        ({"name": "A", "code": "X1", "version": 3}, "version"),
    ],
)
def test_bad_department_bodies_are_422_naming_the_field(
    stack: LocalStack, acme: TenantFixture, body: dict[str, Any], field: str
) -> None:
    reply = stack.request("POST", "/api/departments", token=acme.admin_token, json_body=body)
    assert reply.status == 422
    assert reply.content_type == "application/problem+json"
    assert field in _problem_fields(reply)


def test_an_unknown_parent_is_422_naming_parent_id(stack: LocalStack, acme: TenantFixture) -> None:
    reply = stack.request(
        "POST",
        "/api/departments",
        token=acme.admin_token,
        json_body={"name": "A", "code": _code(), "parent_id": MISSING},
    )
    assert reply.status == 422
    assert reply.json()["errors"] == [{"field": "parent_id", "message": "no such department"}]


def test_the_leader_must_be_an_account_of_the_organisation(
    stack: LocalStack, acme: TenantFixture, globex: TenantFixture
) -> None:
    # Given an account of acme and one of globex
    acme_user, _ = _account(stack, acme)
    globex_user, _ = _account(stack, globex)
    # When acme's admin names globex's account (or nobody's id) as a leader, it is a 422 naming leader_id
    for stranger in (globex_user, MISSING):
        reply = stack.request(
            "POST",
            "/api/departments",
            token=acme.admin_token,
            json_body={"name": "Led", "code": _code(), "leader_id": stranger},
        )
        assert reply.status == 422 and _problem_fields(reply) == ["leader_id"]
    # And an account of acme is accepted
    led = _department(stack, acme.admin_token, "Led", leader_id=acme_user)
    assert led["leader_id"] == acme_user


# -- departments: read ----------------------------------------------------------------
def test_the_tree_is_nested_and_ordered_in_one_query(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    # Given two roots and children whose order and names differ
    north = _department(stack, token, "North", order=2)
    south = _department(stack, token, "South", order=1)
    _department(stack, token, "Zeta", parent_id=north["id"], order=0)
    beta = _department(stack, token, "Beta", parent_id=north["id"], order=5)
    _department(stack, token, "Alpha", parent_id=north["id"], order=5)
    _department(stack, token, "Leaf", parent_id=beta["id"])
    # When the admin reads the tree
    with dynamodb_calls() as calls:
        reply = stack.request("GET", "/api/departments", token=token)
    # Then it is nested, siblings by order then name, every node accessible
    assert reply.status == 200
    items = reply.json()["items"]
    assert _names(items) == [
        ["South", []],
        ["North", [["Zeta", []], ["Alpha", []], ["Beta", [["Leaf", []]]]]],
    ]
    assert items[0]["id"] == south["id"] and all(n["accessible"] for n in items)
    # And the departments came from one Query
    assert calls["Query"] == 1


def test_a_subtree_is_one_query_below_its_root(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    root = _department(stack, token, "Root")
    branch = _department(stack, token, "Branch", parent_id=root["id"])
    _department(stack, token, "Twig", parent_id=branch["id"])
    _department(stack, token, "Other", parent_id=root["id"])
    with dynamodb_calls() as calls:
        reply = stack.request("GET", f"/api/departments?root_id={branch['id']}", token=token)
    assert reply.status == 200
    assert _names(reply.json()["items"]) == [["Branch", [["Twig", []]]]]
    assert calls["Query"] == 1


@pytest.mark.parametrize("root_id", [MISSING, "not-an-id"])
def test_an_unknown_subtree_root_is_refused(stack: LocalStack, acme: TenantFixture, root_id: str) -> None:
    reply = stack.request("GET", f"/api/departments?root_id={root_id}", token=acme.admin_token)
    assert reply.status == (404 if root_id == MISSING else 400)
    assert reply.content_type == "application/problem+json"


def test_a_department_is_read_by_id(stack: LocalStack, acme: TenantFixture) -> None:
    created = _department(stack, acme.admin_token, "Readable")
    reply = stack.request("GET", f"/api/departments/{created['id']}", token=acme.admin_token)
    assert reply.status == 200 and reply.json() == created
    for missing in (MISSING, "nonsense"):
        assert stack.request("GET", f"/api/departments/{missing}", token=acme.admin_token).status == 404


# -- departments: update --------------------------------------------------------------
def test_a_department_is_renamed_and_recoded_and_its_old_code_freed(stack: LocalStack, acme: TenantFixture) -> None:
    # Given a department
    department = _department(stack, acme.admin_token, "Old name")
    old_code, new_code = department["code"], _code()
    # When it is renamed, recoded and reordered with the version read
    reply = stack.request(
        "PUT",
        f"/api/departments/{department['id']}",
        token=acme.admin_token,
        json_body={"name": "New name", "code": new_code, "order": 7, "version": department["version"]},
    )
    # Then it answers the changed department at the next version
    assert reply.status == 200
    changed = reply.json()
    assert (changed["name"], changed["code"], changed["order"], changed["version"]) == ("New name", new_code, 7, 2)
    # And the old code is free again, the new one taken
    reused = stack.request(
        "POST", "/api/departments", token=acme.admin_token, json_body={"name": "Reuse", "code": old_code}
    )
    assert reused.status == 201
    taken = stack.request(
        "POST", "/api/departments", token=acme.admin_token, json_body={"name": "Taken", "code": new_code}
    )
    assert taken.status == 409
    # And the change is in the operation log with before and after
    update = next(e for e in _oplog(acme, department["id"]) if e.action == "department.update")
    assert (update.before["name"], update.after["name"]) == ("Old name", "New name")


def test_the_leader_can_be_set_and_removed(stack: LocalStack, acme: TenantFixture) -> None:
    leader, _ = _account(stack, acme)
    department = _department(stack, acme.admin_token)
    path = f"/api/departments/{department['id']}"
    bad = stack.request("PUT", path, token=acme.admin_token, json_body={"leader_id": MISSING, "version": 1})
    assert bad.status == 422 and _problem_fields(bad) == ["leader_id"]
    led = stack.request("PUT", path, token=acme.admin_token, json_body={"leader_id": leader, "version": 1})
    assert led.status == 200 and led.json()["leader_id"] == leader
    unled = stack.request("PUT", path, token=acme.admin_token, json_body={"leader_id": None, "version": 2})
    assert unled.status == 200 and unled.json()["leader_id"] is None


def test_a_code_taken_by_another_department_is_a_conflict_on_update(stack: LocalStack, acme: TenantFixture) -> None:
    first = _department(stack, acme.admin_token)
    second = _department(stack, acme.admin_token)
    reply = stack.request(
        "PUT",
        f"/api/departments/{second['id']}",
        token=acme.admin_token,
        json_body={"code": first["code"].lower(), "version": second["version"]},
    )
    assert reply.status == 409
    assert _stored_department(acme, second["id"]).code == second["code"]


def test_a_stale_version_is_412_and_nothing_changes(stack: LocalStack, acme: TenantFixture) -> None:
    department = _department(stack, acme.admin_token, "Kept")
    path = f"/api/departments/{department['id']}"
    assert stack.request("PUT", path, token=acme.admin_token, json_body={"order": 1, "version": 1}).status == 200
    # When a client still holding version 1 renames it
    stale = stack.request("PUT", path, token=acme.admin_token, json_body={"name": "Lost", "version": 1})
    # Then it is a 412 and the name is unchanged
    assert stale.status == 412 and stale.json()["type"] == "/problems/stale-version"
    assert _stored_department(acme, department["id"]).name == "Kept"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "No version"}, "version"),
        ({"parent_id": None, "version": 1}, "parent_id"),
        ({"version": -1}, "version"),
    ],
)
def test_bad_update_bodies_are_422(stack: LocalStack, acme: TenantFixture, body: dict[str, Any], field: str) -> None:
    department = _department(stack, acme.admin_token)
    reply = stack.request("PUT", f"/api/departments/{department['id']}", token=acme.admin_token, json_body=body)
    assert reply.status == 422 and field in _problem_fields(reply)


# -- departments: move ----------------------------------------------------------------
def test_a_move_carries_the_subtree_and_its_members(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    # Given A/B/C, a separate root D, and members in B and C
    a = _department(stack, token, "A")
    b = _department(stack, token, "B", parent_id=a["id"])
    c = _department(stack, token, "C", parent_id=b["id"])
    d = _department(stack, token, "D")
    in_b, _ = _account(stack, fresh_tenant, department=b)
    in_c, _ = _account(stack, fresh_tenant, department=c)
    # When B moves under D
    reply = stack.request(
        "POST",
        f"/api/departments/{b['id']}/move",
        token=token,
        json_body={"parent_id": d["id"], "order": 4, "version": b["version"]},
    )
    # Then B answers with its new parent, path, depth and order
    assert reply.status == 200
    moved = reply.json()
    assert (moved["parent_id"], moved["path"], moved["depth"], moved["order"]) == (
        d["id"],
        f"/{d['id']}/{b['id']}/",
        2,
        4,
    )
    # And C is below B's new path, its depth unchanged
    c_now = stack.request("GET", f"/api/departments/{c['id']}", token=token).json()
    assert (c_now["path"], c_now["depth"]) == (f"/{d['id']}/{b['id']}/{c['id']}/", 3)
    # And the members carry their department's new path, on the tree index too
    for user_id, department_id in ((in_b, b["id"]), (in_c, c["id"])):
        user = _stored_user(fresh_tenant, user_id)
        expected = stack.request("GET", f"/api/departments/{department_id}", token=token).json()["path"]
        assert user.department_path == expected and user.gsi2sk == f"{expected}#{user_id}"
    # And the tree shows the new shape; the move is in the operation log
    tree = stack.request("GET", "/api/departments", token=token).json()["items"]
    assert _names(tree) == [["A", []], ["D", [["B", [["C", []]]]]]]
    entry = next(e for e in _oplog(fresh_tenant, b["id"]) if e.action == "department.move")
    assert (entry.before["parent_id"], entry.after["parent_id"]) == (a["id"], d["id"])


def test_a_move_to_the_top_level(stack: LocalStack, acme: TenantFixture) -> None:
    parent = _department(stack, acme.admin_token)
    child = _department(stack, acme.admin_token, parent_id=parent["id"])
    reply = stack.request(
        "POST",
        f"/api/departments/{child['id']}/move",
        token=acme.admin_token,
        json_body={"parent_id": None, "version": child["version"]},
    )
    assert reply.status == 200
    assert (reply.json()["parent_id"], reply.json()["path"], reply.json()["depth"]) == (None, f"/{child['id']}/", 1)


def test_a_move_under_itself_or_its_descendant_is_refused(stack: LocalStack, acme: TenantFixture) -> None:
    top = _department(stack, acme.admin_token)
    middle = _department(stack, acme.admin_token, parent_id=top["id"])
    bottom = _department(stack, acme.admin_token, parent_id=middle["id"])
    for target in (top["id"], middle["id"], bottom["id"]):
        reply = stack.request(
            "POST",
            f"/api/departments/{top['id']}/move",
            token=acme.admin_token,
            json_body={"parent_id": target, "version": top["version"]},
        )
        assert reply.status == 422, target
        assert _problem_fields(reply) == ["parent_id"]
    assert _stored_department(acme, top["id"]).path == top["path"]


def test_a_move_with_a_stale_version_is_412(stack: LocalStack, acme: TenantFixture) -> None:
    department = _department(stack, acme.admin_token)
    target = _department(stack, acme.admin_token)
    reply = stack.request(
        "POST",
        f"/api/departments/{department['id']}/move",
        token=acme.admin_token,
        json_body={"parent_id": target["id"], "version": department["version"] + 1},
    )
    assert reply.status == 412
    assert _stored_department(acme, department["id"]).parent_id is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"version": 1}, "parent_id"),
        ({"parent_id": None}, "version"),
        ({"parent_id": MISSING, "version": 1}, "parent_id"),
        ({"parent_id": "x", "version": 1}, "parent_id"),
        ({"parent_id": None, "version": 1, "order": "first"}, "order"),
    ],
)
def test_bad_move_bodies_are_422(stack: LocalStack, acme: TenantFixture, body: dict[str, Any], field: str) -> None:
    department = _department(stack, acme.admin_token)
    reply = stack.request("POST", f"/api/departments/{department['id']}/move", token=acme.admin_token, json_body=body)
    assert reply.status == 422 and field in _problem_fields(reply)


def _members(tenant: TenantFixture, department: dict[str, Any], count: int) -> list[str]:
    """`count` accounts in `department`, written in batches (no credentials: nobody signs in as them)."""
    ids = [new_id() for _ in range(count)]
    with use_scope(Scope(tenant.id)) as scope, User.batch_write() as batch:
        for user_id in ids:
            batch.save(
                User.new(
                    scope,
                    user_id,
                    f"{user_id.lower()}@{tenant.code}.example",
                    name="Member",
                    status="active",
                    department_id=department["id"],
                    department_path=department["path"],
                )
            )
    return ids


def _move(stack: LocalStack, token: str, department: dict[str, Any], parent_id: str | None, version: int) -> Reply:
    return stack.request(
        "POST",
        f"/api/departments/{department['id']}/move",
        token=token,
        json_body={"parent_id": parent_id, "version": version},
    )


def test_a_large_subtree_moves_in_transactions_of_at_most_100_items(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    # Given a department with a child and 150 members, and a new parent
    big = _department(stack, token, "Big")
    child = _department(stack, token, "Child", parent_id=big["id"])
    members = _members(fresh_tenant, big, 120) + _members(fresh_tenant, child, 30)
    target = _department(stack, token, "Target")
    # When it moves
    with _transaction_sizes() as sizes, dynamodb_calls() as calls:
        reply = _move(stack, token, big, target["id"], big["version"])
    # Then every member carries the new path
    assert reply.status == 200
    new_path = f"{target['path']}{big['id']}/"
    paths = _member_paths(fresh_tenant, members)
    assert paths[:120] == [new_path] * 120 and paths[120:] == [f"{new_path}{child['id']}/"] * 30
    # And it took several transactions, none of more than 100 items, and one gsi2 Query per page of members
    assert len(sizes) >= 3 and max(sizes) <= 100 and sum(sizes) >= 150 + 2
    assert calls["Query"] <= 2 + 2  # the subtree, the first page, then one Query per page of 100 members
    assert _stored_department(fresh_tenant, big["id"]).moving_to is None


def test_an_interrupted_move_is_finished_by_repeating_it(
    stack: LocalStack, fresh_tenant: TenantFixture, monkeypatch: pytest.MonkeyPatch, in_process: InProcess
) -> None:
    in_process("OrganisationFunction")  # the test patches its modules
    from organisation import repository

    token = fresh_tenant.admin_token
    # Given a department with 25 members, a new parent, transactions of 10 items (100 in production, the
    # same code path), and a move that stops after its first batch of members (a timeout, say)
    big = _department(stack, token, "Big")
    members = _members(fresh_tenant, big, 25)
    target = _department(stack, token, "Target")
    other = _department(stack, token, "Other")
    save_in_batches: Callable[[Any, Any], None] = repository._save_in_batches
    batches = []

    def stop_on_the_second_page(actor: Any, items: Any) -> None:
        batches.append(len(items))
        if len(batches) == 3:  # the descendants, the first page of members, then the stop
            raise RuntimeError("the function timed out")
        save_in_batches(actor, items)

    monkeypatch.setattr(repository, "ATOMIC_ITEMS", 10)
    monkeypatch.setattr(repository, "_save_in_batches", stop_on_the_second_page)
    assert _move(stack, token, big, target["id"], big["version"]).status == 500
    monkeypatch.setattr(repository, "_save_in_batches", save_in_batches)
    # Then the department records where it is going, and the subtree is part moved
    new_path = f"{target['path']}{big['id']}/"
    pending = _stored_department(fresh_tenant, big["id"])
    assert (pending.moving_to, pending.path) == (new_path, big["path"])
    paths = _member_paths(fresh_tenant, members)
    assert paths.count(new_path) == 10 and paths.count(big["path"]) == 15
    # And it can be neither moved elsewhere nor deleted meanwhile
    assert _move(stack, token, big, other["id"], int(pending.version)).status == 409
    assert stack.request("DELETE", f"/api/departments/{big['id']}", token=token).status == 409
    # When the same move is repeated (with the version the client had)
    reply = _move(stack, token, big, target["id"], big["version"])
    # Then it finishes: every member and the department are at the new path, nothing is pending
    assert reply.status == 200 and reply.json()["path"] == new_path
    assert set(_member_paths(fresh_tenant, members)) == {new_path}
    assert _stored_department(fresh_tenant, big["id"]).moving_to is None


# -- departments: delete --------------------------------------------------------------
def test_an_empty_department_is_deleted(stack: LocalStack, acme: TenantFixture) -> None:
    department = _department(stack, acme.admin_token)
    reply = stack.request(
        "DELETE", f"/api/departments/{department['id']}", token=acme.admin_token, headers={"If-Match": '"1"'}
    )
    assert reply.status == 204 and reply.body == b""
    assert stack.request("GET", f"/api/departments/{department['id']}", token=acme.admin_token).status == 404
    # And its code is free again, and the deletion is logged
    reuse = stack.request(
        "POST", "/api/departments", token=acme.admin_token, json_body={"name": "Again", "code": department["code"]}
    )
    assert reuse.status == 201
    assert [e.action for e in _oplog(acme, department["id"])] == ["department.create", "department.delete"]


def test_a_department_with_children_positions_or_members_is_not_deleted(stack: LocalStack, acme: TenantFixture) -> None:
    with_child = _department(stack, acme.admin_token)
    _department(stack, acme.admin_token, parent_id=with_child["id"])
    with_position = _department(stack, acme.admin_token)
    _position(stack, acme.admin_token, with_position["id"])
    with_member = _department(stack, acme.admin_token)
    _account(stack, acme, department=with_member)
    for department, why in ((with_child, "sub-departments"), (with_position, "positions"), (with_member, "members")):
        reply = stack.request("DELETE", f"/api/departments/{department['id']}", token=acme.admin_token)
        assert reply.status == 409
        assert why in reply.json()["detail"]
        assert _stored_department(acme, department["id"]).name == department["name"]


def test_a_delete_with_a_stale_version_is_412(stack: LocalStack, acme: TenantFixture) -> None:
    department = _department(stack, acme.admin_token)
    path = f"/api/departments/{department['id']}"
    assert stack.request("DELETE", f"{path}?version=2", token=acme.admin_token).status == 412
    assert stack.request("DELETE", path, token=acme.admin_token, headers={"If-Match": 'W/"7"'}).status == 412
    assert stack.request("DELETE", f"{path}?version=-1", token=acme.admin_token).status == 400
    assert stack.request("GET", path, token=acme.admin_token).status == 200


# -- positions ------------------------------------------------------------------------
def test_a_position_is_created_in_a_department(stack: LocalStack, acme: TenantFixture) -> None:
    department = _department(stack, acme.admin_token)
    code = _code("P")
    reply = stack.request(
        "POST",
        "/api/positions",
        token=acme.admin_token,
        json_body={"department_id": department["id"], "name": "Analyst", "code": code, "description": "Numbers"},
    )
    assert reply.status == 201
    position = reply.json()
    assert reply.headers["Location"] == f"/api/positions/{position['id']}"
    assert (position["department_id"], position["name"], position["code"], position["version"]) == (
        department["id"],
        "Analyst",
        code,
        1,
    )
    assert [e.action for e in _oplog(acme, position["id"])] == ["position.create"]
    duplicate = stack.request(
        "POST",
        "/api/positions",
        token=acme.admin_token,
        json_body={"department_id": department["id"], "name": "Other", "code": code.lower()},
    )
    assert duplicate.status == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "A", "code": "P1"}, "department_id"),
        ({"department_id": MISSING, "name": "A", "code": "P1"}, "department_id"),
        ({"department_id": "bad", "name": "A", "code": "P1"}, "department_id"),
        ({"department_id": MISSING, "code": "P1"}, "name"),
        ({"department_id": MISSING, "name": "A", "code": "!"}, "code"),
        ({"department_id": MISSING, "name": "A", "code": "P1", "description": "x" * 501}, "description"),
        ({"department_id": MISSING, "name": "A", "code": "P1", "salary": 1}, "salary"),
    ],
)
def test_bad_position_bodies_are_422_naming_the_field(
    stack: LocalStack, acme: TenantFixture, body: dict[str, Any], field: str
) -> None:
    reply = stack.request("POST", "/api/positions", token=acme.admin_token, json_body=body)
    assert reply.status == 422 and field in _problem_fields(reply)


def test_positions_list_by_department_in_pages(stack: LocalStack, acme: TenantFixture) -> None:
    # Given a department with three positions and another with one
    department = _department(stack, acme.admin_token)
    other = _department(stack, acme.admin_token)
    made = [_position(stack, acme.admin_token, department["id"], name=f"P{i}")["id"] for i in range(3)]
    _position(stack, acme.admin_token, other["id"])
    # When they are listed two at a time
    url = f"/api/positions?department_id={department['id']}&limit=2"
    with dynamodb_calls() as calls:
        first = stack.request("GET", url, token=acme.admin_token).json()
    second = stack.request("GET", f"{url}&cursor={first['next_cursor']}", token=acme.admin_token).json()
    # Then the pages hold exactly that department's positions, oldest first, one Query a page
    assert [p["id"] for p in first["items"] + second["items"]] == made
    assert second.get("next_cursor") is None
    assert calls["Query"] == 1
    # And a cursor of another filter, or an unknown department, is a 400
    elsewhere = f"/api/positions?department_id={other['id']}&limit=2&cursor={first['next_cursor']}"
    assert stack.request("GET", elsewhere, token=acme.admin_token).status == 400
    unknown = stack.request("GET", f"/api/positions?department_id={MISSING}", token=acme.admin_token)
    assert unknown.status == 400 and _problem_fields(unknown) == ["department_id"]


def test_every_position_of_the_organisation_is_listed(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    made = [_position(stack, token, _department(stack, token)["id"])["id"] for _ in range(3)]
    reply = stack.request("GET", "/api/positions", token=token)
    assert reply.status == 200 and [p["id"] for p in reply.json()["items"]] == made


def test_a_position_is_read_updated_and_deleted(stack: LocalStack, acme: TenantFixture) -> None:
    department = _department(stack, acme.admin_token)
    elsewhere = _department(stack, acme.admin_token)
    position = _position(stack, acme.admin_token, department["id"], description="Old")
    path = f"/api/positions/{position['id']}"
    assert stack.request("GET", path, token=acme.admin_token).json() == position
    # When it moves to another department, renamed, its description removed
    reply = stack.request(
        "PUT",
        path,
        token=acme.admin_token,
        json_body={"department_id": elsewhere["id"], "name": "Lead", "description": None, "version": 1},
    )
    assert reply.status == 200
    assert (reply.json()["department_id"], reply.json()["name"], reply.json()["description"]) == (
        elsewhere["id"],
        "Lead",
        None,
    )
    # Then it lists under its new department only
    listed = stack.request("GET", f"/api/positions?department_id={elsewhere['id']}", token=acme.admin_token).json()
    assert [p["id"] for p in listed["items"]] == [position["id"]]
    gone = stack.request("GET", f"/api/positions?department_id={department['id']}", token=acme.admin_token).json()
    assert gone["items"] == []
    # And a stale version is a 412, a department that does not exist a 422
    assert stack.request("PUT", path, token=acme.admin_token, json_body={"name": "X", "version": 1}).status == 412
    bad = stack.request("PUT", path, token=acme.admin_token, json_body={"department_id": MISSING, "version": 2})
    assert bad.status == 422 and _problem_fields(bad) == ["department_id"]
    # And it is deleted (a stale version first refused), then gone
    assert stack.request("DELETE", f"{path}?version=1", token=acme.admin_token).status == 412
    assert stack.request("DELETE", f"{path}?version=2", token=acme.admin_token).status == 204
    assert stack.request("GET", path, token=acme.admin_token).status == 404
    assert [e.action for e in _oplog(acme, position["id"])] == ["position.create", "position.update", "position.delete"]


# -- isolation, permissions, data scopes ----------------------------------------------
def test_another_tenants_departments_and_positions_are_404(
    stack: LocalStack, acme: TenantFixture, globex: TenantFixture
) -> None:
    # Given a department and a position of acme
    department = _department(stack, acme.admin_token, "Acme only")
    position = _position(stack, acme.admin_token, department["id"])
    d, p = department["id"], position["id"]
    # When globex's admin reaches for them by id, every route answers as for an id that exists nowhere
    attempts = [
        ("GET", "/api/departments/{}", None),
        ("PUT", "/api/departments/{}", {"name": "Mine", "version": 1}),
        ("POST", "/api/departments/{}/move", {"parent_id": None, "version": 1}),
        ("DELETE", "/api/departments/{}", None),
        ("GET", "/api/departments?root_id={}", None),
    ]
    for method, template, body in attempts:
        theirs = stack.request(method, template.format(d), token=globex.admin_token, json_body=body)
        nowhere = stack.request(method, template.format(MISSING), token=globex.admin_token, json_body=body)
        assert theirs.status == nowhere.status == 404, (method, template)
        assert theirs.json()["detail"] == nowhere.json()["detail"]
    for method, template, body in [
        ("GET", "/api/positions/{}", None),
        ("PUT", "/api/positions/{}", {"name": "Mine", "version": 1}),
        ("DELETE", "/api/positions/{}", None),
    ]:
        theirs = stack.request(method, template.format(p), token=globex.admin_token, json_body=body)
        nowhere = stack.request(method, template.format(MISSING), token=globex.admin_token, json_body=body)
        assert theirs.status == nowhere.status == 404, (method, template)
        assert theirs.json()["detail"] == nowhere.json()["detail"]
    # And acme's department is not a parent, a position's department or a list filter for globex
    child = stack.request(
        "POST", "/api/departments", token=globex.admin_token, json_body={"name": "X", "code": _code(), "parent_id": d}
    )
    assert child.status == 422 and _problem_fields(child) == ["parent_id"]
    placed = stack.request(
        "POST", "/api/positions", token=globex.admin_token, json_body={"department_id": d, "name": "X", "code": "X"}
    )
    assert placed.status == 422 and _problem_fields(placed) == ["department_id"]
    assert stack.request("GET", f"/api/positions?department_id={d}", token=globex.admin_token).status == 400
    # And nothing of acme shows in globex's tree or position list
    tree = stack.request("GET", "/api/departments", token=globex.admin_token).body.decode()
    listed = stack.request("GET", "/api/positions?limit=200", token=globex.admin_token).body.decode()
    assert d not in tree and p not in listed
    # And acme's objects are unchanged
    assert _stored_department(acme, d).name == "Acme only"


ROUTES = [
    ("POST", "/api/departments", {"name": "X", "code": "X"}),
    ("GET", "/api/departments", None),
    ("GET", "/api/departments/{d}", None),
    ("PUT", "/api/departments/{d}", {"name": "X", "version": 1}),
    ("POST", "/api/departments/{d}/move", {"parent_id": None, "version": 1}),
    ("DELETE", "/api/departments/{d}", None),
    ("POST", "/api/positions", {"department_id": "{d}", "name": "X", "code": "X"}),
    ("GET", "/api/positions", None),
    ("GET", "/api/positions/{p}", None),
    ("PUT", "/api/positions/{p}", {"name": "X", "version": 1}),
    ("DELETE", "/api/positions/{p}", None),
]


def test_every_route_is_403_without_its_permission(stack: LocalStack, acme: TenantFixture) -> None:
    # Given a department and a position, and an account whose role grants nothing of the organisation
    department = _department(stack, acme.admin_token)
    position = _position(stack, acme.admin_token, department["id"])
    _, token = _account(stack, acme, _role(acme, {"menu.view", "user.view"}))

    def fill(text: str) -> str:
        return text.replace("{d}", department["id"]).replace("{p}", position["id"])

    for method, path, body in ROUTES:
        sent = {k: fill(v) if isinstance(v, str) else v for k, v in body.items()} if body else None
        reply = stack.request(method, fill(path), token=token, json_body=sent)
        assert reply.status == 403, (method, path)
        assert reply.json()["type"] == "/problems/forbidden"
    # And nothing changed
    assert _stored_department(acme, department["id"]).version == 1


def test_view_permission_alone_reads_but_does_not_write(stack: LocalStack, acme: TenantFixture) -> None:
    department = _department(stack, acme.admin_token)
    _, token = _account(stack, acme, _role(acme, {"department.view"}))
    assert stack.request("GET", f"/api/departments/{department['id']}", token=token).status == 200
    renamed = stack.request(
        "PUT", f"/api/departments/{department['id']}", token=token, json_body={"name": "X", "version": 1}
    )
    assert renamed.status == 403


def test_dept_and_children_admin_sees_exactly_their_subtree(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    admin = fresh_tenant.admin_token
    # Given Head/Sales/East, Head/Support and a second root Labs, each with a position
    head = _department(stack, admin, "Head")
    sales = _department(stack, admin, "Sales", parent_id=head["id"])
    east = _department(stack, admin, "East", parent_id=sales["id"], leader_id=None)
    support = _department(stack, admin, "Support", parent_id=head["id"])
    labs = _department(stack, admin, "Labs")
    positions = {d["name"]: _position(stack, admin, d["id"]) for d in (head, sales, east, support, labs)}
    # And a department admin of Sales whose role reaches Sales and below
    role = _role(fresh_tenant, {"department.manage", "position.manage"}, "dept_and_children")
    _, token = _account(stack, fresh_tenant, role, department=sales)
    # When they read the tree
    with dynamodb_calls() as calls:
        tree = stack.request("GET", "/api/departments", token=token).json()["items"]
    # Then they see Sales and East, placed under Head, which is marked not accessible; nothing else
    assert _names(tree) == [["Head", [["Sales", [["East", []]]]]]]
    assert tree[0]["accessible"] is False and tree[0]["leader_id"] is None
    assert tree[0]["children"][0]["accessible"] is True
    assert calls["Query"] == 1
    # And they read their subtree, but not what is outside it (404 as for a missing id)
    for inside in (sales, east):
        assert stack.request("GET", f"/api/departments/{inside['id']}", token=token).status == 200
    for outside in (head, support, labs):
        assert stack.request("GET", f"/api/departments/{outside['id']}", token=token).status == 404
        assert stack.request("GET", f"/api/departments?root_id={outside['id']}", token=token).status == 404
    # And the positions they see are those of their subtree
    listed = stack.request("GET", "/api/positions", token=token).json()["items"]
    assert {p["id"] for p in listed} == {positions["Sales"]["id"], positions["East"]["id"]}
    assert stack.request("GET", f"/api/positions/{positions['Labs']['id']}", token=token).status == 404
    # And they cannot create or move anything outside it, nor at the top level
    outside_parent = stack.request(
        "POST", "/api/departments", token=token, json_body={"name": "X", "code": _code(), "parent_id": labs["id"]}
    )
    assert outside_parent.status == 422 and _problem_fields(outside_parent) == ["parent_id"]
    top = stack.request("POST", "/api/departments", token=token, json_body={"name": "X", "code": _code()})
    assert top.status == 403 and _problem_fields(top) == ["parent_id"]
    escape = _move(stack, token, east, support["id"], east["version"])
    assert escape.status == 422 and _problem_fields(escape) == ["parent_id"]
    # But inside it they create freely
    inside = stack.request(
        "POST", "/api/departments", token=token, json_body={"name": "West", "code": _code(), "parent_id": sales["id"]}
    )
    assert inside.status == 201
