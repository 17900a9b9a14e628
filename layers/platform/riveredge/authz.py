"""Permission codes and how roles grant them.

Codes are ``<module>.<action>``. ``<module>.manage`` implies every action of its
module; ``*`` (the tenant's super admin) implies every code. Roles may inherit
from a parent role; a role's effective permissions are its own and those of its
ancestors. Several roles combine as a union.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

WILDCARD = "*"
MANAGE = "manage"


@dataclass(frozen=True)
class Permission:
    """One entry of the permission catalogue, declared by the code that enforces it."""

    code: str
    name: str
    category: str
    platform_only: bool = False


_CATALOGUE: dict[str, Permission] = {}


def declare(code: str, name: str, category: str | None = None, *, platform_only: bool = False) -> Permission:
    """Add `code` to the catalogue (idempotent) and return it."""
    module, _, action = code.partition(".")
    if not module or not action:
        raise ValueError(f"permission code must be <module>.<action>: {code!r}")
    permission = Permission(code, name, category or module, platform_only)
    _CATALOGUE.setdefault(code, permission)
    return _CATALOGUE[code]


def catalogue() -> list[Permission]:
    return sorted(_CATALOGUE.values(), key=lambda p: p.code)


def grants(granted: Iterable[str], needed: str) -> bool:
    """True when a set of granted codes covers `needed`."""
    held = set(granted)
    if WILDCARD in held or needed in held:
        return True
    module = needed.partition(".")[0]
    return f"{module}.{MANAGE}" in held


@dataclass(frozen=True)
class RoleGrant:
    """What the authorizer needs to know of a role."""

    role_id: str
    code: str
    permissions: frozenset[str]
    parent_id: str | None = None
    data_scope: str = "all"
    departments: frozenset[str] = field(default_factory=frozenset)


def role_index(raw: Mapping[str, Any]) -> dict[str, RoleGrant]:
    """Parse the tenant's authorisation index item (role id -> grant)."""
    roles: dict[str, RoleGrant] = {}
    for role_id, entry in raw.items():
        roles[role_id] = RoleGrant(
            role_id=role_id,
            code=str(entry.get("code", role_id)),
            permissions=frozenset(entry.get("permissions", [])),
            parent_id=entry.get("parent_id"),
            data_scope=str(entry.get("data_scope", "all")),
            departments=frozenset(entry.get("departments", [])),
        )
    return roles


def lineage(roles: Mapping[str, RoleGrant], role_id: str) -> list[RoleGrant]:
    """The role and its ancestors, nearest first; a cycle stops the walk."""
    chain: list[RoleGrant] = []
    seen: set[str] = set()
    current: str | None = role_id
    while current and current in roles and current not in seen:
        seen.add(current)
        chain.append(roles[current])
        current = roles[current].parent_id
    return chain


def effective_permissions(roles: Mapping[str, RoleGrant], role_ids: Iterable[str]) -> frozenset[str]:
    """The union of what `role_ids` grant, inheritance included."""
    codes: set[str] = set()
    for role_id in role_ids:
        for grant in lineage(roles, role_id):
            codes |= grant.permissions
    return frozenset(codes)
