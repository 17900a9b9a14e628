"""Roles and role assignments: the only code of this function that touches DynamoDB.

Every change of a role rewrites the scope's role index (riveredge.db.roles) in the
same transaction, so the authorizer sees the change on the next request.
"""

from __future__ import annotations

from typing import Any

from riveredge import keys
from riveredge.actor import Actor
from riveredge.db import roles as role_index
from riveredge.db.changes import change
from riveredge.db.models import AuthzIndex, Role, RoleCode, User
from riveredge.scope import Scope


def all_roles(scope: Scope) -> list[Role]:
    return role_index.roles_of(scope)


def page(scope: Scope, limit: int, start: dict[str, Any] | None) -> tuple[list[Role], dict[str, Any] | None]:
    result = Role.query(keys.collection(scope, "ROLE"), limit=limit, page_size=limit, last_evaluated_key=start)
    items = [r for r in result if isinstance(r, Role)]
    return items, result.last_evaluated_key


def get(scope: Scope, role_id: str) -> Role:
    return Role.get_or_404(keys.role(scope, role_id))


def index(scope: Scope) -> AuthzIndex | None:
    return role_index.current_index(scope)


def create(actor: Actor, role: Role, every: list[Role], current: AuthzIndex | None) -> None:
    """The role, its code claim, the new role index and the log entry: one transaction."""
    with change(actor, "role.create", role) as c:
        c.create(
            RoleCode.new(actor.scope, role.code, role.role_id), conflict=f"a role named {role.code} already exists"
        )
        c.create(role, conflict="the role already exists")
        role_index.put_index(c, actor.scope, current, every)


def save(
    actor: Actor, role: Role, before: dict[str, Any], every: list[Role], current: AuthzIndex | None, *, action: str
) -> None:
    """A changed role (at the version read), the new role index and the log entry: one transaction."""
    with change(actor, action, role, before=before) as c:
        c.save(role, stale="the role changed meanwhile; read it again")
        role_index.put_index(c, actor.scope, current, every)


def delete(actor: Actor, role: Role, every: list[Role], current: AuthzIndex | None) -> None:
    code = keys.role_code(actor.scope, role.code)
    with change(actor, "role.delete", role, before=role.snapshot()) as c:
        c.delete(role, stale="the role changed meanwhile; read it again")
        c.delete(RoleCode(code.pk, code.sk), versioned=False)
        role_index.put_index(c, actor.scope, current, [r for r in every if r.role_id != role.role_id])


def holders(scope: Scope, role_id: str, limit: int = 1000) -> list[User]:
    """Accounts that hold `role_id` (a Query over the scope's accounts, filtered; roles are few, accounts bounded)."""
    found = User.query(keys.collection(scope, "USER"), filter_condition=User.role_ids.contains(role_id), limit=limit)
    return [u for u in found if isinstance(u, User)]


def get_user(scope: Scope, user_id: str) -> User:
    return User.get_or_404(keys.user(scope, user_id))


def set_user_roles(actor: Actor, user: User, role_ids: set[str]) -> User:
    before = user.snapshot()
    user.role_ids = role_ids or None
    with change(actor, "user.assign_roles", user, before=before) as c:
        c.save(user, stale="the account changed meanwhile; read it again")
    return user
