"""Access rules: roles inherit without cycles, system roles stay, nobody grants more than they hold."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from riveredge.actor import Actor
from riveredge.authz import MANAGE, WILDCARD, RoleGrant, lineage, role_index
from riveredge.clock import new_id
from riveredge.db.directory import department_paths
from riveredge.db.models import Role, User
from riveredge.db.roles import index_entry
from riveredge.errors import ConflictError, FieldProblem, NotFoundError, PreconditionFailedError, ValidationError
from riveredge.grants import check_roles_grantable
from riveredge.scope import Scope

from access import repository
from access.models import CreateRoleRequest, RolePermissionsRequest, UpdateRoleRequest, UserRolesRequest

SUPER_ADMIN = "super_admin"


@lru_cache(maxsize=1)
def catalogue() -> list[dict[str, Any]]:
    """The tenant-facing permission catalogue (generated from the routes: local_stack/catalogue.py)."""
    text = resources.files("riveredge").joinpath("catalogue.json").read_text()
    return [p for p in json.loads(text) if not p["platform_only"]]


def _known_codes() -> set[str]:
    return {p["code"] for p in catalogue()} | {WILDCARD}


def _check_codes(codes: list[str], field: str = "permissions") -> None:
    unknown = sorted(set(codes) - _known_codes())
    if unknown:
        raise ValidationError(
            "unknown permissions", errors=[FieldProblem(field, f"no such permission: {c}") for c in unknown]
        )


def _grants(roles: list[Role]) -> dict[str, RoleGrant]:
    return role_index({r.role_id: index_entry(r) for r in roles})


def _check_scope_fields(scope: Scope, data_scope: str, departments: list[str]) -> None:
    if data_scope == "custom" and not departments:
        raise ValidationError(
            "a custom data scope names its departments",
            errors=[FieldProblem("departments", "at least one department is required")],
        )
    if data_scope != "custom" and departments:
        raise ValidationError(
            "departments belong to a custom data scope",
            errors=[FieldProblem("departments", "only a custom data scope lists departments")],
        )
    unknown = sorted(set(departments) - department_paths(scope, set(departments)).keys())
    if unknown:
        raise ValidationError(
            "no such department", errors=[FieldProblem("departments", f"no such department: {d}") for d in unknown]
        )


def _check_parent(roles: dict[str, Role], role_id: str, parent_id: str | None) -> None:
    if parent_id is None:
        return
    if parent_id not in roles:
        raise ValidationError("no such parent role", errors=[FieldProblem("parent_id", "no such role")])
    seen: set[str] = set()
    current: str | None = parent_id
    while current and current not in seen:
        if current == role_id:
            raise ValidationError(
                "a role cannot inherit from itself or its descendants",
                errors=[FieldProblem("parent_id", "would create an inheritance cycle")],
            )
        seen.add(current)
        current = roles[current].parent_id if current in roles else None


# -- catalogue, roles -------------------------------------------------------------------------------
def list_roles(actor: Actor, limit: int, start: dict[str, Any] | None) -> tuple[list[Role], dict[str, Any] | None]:
    return repository.page(actor.principal.scope, limit, start)


def get_role(actor: Actor, role_id: str) -> Role:
    return repository.get(actor.principal.scope, role_id)


def create_role(actor: Actor, request: CreateRoleRequest) -> Role:
    scope = actor.principal.scope
    _check_codes(request.permissions)
    _check_scope_fields(scope, request.data_scope, request.departments)
    every = {r.role_id: r for r in repository.all_roles(scope)}
    role = Role.new(
        scope,
        new_id(),
        code=request.name,
        name=request.display_name,
        description=request.description,
        permissions=set(request.permissions) or None,
        parent_id=request.parent_id,
        data_scope=request.data_scope,
        departments=set(request.departments) or None,
        system=False,
    )
    _check_parent(every, role.role_id, request.parent_id)
    every[role.role_id] = role
    check_roles_grantable(actor.principal, _grants(list(every.values())), [role.role_id], field="permissions")
    repository.create(
        actor,
        role,
        list(every.values()),
        repository.index(scope),
    )
    return role


def _editable(role: Role, version: int) -> None:
    if role.code == SUPER_ADMIN:
        raise ConflictError("the super_admin role holds every permission and cannot be changed")
    if role.version != version:
        raise PreconditionFailedError(f"the role is at version {role.version}, not {version}")


def update_role(actor: Actor, role_id: str, request: UpdateRoleRequest) -> Role:
    scope = actor.principal.scope
    every = {r.role_id: r for r in repository.all_roles(scope)}
    if role_id not in every:
        raise NotFoundError("no such role")
    role = every[role_id]
    _editable(role, request.version)
    _check_scope_fields(scope, request.data_scope, request.departments)
    _check_parent(every, role_id, request.parent_id)
    before = role.snapshot()
    role.name, role.description, role.parent_id = request.display_name, request.description, request.parent_id
    role.data_scope, role.departments = request.data_scope, set(request.departments) or None
    check_roles_grantable(actor.principal, _grants(list(every.values())), [role_id], field="data_scope")
    repository.save(
        actor,
        role,
        before,
        list(every.values()),
        repository.index(scope),
        action="role.edit",
    )
    return role


def set_permissions(actor: Actor, role_id: str, request: RolePermissionsRequest) -> Role:
    scope = actor.principal.scope
    _check_codes(request.permissions)
    every = {r.role_id: r for r in repository.all_roles(scope)}
    if role_id not in every:
        raise NotFoundError("no such role")
    role = every[role_id]
    _editable(role, request.version)
    before = role.snapshot()
    role.permissions = set(request.permissions) or None
    check_roles_grantable(actor.principal, _grants(list(every.values())), [role_id], field="permissions")
    repository.save(
        actor,
        role,
        before,
        list(every.values()),
        repository.index(scope),
        action="role.set_permissions",
    )
    return role


def inherited_permissions(actor: Actor, role: Role) -> list[str]:
    grants = _grants(repository.all_roles(actor.principal.scope))
    return sorted({code for grant in lineage(grants, role.role_id)[1:] for code in grant.permissions})


def delete_role(actor: Actor, role_id: str, version: int | None) -> None:
    scope = actor.principal.scope
    every = {r.role_id: r for r in repository.all_roles(scope)}
    if role_id not in every:
        raise NotFoundError("no such role")
    role = every[role_id]
    if role.system:
        raise ConflictError(f"{role.code} is a system role and cannot be deleted")
    if version is not None and version != role.version:
        raise PreconditionFailedError(f"the role is at version {role.version}, not {version}")
    children = sorted(r.code for r in every.values() if r.parent_id == role_id)
    if children:
        raise ConflictError(f"roles inherit from {role.code}: {', '.join(children)}")
    holders = repository.holders(scope, role_id)
    if holders:
        raise ConflictError(f"{role.code} is assigned to {len(holders)} account(s); take it from them first")
    check_roles_grantable(actor.principal, _grants(list(every.values())), [role_id], field="role_id")
    repository.delete(
        actor,
        role,
        list(every.values()),
        repository.index(scope),
    )


# -- user roles, explain ----------------------------------------------------------------------------
def _visible_user(actor: Actor, user_id: str) -> User:
    user = repository.get_user(actor.principal.scope, user_id)
    principal = actor.principal
    if not principal.data_scope.covers(
        user_id=user.user_id,
        department_id=user.department_id,
        department_path=user.department_path,
        caller_id=principal.user_id,
    ):
        raise NotFoundError("no such user")
    return user


def get_user_roles(actor: Actor, user_id: str) -> User:
    return _visible_user(actor, user_id)


def set_user_roles(actor: Actor, user_id: str, request: UserRolesRequest) -> User:
    scope = actor.principal.scope
    user = _visible_user(actor, user_id)
    if user.version != request.version:
        raise PreconditionFailedError(f"the account is at version {user.version}, not {request.version}")
    every = {r.role_id: r for r in repository.all_roles(scope)}
    unknown = sorted(set(request.role_ids) - every.keys())
    if unknown:
        raise ValidationError("no such role", errors=[FieldProblem("role_ids", f"no such role: {r}") for r in unknown])
    wanted, held = set(request.role_ids), set(user.role_ids or [])
    check_roles_grantable(actor.principal, _grants(list(every.values())), wanted - held)
    super_admin = next((r.role_id for r in every.values() if r.code == SUPER_ADMIN), None)
    if super_admin and super_admin in held and super_admin not in wanted:
        others = [
            u for u in repository.holders(scope, super_admin) if u.user_id != user.user_id and u.status == "active"
        ]
        if not others:
            raise ConflictError("this is the last active super_admin of the organisation")
    return repository.set_user_roles(actor, user, wanted)


@dataclass(frozen=True)
class Explanation:
    user: User
    granted: bool
    decided_by: list[dict[str, Any]]


def explain(actor: Actor, user_id: str, permission: str) -> Explanation:
    """Whether `user_id` holds `permission`, and which role (through which inheritance path) decides it."""
    _check_codes([permission], field="permission")
    user = _visible_user(actor, user_id)
    grants = _grants(repository.all_roles(actor.principal.scope))
    module = permission.partition(".")[0]
    decided: list[dict[str, Any]] = []
    for role_id in sorted(user.role_ids or []):
        chain = lineage(grants, role_id)
        for depth, grant in enumerate(chain):
            via = (
                "exact"
                if permission in grant.permissions
                else "manage"
                if f"{module}.{MANAGE}" in grant.permissions
                else "wildcard"
                if WILDCARD in grant.permissions
                else None
            )
            if via:
                decided.append(
                    {
                        "role_id": role_id,
                        "role": chain[0].code,
                        "path": [g.code for g in chain[: depth + 1]],
                        "via": via,
                    }
                )
                break
    return Explanation(user, bool(decided) and user.status == "active", decided)
