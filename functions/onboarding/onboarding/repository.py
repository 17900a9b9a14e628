"""Onboarding writes: roles and the role index, the first admin, the tenant's status."""

from __future__ import annotations

from riveredge import keys, oplog, outbox
from riveredge.clock import new_id
from riveredge.db import accounts, roles, transaction
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
        with transaction() as tx:
            for role in created:
                tx.save(role, condition=Role.pk.does_not_exist())
                tx.save(RoleCode.new(scope, role.code, role.role_id), condition=RoleCode.pk.does_not_exist())
            roles.put_index(tx, scope, index, every)
    return {r.code: r.role_id for r in every}


def pending_admin(tenant_id: str) -> PendingAdmin | None:
    key = keys.pending_admin(tenant_id)
    try:
        return PendingAdmin.get(key.pk, key.sk, consistent_read=True)
    except PendingAdmin.DoesNotExist:
        return None


def find_user_by_email(scope: Scope, email: str) -> User | None:
    for user in User.gsi1.query(keys.user_email_index(scope), User.gsi1sk == email.lower(), limit=1):
        if isinstance(user, User):
            return user
    return None


def create_user(
    scope: Scope, user: User, password_hash: str, *, consumed: PendingAdmin | None = None, actor_id: str = SYSTEM_ACTOR
) -> None:
    accounts.create_user(scope, user, password_hash, actor_id=actor_id, consumed=consumed)


def tenant(tenant_id: str) -> Tenant:
    key = keys.tenant(tenant_id)
    return Tenant.get(key.pk, key.sk, consistent_read=True)


def set_tenant_status(scope: Scope, record: Tenant, status: str) -> None:
    before = {"status": record.status}
    record.status = status
    with transaction() as tx:
        tx.save(record)
        oplog.record(
            tx,
            scope,
            actor_id=SYSTEM_ACTOR,
            action=f"tenant.{status}",
            resource="tenant",
            resource_id=record.tenant_id,
            before=before,
            after={"status": status},
        )
        outbox.add(tx, Scope(record.tenant_id), "tenants", STATUS_EVENTS[status], {"code": record.code})
