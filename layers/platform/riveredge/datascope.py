"""Data scopes: which accounts (and other department-owned objects) a caller may see.

A role carries one of ``all``, ``dept_and_children``, ``dept``, ``self`` or
``custom`` (a list of departments). A caller's scope is the union over their
roles and the roles those inherit from. The authorizer resolves it once per
request and hands it to the routes in its context, so a route checks or
filters without reading roles.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from riveredge.authz import RoleGrant, lineage

SCOPES = ("all", "dept_and_children", "dept", "self", "custom")


@dataclass(frozen=True)
class DataScope:
    """The union of a caller's data scopes."""

    all: bool = False
    own: bool = False
    subtree_paths: frozenset[str] = field(default_factory=frozenset)
    department_ids: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def resolve(
        cls,
        roles: Mapping[str, RoleGrant],
        role_ids: Iterable[str],
        *,
        department_id: str | None,
        department_path: str | None,
    ) -> DataScope:
        everything, own = False, False
        subtrees: set[str] = set()
        departments: set[str] = set()
        for role_id in role_ids:
            for grant in lineage(roles, role_id):
                if grant.data_scope == "all":
                    everything = True
                elif grant.data_scope == "self":
                    own = True
                elif grant.data_scope == "custom":
                    departments |= grant.departments
                elif department_id and department_path:
                    if grant.data_scope == "dept_and_children":
                        subtrees.add(department_path)
                    elif grant.data_scope == "dept":
                        departments.add(department_id)
                else:
                    own = True  # a department scope without a department reaches only oneself
        if everything:
            return cls(all=True)
        return cls(own=own, subtree_paths=frozenset(subtrees), department_ids=frozenset(departments))

    def covers(self, *, user_id: str, department_id: str | None, department_path: str | None, caller_id: str) -> bool:
        """Whether an account in `department_id` (at `department_path`) is within this scope."""
        if self.all or (self.own and user_id == caller_id):
            return True
        if department_id and department_id in self.department_ids:
            return True
        return bool(department_path) and any(str(department_path).startswith(p) for p in self.subtree_paths)

    def covers_department(self, department_id: str, department_path: str) -> bool:
        """Whether a department (and what it owns) is within this scope."""
        return (
            self.all
            or department_id in self.department_ids
            or any(department_path.startswith(p) for p in self.subtree_paths)
        )

    def to_json(self) -> str:
        if self.all:
            return '{"all":true}'
        return json.dumps(
            {"own": self.own, "subtrees": sorted(self.subtree_paths), "departments": sorted(self.department_ids)},
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | None) -> DataScope:
        """The scope an authorizer context carries; nothing parsable means the narrowest scope."""
        try:
            raw = json.loads(text or "")
        except ValueError:
            return cls(own=True)
        if not isinstance(raw, dict):
            return cls(own=True)
        if raw.get("all") is True:
            return cls(all=True)
        return cls(
            own=bool(raw.get("own")),
            subtree_paths=frozenset(str(p) for p in raw.get("subtrees", [])),
            department_ids=frozenset(str(d) for d in raw.get("departments", [])),
        )
