"""The grant bound: nobody gives a permission or a data scope they do not hold themselves.

Giving a role to someone (assigning it, putting it on an invitation, editing its
permissions or scope) gives everything the role grants, its ancestors included.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from riveredge.auth.principal import Principal
from riveredge.authz import WILDCARD, RoleGrant, grants, lineage
from riveredge.errors import FieldProblem, ForbiddenError

_SCOPE_RANK = {"self": 0, "dept": 1, "dept_and_children": 2, "all": 3}


def missing_permissions(grantor: Principal, permissions: Iterable[str]) -> list[str]:
    """The codes of `permissions` that `grantor` does not hold (``*`` only by a holder of ``*``)."""
    missing = []
    for code in sorted(set(permissions)):
        held = WILDCARD in grantor.permissions if code == WILDCARD else grants(grantor.permissions, code)
        if not held:
            missing.append(code)
    return missing


def scope_exceeds(
    grantor: Principal,
    data_scope: str,
    departments: Iterable[str] = (),
    department_paths: Mapping[str, str] | None = None,
) -> bool:
    """Whether giving `data_scope` (with `departments` for custom) reaches beyond what `grantor` sees.

    A custom department is within reach when the grantor's own scope names it, or when its path
    (from `department_paths`) lies in one of the grantor's subtrees.
    """
    mine = grantor.data_scope
    if mine.all:
        return False
    if data_scope == "custom":
        paths = department_paths or {}
        return any(
            d not in mine.department_ids and not (d in paths and mine.covers_department(d, paths[d]))
            for d in departments
        )
    widest = 2 if mine.subtree_paths else 1 if mine.department_ids else 0
    return _SCOPE_RANK.get(data_scope, 3) > widest


def check_roles_grantable(
    grantor: Principal, roles: Mapping[str, RoleGrant], role_ids: Iterable[str], field: str = "role_ids"
) -> None:
    """ForbiddenError naming what is beyond the grantor, if any role of `role_ids` gives more than they hold."""
    problems: list[FieldProblem] = []
    paths = _custom_department_paths(grantor, roles, role_ids)
    for role_id in sorted(set(role_ids)):
        for grant in lineage(roles, role_id):
            missing = missing_permissions(grantor, grant.permissions)
            if missing:
                problems.append(
                    FieldProblem(field, f"role {grant.code} grants {', '.join(missing)}, which you do not hold")
                )
            if scope_exceeds(grantor, grant.data_scope, grant.departments, paths):
                problems.append(
                    FieldProblem(field, f"role {grant.code} reaches data ({grant.data_scope}) you cannot see")
                )
    if problems:
        raise ForbiddenError("you cannot grant more than you hold", errors=problems)


def _custom_department_paths(
    grantor: Principal, roles: Mapping[str, RoleGrant], role_ids: Iterable[str]
) -> Mapping[str, str]:
    """Paths of the custom-scope departments in play, read only when a subtree could cover them."""
    if grantor.data_scope.all or not grantor.data_scope.subtree_paths:
        return {}
    wanted = {
        d
        for role_id in role_ids
        for grant in lineage(roles, role_id)
        if grant.data_scope == "custom"
        for d in grant.departments
    }
    if not wanted:
        return {}
    from riveredge.db.directory import department_paths

    return department_paths(grantor.scope, wanted)
