"""Account rules: the data scope bounds every read and write; nobody grants more than they hold."""

from __future__ import annotations

import hmac
from typing import Any

from riveredge import custom_fields, mail, passwords
from riveredge.actor import Actor
from riveredge.authz import role_index
from riveredge.clock import new_id, utcnow
from riveredge.db import accounts, directory
from riveredge.db.identity import password_policy, tenant_id_for_code
from riveredge.db.models import LoginIdentity, User, map_values
from riveredge.db.roles import current_index
from riveredge.errors import (
    ConflictError,
    DomainError,
    FieldProblem,
    ForbiddenError,
    NotFoundError,
    PreconditionFailedError,
    ValidationError,
)
from riveredge.grants import check_roles_grantable
from riveredge.scope import Scope, use_scope

from users import repository
from users.models import ActivateRequest, BatchRequest, CreateUserRequest, UpdateUserRequest

_ID_LENGTH = 26


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError(f"{field} is not valid", errors=[FieldProblem(field, message)])


def get(actor: Actor, user_id: str) -> User:
    """An account of the caller's organisation within their data scope (anything else: 404)."""
    user = repository.find(actor.principal.scope, user_id) if len(user_id) == _ID_LENGTH else None
    if user is None or not directory.visible(actor.principal, user):
        raise NotFoundError("no such user")
    return user


def page(actor: Actor, wanted: directory.UserFilter, limit: int, cursor: str | None) -> tuple[list[User], str | None]:
    return directory.page(actor.principal, wanted, limit, cursor)


def _placement(actor: Actor, department_id: str | None, position_id: str | None) -> tuple[str | None, str | None]:
    """(department id, path) for an account placed in `department_id`, checked against the caller's scope."""
    scope, data = actor.principal.scope, actor.principal.data_scope
    path = None
    if department_id is not None:
        department = repository.department(scope, department_id)
        if department is None or not data.covers_department(department.department_id, department.path):
            raise _invalid("department_id", "no such department")
        path = department.path
    elif not data.all:
        raise _invalid("department_id", "an account outside every department is beyond your data scope")
    if position_id is not None:
        position = repository.position(scope, position_id)
        if position is None:
            raise _invalid("position_id", "no such position")
        if position.department_id != department_id:
            raise _invalid("position_id", "the position belongs to another department")
    return department_id, path


def _check_roles(actor: Actor, role_ids: set[str]) -> None:
    index = current_index(actor.principal.scope)
    grants = role_index(index.roles if index else {})
    unknown = sorted(role_ids - grants.keys())
    if unknown:
        raise ValidationError("no such role", errors=[FieldProblem("role_ids", f"no such role: {r}") for r in unknown])
    check_roles_grantable(actor.principal, grants, role_ids)


def create(actor: Actor, request: CreateUserRequest) -> User:
    """An account with a password (active), or invited with a set-password link mailed to it."""
    scope, principal = actor.principal.scope, actor.principal
    email = str(request.email).lower()
    department_id, path = _placement(actor, request.department_id, request.position_id)
    _check_roles(actor, set(request.role_ids))
    values = custom_fields.validate(scope, "user", request.custom_fields, creating=True)
    if request.password is not None:
        passwords.check_policy(request.password, "password", password_policy(scope))
    if repository.email_taken(scope, email):
        raise ConflictError(f"an account with the email {email} already exists")
    user = User.new(
        scope,
        new_id(),
        email,
        name=request.name,
        phone=request.phone,
        status="active",
        role_ids=set(request.role_ids) or None,
        position_id=request.position_id,
        department_id=department_id,
        department_path=path,
        created_by=principal.user_id,
        custom_fields=values,
    )
    if request.password is not None:
        accounts.create_user(actor, user, passwords.hash_password(request.password))
        return user
    token = accounts.invite(user)
    repository.save_invited(actor, user)
    tenant = repository.tenant(scope.tenant_id)
    code, organisation = (tenant.code, tenant.name) if tenant else ("", None)
    context = mail.activation_context(user.email, user.name, code, token, organisation=organisation)
    mail.send_by_template(scope, mail.ACTIVATION, [user.email], context)
    return user


def update(actor: Actor, user_id: str, request: UpdateUserRequest) -> User:
    scope = actor.principal.scope
    user = get(actor, user_id)
    if user.version != request.version:
        raise PreconditionFailedError(f"the account is at version {user.version}, not {request.version}")
    if user.user_id == actor.principal.user_id and request.status == "disabled":
        raise ConflictError("you cannot disable your own account")
    if user.status == "invited" and request.status == "active":
        raise ConflictError("an invited account becomes active when its link is used")
    values = custom_fields.validate(
        scope, "user", request.custom_fields, map_values(user.custom_fields), creating=False
    )
    before = user.snapshot()
    user.custom_fields = values  # type: ignore[assignment]
    if (request.department_id, request.position_id) != (user.department_id, user.position_id):
        department_id, path = _placement(actor, request.department_id, request.position_id)
        user.place(department_id, path)
    user.name, user.phone, user.position_id = request.name, request.phone, request.position_id
    credential, sessions = None, None
    if user.status not in (request.status, "invited"):
        user.status = request.status
        credential = repository.identity(scope, user.email)
        if credential is not None:
            credential.status = request.status
        sessions = repository.live_sessions(scope, user.user_id) if request.status == "disabled" else None
    repository.update(actor, user, before, action="user.edit", credential=credential, sessions=sessions)
    return user


def delete(actor: Actor, user_id: str, version: int | None) -> None:
    scope = actor.principal.scope
    user = get(actor, user_id)
    if user.user_id == actor.principal.user_id:
        raise ConflictError("you cannot delete your own account")
    if version is not None and version != user.version:
        raise PreconditionFailedError(f"the account is at version {user.version}, not {version}")
    repository.delete(actor, user, repository.identity(scope, user.email))


def _batch_one(actor: Actor, request: BatchRequest, user_id: str) -> None:
    user = get(actor, user_id)
    if request.action == "delete":
        if not actor.principal.can("user.delete"):
            raise ForbiddenError("permission user.delete is required")
        delete(actor, user_id, None)
    elif request.action == "assign_roles":
        if not actor.principal.can("role.assign"):
            raise ForbiddenError("permission role.assign is required")
        wanted = set(user.role_ids or []) | set(request.role_ids)
        _check_roles(actor, set(request.role_ids))
        before = user.snapshot()
        user.role_ids = wanted or None
        repository.update(actor, user, before, action="user.assign_roles")
    else:
        status = "active" if request.action == "enable" else "disabled"
        update(
            actor,
            user_id,
            UpdateUserRequest(
                name=user.name,
                phone=user.phone,
                department_id=user.department_id,
                position_id=user.position_id,
                status=status,
                version=int(user.version or 0),
            ),
        )


def batch(actor: Actor, request: BatchRequest) -> list[tuple[str, DomainError | None]]:
    """Each account on its own: one that fails does not undo the others."""
    if request.action == "assign_roles" and not request.role_ids:
        raise _invalid("role_ids", "name at least one role to assign")
    results: list[tuple[str, DomainError | None]] = []
    for user_id in dict.fromkeys(request.user_ids):
        try:
            _batch_one(actor, request, user_id)
            results.append((user_id, None))
        except DomainError as error:
            results.append((user_id, error))
    return results


def reset_password(actor: Actor, user_id: str, password: str | None) -> tuple[str, int]:
    """Set a new password, or mail a reset link; every live session of the account ends either way."""
    scope = actor.principal.scope
    user = get(actor, user_id)
    if user.user_id == actor.principal.user_id:  # it would end the caller's own session: /api/me/password is theirs
        raise ConflictError("you cannot reset your own password here: change it with /api/me/password")
    if user.status != "active":
        raise ConflictError(f"the account is {user.status}")
    before = user.snapshot()
    sessions = repository.live_sessions(scope, user.user_id)
    credential = repository.identity(scope, user.email)
    if password is not None:
        policy = password_policy(scope)
        passwords.check_policy(password, "password", policy)
        if credential is None:
            raise ConflictError("the account has no credential yet")
        passwords.set_password(credential, password, field="password", policy=policy, now=utcnow())
        repository.update(actor, user, before, action="user.reset_password", credential=credential, sessions=sessions)
        return "password_set", len(sessions)
    token = accounts.invite(user)
    user.status = "active"  # a reset link keeps the account active; the link only sets a new password
    repository.update(actor, user, before, action="user.reset_password", sessions=sessions)
    tenant = repository.tenant(scope.tenant_id)
    context = mail.activation_context(user.email, user.name, tenant.code if tenant else "", token, reset=True)
    mail.send_by_template(scope, mail.PASSWORD_RESET, [user.email], context)
    return "link_sent", len(sessions)


def activate(request: ActivateRequest) -> User:
    """Use a set-password (or reset) link: the account gets its password and, if invited, becomes active."""
    refused = _invalid("token", "the link is not valid or has expired")
    tenant_id = tenant_id_for_code(request.tenant)
    try:
        user_id, digest = accounts.parse_activation(request.token)
        scope = Scope(tenant_id or "")
    except ValueError as error:
        raise refused from error
    with use_scope(scope):
        tenant = repository.tenant(scope.tenant_id)
        passwords.check_policy(request.password, "password", tenant.password_policy if tenant else None)
        user = repository.find(scope, user_id) if len(user_id) == _ID_LENGTH else None
        if (
            tenant is None
            or tenant.status != "active"
            or user is None
            or not user.activation_digest
            or not hmac.compare_digest(user.activation_digest, digest)
            or user.activation_expires is None
            or user.activation_expires <= utcnow()
        ):
            raise refused
        credential = repository.identity(scope, user.email)
        if credential is not None and credential.user_id not in (None, user.user_id):
            raise ConflictError("the email belongs to another account")
        credential = credential or LoginIdentity.new(scope, user.email)
        credential.user_id = user.user_id
        passwords.set_password(
            credential, request.password, field="password", policy=tenant.password_policy, now=utcnow()
        )
        credential.status = "active"
        action = "user.activate" if user.status == "invited" else "user.password_reset_by_link"
        before = user.snapshot()
        user.status, user.activation_digest, user.activation_expires = "active", None, None
        repository.activate(scope, user, credential, before, action=action)
    return user


def describe(error: DomainError) -> dict[str, Any]:
    return {"type": error.type, "title": error.title, "detail": error.detail}
