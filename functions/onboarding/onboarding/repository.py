"""Onboarding writes: roles and the role index, the first admin, the tenant's status."""

from __future__ import annotations

from riveredge import keys, oplog
from riveredge.clock import new_id
from riveredge.db import transaction
from riveredge.db.models import AuthzIndex, LoginIdentity, PendingAdmin, Role, Tenant, User
from riveredge.scope import Scope

SYSTEM_ACTOR = "system:onboarding"


def roles_of(scope: Scope) -> list[Role]:
    return [r for r in Role.query(keys.collection(scope, "ROLE")) if isinstance(r, Role)]


def seed_roles(scope: Scope, roles: dict[str, tuple[str, str, list[str]]]) -> dict[str, str]:
    """Create the system roles that are missing and the role index; role code -> role id."""
    existing = {r.code: r for r in roles_of(scope)}
    created: list[Role] = []
    for code, (name, description, permissions) in roles.items():
        if code not in existing:
            created.append(
                Role.new(
                    scope,
                    new_id(),
                    code=code,
                    name=name,
                    description=description,
                    permissions=set(permissions),
                    system=True,
                    data_scope="all",
                )
            )
    every = [*existing.values(), *created]
    index = AuthzIndex.new(
        scope,
        roles={
            r.role_id: {
                "code": r.code,
                "permissions": sorted(r.permissions or []),
                "parent_id": r.parent_id,
                "data_scope": r.data_scope,
            }
            for r in every
        },
    )
    with transaction() as tx:
        for role in created:
            tx.save(role, condition=Role.pk.does_not_exist())
        key = keys.authz(scope)
        try:
            current = AuthzIndex.get(key.pk, key.sk, consistent_read=True)
            current.roles = index.roles
            tx.save(current)
        except AuthzIndex.DoesNotExist:
            tx.save(index)
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
    """Store a user and their credential (and drop the pending admin it came from), logged, in one transaction."""
    identity = LoginIdentity.new(
        scope, user.email, user_id=user.user_id, password_hash=password_hash, status=user.status, failed_count=0
    )
    with transaction() as tx:
        tx.save(user, condition=User.pk.does_not_exist())
        tx.save(identity, condition=LoginIdentity.pk.does_not_exist())
        if consumed is not None:
            tx.delete(consumed)
        oplog.record(
            tx,
            scope,
            actor_id=actor_id,
            action="user.create",
            resource="user",
            resource_id=user.user_id,
            before=None,
            after={"email": user.email, "name": user.name, "role_ids": sorted(user.role_ids or [])},
        )


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
