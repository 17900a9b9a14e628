"""Onboarding writes: roles and the role index, the first admin, the tenant's status."""

from __future__ import annotations

from riveredge import keys
from riveredge.clock import new_id
from riveredge.db import accounts, roles
from riveredge.db.changes import System, change
from riveredge.db.models import PendingAdmin, Role, RoleCode, Tenant, User
from riveredge.scope import Scope

SYSTEM_ACTOR = "system:onboarding"
STATUS_EVENTS = {"active": "tenant.activated", "failed": "tenant.onboarding_failed"}


def roles_of(scope: Scope) -> list[Role]:
    return roles.roles_of(scope)


def seed_roles(scope: Scope, wanted: dict[str, tuple[str, str, list[str], str]]) -> dict[str, str]:
    """Create the system roles that are missing, and the role index with them; role code -> role id."""
    existing = {r.code: r for r in roles.roles_of(scope)}
    created = [
        Role.new(
            scope,
            new_id(),
            code=code,
            name=name,
            description=description,
            permissions=set(permissions),
            system=True,
            data_scope=data_scope,
        )
        for code, (name, description, permissions, data_scope) in wanted.items()
        if code not in existing
    ]
    every = [*existing.values(), *created]
    if created:
        index = roles.current_index(scope)
        with change(System(scope, SYSTEM_ACTOR), "role.seed") as c:
            for role in created:
                c.create(role, conflict="the roles were seeded meanwhile")
                c.create(RoleCode.new(scope, role.code, role.role_id), conflict=f"a role named {role.code} exists")
                c.log("role.create", role.noun, role.role_id, before=None, after=role.snapshot())
            roles.put_index(c, scope, index, every)
    return {r.code: r.role_id for r in every}


def pending_admin(tenant_id: str) -> PendingAdmin | None:
    return PendingAdmin.find(keys.pending_admin(tenant_id))


def find_user_by_email(scope: Scope, email: str) -> User | None:
    for user in User.gsi1.query(keys.user_email_index(scope), User.gsi1sk == email.lower(), limit=1):
        if isinstance(user, User):
            return user
    return None


def create_user(
    scope: Scope, user: User, password_hash: str, *, consumed: PendingAdmin | None = None, actor_id: str = SYSTEM_ACTOR
) -> None:
    accounts.create_user(System(scope, actor_id), user, password_hash, consumed=consumed)


def tenant(tenant_id: str) -> Tenant:
    return Tenant.get_or_404(keys.tenant(tenant_id))


def set_tenant_status(scope: Scope, record: Tenant, status: str) -> None:
    """The tenant's new status, logged, announcing tenant.activated or tenant.onboarding_failed."""
    before = record.snapshot()
    record.status = status
    with change(System(scope, SYSTEM_ACTOR), f"tenant.{status}", record, before=before) as c:
        c.save(record)
        c.publish(STATUS_EVENTS[status], {"code": record.code}, source="tenants", scope=Scope(record.tenant_id))
