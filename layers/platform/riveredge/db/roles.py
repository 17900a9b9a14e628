"""The role index: every role of a scope with what it grants, in one item the authorizer reads.

Whoever changes a role changes the index in the same transaction (``put_index``),
so the authorizer never sees a role without its index entry or the reverse.
"""

from __future__ import annotations

from typing import Any

from riveredge import keys
from riveredge.db.changes import Change
from riveredge.db.models import AuthzIndex, Role
from riveredge.scope import Scope


def index_entry(role: Role) -> dict[str, Any]:
    return {
        "code": role.code,
        "permissions": sorted(role.permissions or []),
        "parent_id": role.parent_id,
        "data_scope": role.data_scope,
        "departments": sorted(role.departments or []),
    }


def roles_of(scope: Scope) -> list[Role]:
    """Every role of `scope` (one Query; a tenant has tens of roles, not thousands)."""
    return [r for r in Role.query(keys.collection(scope, "ROLE"), consistent_read=True) if isinstance(r, Role)]


def current_index(scope: Scope) -> AuthzIndex | None:
    key = keys.authz(scope)
    try:
        return AuthzIndex.get(key.pk, key.sk, consistent_read=True)
    except AuthzIndex.DoesNotExist:
        return None


def put_index(c: Change, scope: Scope, index: AuthzIndex | None, roles: list[Role]) -> AuthzIndex:
    """Write the index for `roles` in the change `c`; conditional on the version read (a racing change: 412)."""
    entries = {r.role_id: index_entry(r) for r in roles}
    if index is None:
        index = AuthzIndex.new(scope, roles=entries)
    else:
        index.roles = entries
    c.save(index, stale="the roles changed meanwhile; read them again")
    return index
