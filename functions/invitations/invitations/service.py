"""Invitation rules.

- A code is random (16 URL-safe characters, 96 bits), made by the server.
- An invitation gives roles of the organisation (each must exist), and only roles
  its creator could grant themselves; optionally a department within the creator's
  data scope. It expires in the future, at most MAX_LIFETIME ahead, and creates at
  most `max_uses` accounts.
- Registration with a code that is unknown, revoked, expired, used up, of another
  organisation or of an inactive one is one and the same 422: no oracle on which.
  The account and the use of the invitation are one transaction, conditional on
  the invitation still being usable, so racing registrations never exceed max_uses.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from riveredge import cursors, passwords
from riveredge.actor import Actor
from riveredge.authz import role_index
from riveredge.clock import new_id, utcnow
from riveredge.db.identity import tenant_id_for_code
from riveredge.db.models import User
from riveredge.errors import (
    ConflictError,
    FieldProblem,
    ForbiddenError,
    NotFoundError,
    PreconditionFailedError,
    ValidationError,
)
from riveredge.grants import check_roles_grantable
from riveredge.scope import PLATFORM, Scope, use_scope

from invitations import repository
from invitations.models import CreateInvitationRequest, RegisterRequest
from invitations.repository import Invitation

MAX_LIFETIME = timedelta(days=90)
CODE_BYTES = 12  # 16 URL-safe characters
_CODE = re.compile(r"^[A-Za-z0-9_-]{12,64}$")
NOT_VALID = "invitation is not valid"


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError(message, errors=[FieldProblem(field, message)])


def _not_valid() -> ValidationError:
    return _invalid("invitation_code", NOT_VALID)


def usable(invitation: Invitation | None, now: datetime) -> bool:
    """Whether `invitation` may still create an account."""
    return (
        invitation is not None
        and invitation.status == "active"
        and invitation.expires_at > now
        and int(invitation.uses or 0) < int(invitation.max_uses)
    )


def create(actor: Actor, request: CreateInvitationRequest) -> Invitation:
    principal = actor.principal
    if principal.is_platform:
        raise ForbiddenError("invitations belong to an organisation")
    scope = principal.scope
    now = utcnow()
    if request.expires_at <= now:
        raise _invalid("expires_at", "must be in the future")
    if request.expires_at > now + MAX_LIFETIME:
        raise _invalid("expires_at", f"must be at most {MAX_LIFETIME.days} days ahead")
    role_ids = sorted(set(request.role_ids))
    roles = role_index(repository.role_index(scope))
    unknown = [r for r in role_ids if r not in roles]
    if unknown:
        raise _invalid("role_ids", f"no such role: {', '.join(unknown)}")
    check_roles_grantable(principal, roles, role_ids)
    if request.department_id is not None:
        path = repository.department_path(scope, request.department_id)
        if path is None:
            raise _invalid("department_id", "no such department")
        if not principal.data_scope.covers_department(request.department_id, path):
            raise ForbiddenError(
                "you cannot invite into a department outside your data scope",
                errors=[FieldProblem("department_id", "outside your data scope")],
            )
    invitation = Invitation.new(
        scope,
        secrets.token_urlsafe(CODE_BYTES),
        role_ids=set(role_ids),
        department_id=request.department_id,
        expires_at=request.expires_at,
        max_uses=request.max_uses,
        uses=0,
        status="active",
        created_by=principal.user_id,
    )
    repository.create(actor, invitation)
    return invitation


def get(actor: Actor, code: str) -> Invitation:
    if not _CODE.match(code):
        raise NotFoundError("no such invitation")
    return repository.get(actor.principal.scope, code)


def page(actor: Actor, *, limit: int, cursor: str | None) -> tuple[list[Invitation], str | None]:
    scope = actor.principal.scope
    query = cursors.fingerprint({"route": "invitations"})
    start = cursors.decode(scope, query, cursor)
    items, last = repository.page(scope, limit, start)
    return items, cursors.encode(scope, query, last)


def revoke(actor: Actor, code: str, expected_version: int | None) -> Invitation:
    """Revoke an invitation: it creates no more accounts. Revoking a revoked one changes nothing."""
    invitation = get(actor, code)
    if expected_version is not None and expected_version != invitation.version:
        raise PreconditionFailedError(f"the invitation is at version {invitation.version}, not {expected_version}")
    if invitation.status == "revoked":
        return invitation
    repository.revoke(actor, invitation)
    return invitation


def register(request: RegisterRequest, request_id: str | None) -> User:
    """Create an account in the organisation `request.tenant` with a valid invitation code."""
    tenant_id = tenant_id_for_code(request.tenant)
    if tenant_id is None or tenant_id == PLATFORM or not _CODE.match(request.invitation_code):
        raise _not_valid()
    scope = Scope(tenant_id)
    with use_scope(scope):
        tenant, invitation, raw_roles = repository.registration_state(scope, request.invitation_code)
        now = utcnow()
        if tenant is None or tenant.status != "active" or invitation is None or not usable(invitation, now):
            raise _not_valid()
        passwords.check_policy(request.password, "password", tenant.password_policy)
        department_path = None
        if invitation.department_id:
            department_path = repository.department_path(scope, invitation.department_id)
            if department_path is None:  # the department was deleted since: the invitation cannot place anyone
                raise _not_valid()
        role_ids = {r for r in invitation.role_ids or set() if r in raw_roles}  # roles deleted since are left out
        user = User.new(
            scope,
            new_id(),
            request.email,
            name=request.name,
            status="active",
            role_ids=role_ids or None,
            created_by=invitation.created_by,
            department_id=invitation.department_id if department_path else None,
            department_path=department_path,
        )
        try:
            repository.register(
                scope, user, passwords.hash_password(request.password), invitation, now=now, request_id=request_id
            )
        except ConflictError:
            # Either the email is taken, or the invitation stopped being usable meanwhile (its last use
            # went to a racing registration, or it was revoked): tell which from what is stored now.
            if not usable(repository.find(scope, request.invitation_code), utcnow()):
                raise _not_valid() from None
            raise
    return user
