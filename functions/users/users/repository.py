"""Account persistence: the only code of this function that touches DynamoDB."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import TransactWriteError
from riveredge import keys, oplog
from riveredge.clock import utcnow
from riveredge.db import condition_failed, transaction
from riveredge.db.models import Department, LoginIdentity, Position, Session, Tenant, User
from riveredge.errors import ConflictError, NotFoundError, PreconditionFailedError
from riveredge.scope import Scope


def snapshot(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "name": user.name,
        "phone": user.phone,
        "status": user.status,
        "department_id": user.department_id,
        "position_id": user.position_id,
        "role_ids": sorted(user.role_ids or []),
    }


def get(scope: Scope, user_id: str) -> User:
    key = keys.user(scope, user_id)
    try:
        return User.get(key.pk, key.sk, consistent_read=True)
    except User.DoesNotExist as error:
        raise NotFoundError("no such user") from error


def find(scope: Scope, user_id: str) -> User | None:
    try:
        return get(scope, user_id)
    except NotFoundError:
        return None


def department(scope: Scope, department_id: str) -> Department | None:
    key = keys.department(scope, department_id)
    try:
        return Department.get(key.pk, key.sk)
    except Department.DoesNotExist:
        return None


def position(scope: Scope, position_id: str) -> Position | None:
    key = keys.position(scope, position_id)
    try:
        return Position.get(key.pk, key.sk)
    except Position.DoesNotExist:
        return None


def tenant(tenant_id: str) -> Tenant | None:
    key = keys.tenant(tenant_id)
    try:
        return Tenant.get(key.pk, key.sk)
    except Tenant.DoesNotExist:
        return None


def identity(scope: Scope, email: str) -> LoginIdentity | None:
    key = keys.login(scope, email)
    try:
        return LoginIdentity.get(key.pk, key.sk, consistent_read=True)
    except LoginIdentity.DoesNotExist:
        return None


def email_taken(scope: Scope, email: str) -> bool:
    """An account (active, disabled or invited) already uses `email`."""
    credential = identity(scope, email)
    if credential is not None and credential.user_id:
        return True
    return any(True for _ in User.gsi1.query(keys.user_email_index(scope), User.gsi1sk == email.lower(), limit=1))


def live_sessions(scope: Scope, user_id: str) -> list[Session]:
    found = Session.gsi1.query(keys.user_sessions_index(scope, user_id))
    now = utcnow()
    return [s for s in found if isinstance(s, Session) and s.status == "live" and s.expires_at > now]


def save_invited(scope: Scope, user: User, *, actor_id: str, request_id: str | None) -> None:
    """An invited account: one item (its credential comes when the link is used) and the log entry."""
    try:
        with transaction() as tx:
            tx.save(user, condition=User.pk.does_not_exist())
            oplog.record(
                tx,
                scope,
                actor_id=actor_id,
                action="user.invite",
                resource="user",
                resource_id=user.user_id,
                before=None,
                after=snapshot(user),
                request_id=request_id,
            )
    except TransactWriteError as error:
        if condition_failed(error):
            raise ConflictError("the account already exists") from error
        raise


def update(
    scope: Scope,
    user: User,
    before: dict[str, Any],
    *,
    action: str,
    actor_id: str,
    request_id: str | None,
    credential: LoginIdentity | None = None,
    sessions: list[Session] | None = None,
) -> None:
    """The account (at the version read), its credential's status and revoked sessions, logged: one transaction."""
    try:
        with transaction() as tx:
            tx.save(user)
            if credential is not None:
                tx.save(credential)
            for session in sessions or []:
                tx.update(session, actions=[Session.status.set("revoked"), Session.revoked_reason.set(action)])
            oplog.record(
                tx,
                scope,
                actor_id=actor_id,
                action=action,
                resource="user",
                resource_id=user.user_id,
                before=before,
                after=snapshot(user),
                request_id=request_id,
            )
    except TransactWriteError as error:
        if condition_failed(error):
            raise PreconditionFailedError("the account changed meanwhile; read it again") from error
        raise


def delete(
    scope: Scope, user: User, credential: LoginIdentity | None, *, actor_id: str, request_id: str | None
) -> None:
    try:
        with transaction() as tx:
            tx.delete(user)
            if credential is not None and credential.user_id == user.user_id:
                tx.delete(credential)
            oplog.record(
                tx,
                scope,
                actor_id=actor_id,
                action="user.delete",
                resource="user",
                resource_id=user.user_id,
                before=snapshot(user),
                after=None,
                request_id=request_id,
            )
    except TransactWriteError as error:
        if condition_failed(error):
            raise PreconditionFailedError("the account changed meanwhile; read it again") from error
        raise


def activate(scope: Scope, user: User, credential: LoginIdentity, *, action: str) -> None:
    """The account becomes active with its credential (a taken email fails the credential's condition)."""
    try:
        with transaction() as tx:
            tx.save(user)
            tx.save(credential)
            oplog.record(
                tx,
                scope,
                actor_id=user.user_id,
                action=action,
                resource="user",
                resource_id=user.user_id,
                before={"status": "invited"},
                after=snapshot(user),
            )
    except TransactWriteError as error:
        if condition_failed(error):
            raise ConflictError("this link was used already, or the email belongs to another account") from error
        raise
