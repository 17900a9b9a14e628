"""Invitation persistence: the only code of this function that touches DynamoDB."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from riveredge import keys, oplog
from riveredge.db import TableModel, accounts, condition_failed, roles, transaction
from riveredge.db.base import Transaction
from riveredge.db.models import AuthzIndex, Department, Tenant, User
from riveredge.errors import ConflictError, NotFoundError, PreconditionFailedError
from riveredge.scope import Scope


class Invitation(TableModel, discriminator="invitation"):
    code = UnicodeAttribute()
    role_ids = UnicodeSetAttribute(null=True)
    department_id = UnicodeAttribute(null=True)
    expires_at = UTCDateTimeAttribute()
    max_uses = NumberAttribute()
    uses = NumberAttribute(default=0)
    status = UnicodeAttribute(default="active")  # active | revoked
    created_by = UnicodeAttribute()

    @classmethod
    def new(cls, scope: Scope, code: str, **attributes: Any) -> Invitation:
        key = keys.invitation(scope, code)
        return cls(key.pk, key.sk, code=code, **attributes)


def snapshot(invitation: Invitation) -> dict[str, Any]:
    return {
        "role_ids": sorted(invitation.role_ids or []),
        "department_id": invitation.department_id,
        "expires_at": invitation.expires_at.isoformat(),
        "max_uses": int(invitation.max_uses),
        "uses": int(invitation.uses or 0),
        "status": invitation.status,
    }


def create(scope: Scope, invitation: Invitation, *, actor_id: str, request_id: str | None) -> None:
    """Store the invitation (its code not taken) and log it: one transaction."""
    try:
        with transaction() as tx:
            tx.save(invitation, condition=Invitation.pk.does_not_exist())
            oplog.record(
                tx,
                scope,
                actor_id=actor_id,
                action="invitation.create",
                resource="invitation",
                resource_id=invitation.code,
                before=None,
                after=snapshot(invitation),
                request_id=request_id,
            )
    except TransactWriteError as error:
        if condition_failed(error):
            raise ConflictError("the invitation code is taken; try again") from error
        raise


def find(scope: Scope, code: str) -> Invitation | None:
    key = keys.invitation(scope, code)
    try:
        return Invitation.get(key.pk, key.sk, consistent_read=True)
    except Invitation.DoesNotExist:
        return None


def get(scope: Scope, code: str) -> Invitation:
    """The invitation `code` of `scope`; another tenant's code is simply not there (404)."""
    invitation = find(scope, code)
    if invitation is None:
        raise NotFoundError("no such invitation")
    return invitation


def page(scope: Scope, limit: int, start: dict[str, Any] | None) -> tuple[list[Invitation], dict[str, Any] | None]:
    results = Invitation.query(
        keys.collection(scope, "INVITATION"), limit=limit, last_evaluated_key=start, page_size=limit
    )
    items = [i for i in results if isinstance(i, Invitation)]
    return items, results.last_evaluated_key


def revoke(scope: Scope, invitation: Invitation, *, actor_id: str, request_id: str | None) -> None:
    """Mark it revoked if nobody changed it since it was read; log it in the same transaction."""
    before = snapshot(invitation)
    invitation.status = "revoked"
    try:
        with transaction() as tx:
            tx.save(invitation)  # PynamoDB adds the version condition
            oplog.record(
                tx,
                scope,
                actor_id=actor_id,
                action="invitation.revoke",
                resource="invitation",
                resource_id=invitation.code,
                before=before,
                after=snapshot(invitation),
                request_id=request_id,
            )
    except TransactWriteError as error:
        if condition_failed(error):
            raise PreconditionFailedError("the invitation has changed since it was read") from error
        raise


def role_index(scope: Scope) -> dict[str, Any]:
    """The scope's role index (role id -> what it grants), as stored."""
    index = roles.current_index(scope)
    return dict(index.roles) if index and index.roles else {}


def department_path(scope: Scope, department_id: str) -> str | None:
    """The materialised path of a department of `scope`, None if there is no such department."""
    key = keys.department(scope, department_id)
    try:
        return Department.get(key.pk, key.sk, consistent_read=True).path
    except Department.DoesNotExist:
        return None


def registration_state(scope: Scope, code: str) -> tuple[Tenant | None, Invitation | None, dict[str, Any]]:
    """The tenant, the invitation and the role index of `scope`, in one BatchGetItem."""
    wanted = [keys.tenant(scope.tenant_id), keys.invitation(scope, code), keys.authz(scope)]
    found = {(i.pk, i.sk): i for i in TableModel.batch_get([(k.pk, k.sk) for k in wanted], consistent_read=True)}
    tenant, invitation, index = (found.get((k.pk, k.sk)) for k in wanted)
    return (
        tenant if isinstance(tenant, Tenant) else None,
        invitation if isinstance(invitation, Invitation) else None,
        dict(index.roles or {}) if isinstance(index, AuthzIndex) else {},
    )


def register(
    scope: Scope,
    user: User,
    password_hash: str,
    invitation: Invitation,
    *,
    now: datetime,
    request_id: str | None,
) -> None:
    """Create the account and count a use of the invitation, in one transaction.

    The use is counted only while the invitation is active, unexpired and below its maximum, so
    registrations racing for the last use cannot go past it: the losers' transactions fail whole
    (a ConflictError from accounts.create_user).
    """

    def use_invitation(tx: Transaction) -> None:
        tx.update(
            invitation,
            actions=[Invitation.uses.add(1)],
            condition=(Invitation.status == "active")
            & (Invitation.uses < int(invitation.max_uses))
            & (Invitation.expires_at > now),
            add_version_condition=False,
        )
        oplog.record(
            tx,
            scope,
            actor_id=user.user_id,
            action="invitation.use",
            resource="invitation",
            resource_id=invitation.code,
            before={"uses": int(invitation.uses or 0)},
            after={"uses": int(invitation.uses or 0) + 1, "user_id": user.user_id, "email": user.email},
            request_id=request_id,
        )

    accounts.create_user(scope, user, password_hash, actor_id=user.user_id, request_id=request_id, also=use_invitation)
