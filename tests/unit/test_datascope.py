"""Data scopes combine as a union over roles and their ancestors."""

from __future__ import annotations

from riveredge.authz import role_index
from riveredge.datascope import DataScope

SALES = "/D1/D2/"
ROLES = role_index(
    {
        "everything": {"code": "e", "data_scope": "all"},
        "tree": {"code": "t", "data_scope": "dept_and_children"},
        "dept": {"code": "d", "data_scope": "dept"},
        "mine": {"code": "m", "data_scope": "self"},
        "picked": {"code": "p", "data_scope": "custom", "departments": ["D9", "D8"]},
        "child_of_picked": {"code": "c", "data_scope": "self", "parent_id": "picked"},
    }
)


def _scope(*role_ids: str, department: str | None = "D2", path: str | None = SALES) -> DataScope:
    return DataScope.resolve(ROLES, role_ids, department_id=department, department_path=path)


def test_all_wins_over_everything_else() -> None:
    assert _scope("mine", "everything") == DataScope(all=True)


def test_department_scopes_use_the_callers_department() -> None:
    tree = _scope("tree")
    assert tree.covers(user_id="u", department_id="D3", department_path="/D1/D2/D3/", caller_id="me")
    assert not tree.covers(user_id="u", department_id="D1", department_path="/D1/", caller_id="me")
    dept = _scope("dept")
    assert dept.covers(user_id="u", department_id="D2", department_path=SALES, caller_id="me")
    assert not dept.covers(user_id="u", department_id="D3", department_path="/D1/D2/D3/", caller_id="me")


def test_union_of_custom_and_self_through_inheritance() -> None:
    scope = _scope("child_of_picked")
    assert scope.own and scope.department_ids == {"D9", "D8"}
    assert scope.covers(user_id="me", department_id=None, department_path=None, caller_id="me")
    assert scope.covers(user_id="u", department_id="D9", department_path="/D9/", caller_id="me")
    assert not scope.covers(user_id="u", department_id="D2", department_path=SALES, caller_id="me")


def test_a_department_scope_without_a_department_reaches_only_oneself() -> None:
    assert _scope("tree", department=None, path=None) == DataScope(own=True)


def test_the_scope_survives_the_authorizer_context() -> None:
    scope = _scope("tree", "picked", "mine")
    assert DataScope.from_json(scope.to_json()) == scope
    assert DataScope.from_json("not json") == DataScope(own=True)
    assert DataScope.from_json('{"all":true}') == DataScope(all=True)


def test_the_grant_bound() -> None:
    import pytest
    from riveredge.auth.principal import Principal
    from riveredge.errors import ForbiddenError
    from riveredge.grants import check_roles_grantable, missing_permissions, scope_exceeds

    manager = Principal("01ARZ3NDEKTSV4RRFFQ69G5FAV", "u", "s", frozenset({"user.manage"}), _scope("tree"))
    assert missing_permissions(manager, ["user.create", "user.view"]) == []
    assert missing_permissions(manager, ["role.edit", "*"]) == ["*", "role.edit"]
    assert not scope_exceeds(manager, "dept_and_children")
    assert scope_exceeds(manager, "all")
    assert scope_exceeds(manager, "custom", ["D9"])
    roles = role_index(
        {
            "viewer": {"code": "viewer", "permissions": ["user.view"], "data_scope": "self"},
            "boss": {"code": "boss", "permissions": ["role.manage"], "data_scope": "all"},
        }
    )
    check_roles_grantable(manager, roles, ["viewer"])
    with pytest.raises(ForbiddenError) as refused:
        check_roles_grantable(manager, roles, ["boss"])
    assert [e.field for e in refused.value.errors] == ["role_ids", "role_ids"]
