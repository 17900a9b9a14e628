"""Creating accounts: the user, their credential and the operation-log entry, in one transaction."""

from __future__ import annotations

from pynamodb.exceptions import TransactWriteError

from riveredge import keys, oplog
from riveredge.db.base import TableModel, transaction
from riveredge.db.models import LoginIdentity, User
from riveredge.errors import ConflictError
from riveredge.scope import Scope


def create_user(
    scope: Scope,
    user: User,
    password_hash: str | None,
    *,
    actor_id: str,
    consumed: TableModel | None = None,
    extra: list[TableModel] | None = None,
    request_id: str | None = None,
) -> None:
    """Store `user` and a credential for their email (no password: they set one through an activation link).

    `consumed` is deleted in the same transaction (a pending admin, a used invitation...), `extra` items saved
    with it. An email already in use is a ConflictError and nothing is written.
    """
    identity = _identity_for(scope, user.email)
    identity.user_id, identity.password_hash, identity.status = user.user_id, password_hash, user.status
    identity.failed_count, identity.locked_until, identity.window_started = 0, None, None
    try:
        with transaction() as tx:
            tx.save(user, condition=User.pk.does_not_exist())
            tx.save(identity)  # the version read: a racing sign-up of the same email fails here
            if consumed is not None:
                tx.delete(consumed)
            for item in extra or []:
                tx.save(item)
            oplog.record(
                tx,
                scope,
                actor_id=actor_id,
                action="user.create",
                resource="user",
                resource_id=user.user_id,
                before=None,
                after={"email": user.email, "name": user.name, "role_ids": sorted(user.role_ids or [])},
                request_id=request_id,
            )
    except TransactWriteError as error:  # the email, the user id or the credential was taken meanwhile
        if error.cause_response_code == "TransactionCanceledException":
            raise ConflictError(f"an account with the email {user.email} already exists") from error
        raise


def _identity_for(scope: Scope, email: str) -> LoginIdentity:
    """The credential item of `email`: new, or the failure counter failed sign-ins left (never a live account's)."""
    key = keys.login(scope, email)
    try:
        existing = LoginIdentity.get(key.pk, key.sk, consistent_read=True)
    except LoginIdentity.DoesNotExist:
        return LoginIdentity.new(scope, email)
    if existing.user_id:
        raise ConflictError(f"an account with the email {email} already exists")
    return existing
