"""Roles and role assignments: the only code of this function that touches DynamoDB.

Every change of a role rewrites the scope's role index (riveredge.db.roles) in the
same transaction, so the authorizer sees the change on the next request.
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import TransactWriteError
from riveredge import keys, oplog
from riveredge.db import condition_failed, transaction
from riveredge.db import roles as role_index
from riveredge.db.models import AuthzIndex, Role, RoleCode, User
from riveredge.errors import ConflictError, NotFoundError, PreconditionFailedError
from riveredge.scope import Scope


def snapshot(role: Role) -> dict[str, Any]:
    return {
        "code": role.code,
        "name": role.name,
        "parent_id": role.parent_id,
        "data_scope": role.data_scope,
        "departments": sorted(role.departments or []),
        "permissions": sorted(role.permissions or []),
    }


def all_roles(scope: Scope) -> list[Role]:
    return role_index.roles_of(scope)


def page(scope: Scope, limit: int, start: dict[str, Any] | None) -> tuple[list[Role], dict[str, Any] | None]:
    result = Role.query(keys.collection(scope, "ROLE"), limit=limit, page_size=limit, last_evaluated_key=start)
    items = [r for r in result if isinstance(r, Role)]
    return items, result.last_evaluated_key


def get(scope: Scope, role_id: str) -> Role:
    key = keys.role(scope, role_id)
    try:
        return Role.get(key.pk, key.sk, consistent_read=True)
    except Role.DoesNotExist as error:
        raise NotFoundError("no such role") from error


def index(scope: Scope) -> AuthzIndex | None:
    return role_index.current_index(scope)


def create(
    scope: Scope, role: Role, every: list[Role], current: AuthzIndex | None, *, actor_id: str, request_id: str | None
) -> None:
    """The role, its code claim, the new role index and the log entry: one transaction."""
    try:
        with transaction() as tx:
            tx.save(RoleCode.new(scope, role.code, role.role_id), condition=RoleCode.pk.does_not_exist())
            tx.save(role, condition=Role.pk.does_not_exist())
            role_index.put_index(tx, scope, current, every)
            oplog.record(
                tx,
                scope,
                actor_id=actor_id,
                action="role.create",
                resource="role",
                resource_id=role.role_id,
                before=None,
                after=snapshot(role),
                request_id=request_id,
            )
    except TransactWriteError as error:
        if condition_failed(error):
            raise ConflictError(f"a role named {role.code} already exists, or roles changed meanwhile") from error
        raise


def save(
    scope: Scope,
    role: Role,
    before: dict[str, Any],
    every: list[Role],
    current: AuthzIndex | None,
    *,
    action: str,
    actor_id: str,
    request_id: str | None,
) -> None:
    """A changed role (at the version read), the new role index and the log entry: one transaction."""
    try:
        with transaction() as tx:
            tx.save(role)
            role_index.put_index(tx, scope, current, every)
            oplog.record(
                tx,
                scope,
                actor_id=actor_id,
                action=action,
                resource="role",
                resource_id=role.role_id,
                before=before,
                after=snapshot(role),
                request_id=request_id,
            )
    except TransactWriteError as error:
        if condition_failed(error):
            raise PreconditionFailedError("the role (or another role) changed meanwhile; read it again") from error
        raise


def delete(
    scope: Scope, role: Role, every: list[Role], current: AuthzIndex | None, *, actor_id: str, request_id: str | None
) -> None:
    code = keys.role_code(scope, role.code)
    try:
        with transaction() as tx:
            tx.delete(role)
            tx.delete(RoleCode(code.pk, code.sk), add_version_condition=False)
            role_index.put_index(tx, scope, current, [r for r in every if r.role_id != role.role_id])
            oplog.record(
                tx,
                scope,
                actor_id=actor_id,
                action="role.delete",
                resource="role",
                resource_id=role.role_id,
                before=snapshot(role),
                after=None,
                request_id=request_id,
            )
    except TransactWriteError as error:
        if condition_failed(error):
            raise PreconditionFailedError("the role changed meanwhile; read it again") from error
        raise


def holders(scope: Scope, role_id: str, limit: int = 1000) -> list[User]:
    """Accounts that hold `role_id` (a Query over the scope's accounts, filtered; roles are few, accounts bounded)."""
    found = User.query(keys.collection(scope, "USER"), filter_condition=User.role_ids.contains(role_id), limit=limit)
    return [u for u in found if isinstance(u, User)]


def get_user(scope: Scope, user_id: str) -> User:
    key = keys.user(scope, user_id)
    try:
        return User.get(key.pk, key.sk, consistent_read=True)
    except User.DoesNotExist as error:
        raise NotFoundError("no such user") from error


def set_user_roles(scope: Scope, user: User, role_ids: set[str], *, actor_id: str, request_id: str | None) -> User:
    before = {"role_ids": sorted(user.role_ids or [])}
    user.role_ids = role_ids or None
    try:
        with transaction() as tx:
            tx.save(user)
            oplog.record(
                tx,
                scope,
                actor_id=actor_id,
                action="user.assign_roles",
                resource="user",
                resource_id=user.user_id,
                before=before,
                after={"role_ids": sorted(role_ids)},
                request_id=request_id,
            )
    except TransactWriteError as error:
        if condition_failed(error):
            raise PreconditionFailedError("the account changed meanwhile; read it again") from error
        raise
    return user
