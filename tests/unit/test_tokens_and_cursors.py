"""Signed cursors, refresh tokens and the permission rules."""

from __future__ import annotations

import pytest
from riveredge import cursors
from riveredge.auth import refresh
from riveredge.authz import declare, effective_permissions, grants, lineage, role_index
from riveredge.errors import BadRequestError, UnauthorizedError
from riveredge.scope import Scope, platform_scope

ACME = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
GLOBEX = "01BX5ZZKBKACTAV9WEVGEMMVRZ"


@pytest.fixture(autouse=True)
def cursor_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cursors, "_secret", lambda: b"unit-test-secret")


def test_a_cursor_round_trips_in_its_scope_and_query() -> None:
    query = cursors.fingerprint({"route": "users", "department_id": "d1"})
    key = {"pk": {"S": f"T#{ACME}#USER"}, "sk": {"S": "01X"}}
    cursor = cursors.encode(Scope(ACME), query, key)
    assert cursor is not None
    assert cursors.decode(Scope(ACME), query, cursor) == key
    assert cursors.encode(Scope(ACME), query, None) is None
    assert cursors.decode(Scope(ACME), query, None) is None


@pytest.mark.parametrize("kind", ["other_tenant", "other_query", "tampered", "garbage", "platform"])
def test_a_cursor_is_refused_anywhere_else(kind: str) -> None:
    query = cursors.fingerprint({"route": "users"})
    cursor = cursors.encode(Scope(ACME), query, {"pk": "x"})
    assert cursor is not None
    scope, used_query, used = Scope(ACME), query, cursor
    if kind == "other_tenant":
        scope = Scope(GLOBEX)
    elif kind == "other_query":
        used_query = cursors.fingerprint({"route": "users", "q": "bob"})
    elif kind == "tampered":
        used = "eyJwayI6InkifQ." + cursor.split(".")[1]
    elif kind == "garbage":
        used = "!!!"
    else:
        scope = platform_scope()
    with pytest.raises(BadRequestError):
        cursors.decode(scope, used_query, used)


def test_refresh_tokens_parse_and_match_by_digest() -> None:
    token = refresh.new_refresh_token(ACME, "S1")
    parsed = refresh.parse(str(token))
    assert parsed == token
    assert refresh.matches(token.digest, parsed)
    assert not refresh.matches(None, parsed)
    assert not refresh.matches(refresh.digest("other"), parsed)
    for bad in ("", "rt1.x.y", "rt2.a.b.c", f"rt1.{ACME}.S1.", "rt1.not-a-tenant.S1.secret"):
        with pytest.raises(UnauthorizedError):
            refresh.parse(bad)


def test_grants_exact_manage_and_wildcard() -> None:
    assert grants({"user.view"}, "user.view")
    assert not grants({"user.view"}, "user.create")
    assert grants({"user.manage"}, "user.delete")
    assert not grants({"user.manage"}, "role.read")
    assert grants({"*"}, "anything.at_all")
    assert not grants(set(), "user.view")


def test_roles_inherit_from_parents_and_combine_as_a_union() -> None:
    roles = role_index(
        {
            "base": {"code": "base", "permissions": ["menu.view"]},
            "staff": {"code": "staff", "permissions": ["user.view"], "parent_id": "base"},
            "auditor": {"code": "auditor", "permissions": ["oplog.view"]},
        }
    )
    assert effective_permissions(roles, ["staff"]) == {"user.view", "menu.view"}
    assert effective_permissions(roles, ["staff", "auditor"]) == {"user.view", "menu.view", "oplog.view"}
    assert [r.code for r in lineage(roles, "staff")] == ["staff", "base"]


def test_a_cycle_in_stored_roles_does_not_loop() -> None:
    roles = role_index(
        {
            "a": {"code": "a", "permissions": ["x.a"], "parent_id": "b"},
            "b": {"code": "b", "permissions": ["x.b"], "parent_id": "a"},
        }
    )
    assert effective_permissions(roles, ["a"]) == {"x.a", "x.b"}


def test_permission_codes_are_module_dot_action() -> None:
    assert declare("report.export", "Export reports").category == "report"
    with pytest.raises(ValueError, match="module"):
        declare("nodot", "bad")
