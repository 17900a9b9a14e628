"""Invitation persistence: the only code of this function that touches DynamoDB."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute, UTCDateTimeAttribute
from riveredge import keys
from riveredge.actor import Actor
from riveredge.db import TableModel, accounts, roles
from riveredge.db.changes import Change, System, change
from riveredge.db.models import AuthzIndex, Department, Tenant, User
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

    noun: ClassVar[str] = "invitation"
    id_attribute: ClassVar[str] = "code"

    def snapshot(self) -> dict[str, Any]:
        return {
            "role_ids": sorted(self.role_ids or []),
            "department_id": self.department_id,
            "expires_at": self.expires_at.isoformat(),
            "max_uses": int(self.max_uses),
            "uses": int(self.uses or 0),
            "status": self.status,
        }

    @classmethod
    def new(cls, scope: Scope, code: str, **attributes: Any) -> Invitation:
        key = keys.invitation(scope, code)
        return cls(key.pk, key.sk, code=code, **attributes)


def create(actor: Actor, invitation: Invitation) -> None:
    """Store the invitation (its code not taken) and log it: one transaction."""
    with change(actor, "invitation.create", invitation) as c:
        c.create(invitation, conflict="the invitation code is taken; try again")


def find(scope: Scope, code: str) -> Invitation | None:
    return Invitation.find(keys.invitation(scope, code))


def get(scope: Scope, code: str) -> Invitation:
    """The invitation `code` of `scope`; another tenant's code is simply not there (404)."""
    return Invitation.get_or_404(keys.invitation(scope, code))


def page(scope: Scope, limit: int, start: dict[str, Any] | None) -> tuple[list[Invitation], dict[str, Any] | None]:
    results = Invitation.query(
        keys.collection(scope, "INVITATION"), limit=limit, last_evaluated_key=start, page_size=limit
    )
    items = [i for i in results if isinstance(i, Invitation)]
    return items, results.last_evaluated_key


def revoke(actor: Actor, invitation: Invitation) -> None:
    """Mark it revoked if nobody changed it since it was read; log it in the same transaction."""
    before = invitation.snapshot()
    invitation.status = "revoked"
    with change(actor, "invitation.revoke", invitation, before=before) as c:
        c.save(invitation)


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

    before = invitation.snapshot()

    def use_invitation(c: Change) -> None:
        c.update(
            invitation,
            [Invitation.uses.add(1)],
            condition=(Invitation.status == "active")
            & (Invitation.uses < int(invitation.max_uses))
            & (Invitation.expires_at > now),
            versioned=False,
            conflict="the invitation is no longer usable",
        )
        invitation.uses = int(invitation.uses or 0) + 1
        c.log("invitation.use", invitation.noun, invitation.code, before=before, after=invitation.snapshot())

    accounts.create_user(System(scope, user.user_id, request_id), user, password_hash, also=use_invitation)
