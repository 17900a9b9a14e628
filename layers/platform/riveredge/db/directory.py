"""The account directory: listing accounts through the caller's data scope.

An account's tree key (gsi2, ``<dept path>#<user id>``) makes a department
subtree one ``begins_with`` Query and a single department one ``begins_with
"<path>#"`` Query. A caller sees the union of their scope's prefixes; each page
is one Query, and the signed cursor remembers which prefix it stopped in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.expressions.condition import Condition

from riveredge import cursors, custom_fields, keys
from riveredge.auth.principal import Principal
from riveredge.custom_fields import Filter
from riveredge.db.base import TableModel
from riveredge.db.models import Department, User, map_values
from riveredge.errors import BadRequestError, NotFoundError
from riveredge.scope import Scope

ALL = "*all*"
SELF = "*self*"


@dataclass(frozen=True)
class UserFilter:
    """What a list of accounts is narrowed to (besides the data scope)."""

    department_id: str | None = None  # this department and its descendants
    status: str | None = None
    role_id: str | None = None
    q: str | None = None
    custom: tuple[Filter, ...] = ()  # custom-field filters (riveredge.custom_fields.filters)

    def fingerprint(self) -> str:
        custom = [[f.key, f.value, f.contains] for f in self.custom]
        return cursors.fingerprint({"route": "users", **self.__dict__, "custom": custom})


def department_paths(scope: Scope, department_ids: set[str]) -> dict[str, str]:
    """The paths of existing departments among `department_ids` (one BatchGetItem per 100)."""
    found: dict[str, str] = {}
    wanted = sorted(department_ids)
    for start in range(0, len(wanted), 100):
        keys_ = [keys.department(scope, d) for d in wanted[start : start + 100]]
        for item in TableModel.batch_get([(k.pk, k.sk) for k in keys_]):
            if isinstance(item, Department):
                found[item.department_id] = item.path
    return found


def prefixes(principal: Principal, wanted: UserFilter) -> list[str]:
    """The tree-key prefixes (or ALL / SELF) that together hold exactly the accounts this list may show."""
    scope, data = principal.scope, principal.data_scope
    target: str | None = None
    if wanted.department_id:
        target = department_paths(scope, {wanted.department_id}).get(wanted.department_id)
        if target is None:
            raise NotFoundError("no such department")
    if data.all:
        return [target] if target else [ALL]
    exact = department_paths(scope, set(data.department_ids))
    allowed = [*sorted(data.subtree_paths), *sorted(f"{p}#" for p in exact.values())]
    found: list[str] = []
    for prefix in allowed:
        if target is None or prefix.startswith(target):
            found.append(prefix)
        elif target.startswith(prefix):
            found.append(target)
    if data.own and target is None:
        found.append(SELF)
    # a prefix inside another would list its accounts twice
    unique = sorted(set(found))
    return [p for p in unique if p in (ALL, SELF) or not any(p != o and p.startswith(o) for o in unique)]


def _filters(wanted: UserFilter) -> Condition | None:
    condition: Condition | None = None
    parts: list[Condition] = []
    if wanted.status:
        parts.append(User.status == wanted.status)
    if wanted.role_id:
        parts.append(User.role_ids.contains(wanted.role_id))
    if wanted.q:
        parts.append(User.search.contains(wanted.q.lower()))
    custom = custom_fields.condition(User.custom_fields, wanted.custom)
    if custom is not None:
        parts.append(custom)
    for part in parts:
        condition = part if condition is None else condition & part
    return condition


def page(principal: Principal, wanted: UserFilter, limit: int, cursor: str | None) -> tuple[list[User], str | None]:
    """One page of the accounts `principal` may see, newest-first within each department; one Query."""
    scope = principal.scope
    plan = prefixes(principal, wanted)
    state = cursors.decode(scope, wanted.fingerprint(), cursor) or {"i": 0, "k": None}
    index, start = int(state.get("i", 0)), state.get("k")
    if not 0 <= index <= len(plan):
        raise BadRequestError("cursor is not valid")
    if index == len(plan):
        return [], None
    prefix = plan[index]
    condition = _filters(wanted)
    users: list[User]
    last: dict[str, Any] | None
    if prefix == SELF:
        key = keys.user(scope, principal.user_id)
        try:
            me = User.get(key.pk, key.sk)
            users = [me] if condition is None or _matches(me, wanted) else []
        except User.DoesNotExist:
            users = []
        last = None
    elif prefix == ALL:
        result: Any = User.query(
            keys.collection(scope, "USER"),
            filter_condition=condition,
            limit=limit,
            page_size=limit,
            last_evaluated_key=start,
        )
        users, last = [u for u in result if isinstance(u, User)], result.last_evaluated_key
    else:
        result = User.gsi2.query(
            keys.user_tree_index(scope),
            User.gsi2sk.startswith(prefix),
            filter_condition=condition,
            limit=limit,
            page_size=limit,
            last_evaluated_key=start,
        )
        users, last = [u for u in result if isinstance(u, User)], result.last_evaluated_key
    following = {"i": index, "k": last} if last else ({"i": index + 1, "k": None} if index + 1 < len(plan) else None)
    return users, cursors.encode(scope, wanted.fingerprint(), following)


def _matches(user: User, wanted: UserFilter) -> bool:
    return (
        (not wanted.status or user.status == wanted.status)
        and (not wanted.role_id or wanted.role_id in (user.role_ids or set()))
        and (not wanted.q or wanted.q.lower() in (user.search or ""))
        and custom_fields.matches(map_values(user.custom_fields), wanted.custom)
    )


def visible(principal: Principal, user: User) -> bool:
    """Whether `user` is within the caller's data scope."""
    return principal.data_scope.covers(
        user_id=user.user_id,
        department_id=user.department_id,
        department_path=user.department_path,
        caller_id=principal.user_id,
    )
