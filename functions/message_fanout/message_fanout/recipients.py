"""A send's recipients, resolved one page at a time from its sources, each person once.

Sources, in this order: the named users (BatchGetItem, in the order of their sorted ids), the members of
the named roles (one filtered Query of the tenant's accounts), then each department's accounts (a
``begins_with`` Query of the accounts' tree index: ``<path>`` with the sub-departments, ``<path>#``
without; a department inside another named one is left out, so the prefixes never overlap). Everyone is a
source of its own (the tenant's accounts, every other source ignored). Only active accounts are reached.

A person found by a later source who belongs to an earlier one (a named user who is also in a named
department, a role member in a named department) is left out there, so nobody is reached twice however the
sources overlap; the delivery records' deterministic keys catch anyone who moved between sources while the
fan-out ran. A page's position is ``{"s": <source index>, "k": <where in it>}``: an offset into the named
users, else DynamoDB's LastEvaluatedKey.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from typing import Any, Literal

from pynamodb.expressions.condition import Condition
from riveredge import keys
from riveredge.db.base import TableModel
from riveredge.db.models import User
from riveredge.scope import Scope

Kind = Literal["users", "roles", "tree", "all"]


@dataclass(frozen=True)
class Source:
    kind: Kind
    prefix: str = ""


@dataclass(frozen=True)
class Plan:
    """Where a send's recipients come from."""

    scope: Scope
    user_ids: tuple[str, ...]
    role_ids: frozenset[str]
    sources: tuple[Source, ...]
    named: frozenset[str] = frozenset()

    @classmethod
    def of(cls, scope: Scope, spec: dict[str, Any]) -> Plan:
        if spec.get("everyone"):
            return cls(scope, (), frozenset(), (Source("all"),))
        user_ids = tuple(sorted(set(spec.get("user_ids") or [])))
        role_ids = frozenset(spec.get("role_ids") or [])
        children = bool(spec.get("include_children", True))
        prefixes = sorted({d["path"] if children else f"{d['path']}#" for d in spec.get("departments") or []})
        prefixes = [p for p in prefixes if not any(o != p and p.startswith(o) for o in prefixes)]
        sources = [
            *([Source("users")] if user_ids else []),
            *([Source("roles")] if role_ids else []),
            *(Source("tree", p) for p in prefixes),
        ]
        return cls(scope, user_ids, role_ids, tuple(sources), frozenset(user_ids))

    def page(self, start: dict[str, Any] | None, size: int) -> tuple[list[User], dict[str, Any] | None]:
        """Up to `size` people from `start` (None: the beginning), and where the next page starts (None: done)."""
        state = start or {"s": 0, "k": None}
        index, where = int(state.get("s", 0)), state.get("k")
        if index >= len(self.sources):
            return [], None
        source = self.sources[index]
        if source.kind == "users":
            offset = int(where or 0)
            found = self._named(self.user_ids[offset : offset + size])
            following: Any = offset + size if offset + size < len(self.user_ids) else None
        else:
            found, following = self._queried(source, where, size)
        people = [u for u in found if not self._earlier(u, source)]
        if following is not None:
            return people, {"s": index, "k": following}
        return people, ({"s": index + 1, "k": None} if index + 1 < len(self.sources) else None)

    def _named(self, user_ids: tuple[str, ...]) -> list[User]:
        wanted = [keys.user(self.scope, u) for u in user_ids]
        found = {
            u.user_id: u
            for u in TableModel.batch_get([(k.pk, k.sk) for k in wanted])
            if isinstance(u, User) and u.status == "active"
        }
        return [found[u] for u in user_ids if u in found]

    def _queried(self, source: Source, where: Any, size: int) -> tuple[list[User], Any]:
        active = User.status == "active"
        result: Any
        if source.kind == "tree":
            result = User.gsi2.query(
                keys.user_tree_index(self.scope),
                User.gsi2sk.startswith(source.prefix),
                filter_condition=active,
                limit=size,
                page_size=size,
                last_evaluated_key=where,
            )
        else:
            condition: Condition = active
            if source.kind == "roles":
                members = reduce(lambda a, b: a | b, (User.role_ids.contains(r) for r in sorted(self.role_ids)))
                condition = active & members
            result = User.query(
                keys.collection(self.scope, "USER"),
                filter_condition=condition,
                limit=size,
                page_size=size,
                last_evaluated_key=where,
            )
        found = [u for u in result if isinstance(u, User)]
        return found, result.last_evaluated_key

    def _earlier(self, user: User, source: Source) -> bool:
        """Whether an earlier source of the plan holds `user` already."""
        if source.kind in ("users", "all"):
            return False
        if user.user_id in self.named:
            return True
        return source.kind == "tree" and bool(self.role_ids & set(user.role_ids or ()))
