"""The writes of sign-in: sessions, failure counters and the login log."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import UpdateError
from riveredge import keys
from riveredge.clock import new_id, utcnow
from riveredge.db import condition_failed, transaction
from riveredge.db.models import LoginIdentity, LoginLogEntry, Session
from riveredge.errors import ConflictError, UnauthorizedError
from riveredge.scope import Scope


def _log(
    scope: Scope,
    *,
    email: str,
    user_id: str | None,
    success: bool,
    reason: str | None,
    ip: str | None,
    user_agent: str | None,
) -> LoginLogEntry:
    return LoginLogEntry.new(
        scope, new_id(), email=email, user_id=user_id, success=success, reason=reason, ip=ip, user_agent=user_agent
    )


def record_failure(
    scope: Scope, identity: LoginIdentity, *, email: str, reason: str, ip: str | None, user_agent: str | None
) -> None:
    """Save the raised failure counter of `identity` and a failed login-log entry, together."""
    with transaction() as tx:
        tx.save(identity)
        tx.save(
            _log(
                scope, email=email, user_id=identity.user_id, success=False, reason=reason, ip=ip, user_agent=user_agent
            )
        )


def record_refusal(
    scope: Scope, *, email: str, user_id: str | None, reason: str, ip: str | None, user_agent: str | None
) -> None:
    """A failed attempt that does not change any counter (locked out, tenant suspended)."""
    entry = _log(scope, email=email, user_id=user_id, success=False, reason=reason, ip=ip, user_agent=user_agent)
    entry.save(condition=LoginLogEntry.pk.does_not_exist())


def open_session(
    scope: Scope, session: Session, identity: LoginIdentity, *, email: str, ip: str | None, user_agent: str | None
) -> None:
    """Store the new session, clear the failure counter and log the success: one transaction."""
    with transaction() as tx:
        tx.save(session, condition=Session.pk.does_not_exist())
        if identity.failed_count or identity.locked_until:
            tx.update(
                identity,
                actions=[
                    LoginIdentity.failed_count.set(0),
                    LoginIdentity.locked_until.remove(),
                    LoginIdentity.window_started.remove(),
                ],
            )
        tx.save(
            _log(scope, email=email, user_id=identity.user_id, success=True, reason=None, ip=ip, user_agent=user_agent)
        )


def rotate(session: Session, *, old_digest: str, new_digest: str) -> None:
    """Replace the refresh digest, only if nobody rotated it first."""
    try:
        session.update(
            actions=[
                Session.previous_refresh_digest.set(old_digest),
                Session.refresh_digest.set(new_digest),
                Session.updated_at.set(utcnow()),  # the last refresh, shown in the online-users list
            ],
            condition=(Session.refresh_digest == old_digest) & (Session.status == "live"),
        )
    except UpdateError as error:
        raise UnauthorizedError("refresh token is not valid") from error


def find_session(scope: Scope, session_id: str) -> Session | None:
    key = keys.session(scope, session_id)
    try:
        return Session.get(key.pk, key.sk, consistent_read=True)
    except Session.DoesNotExist:
        return None


def revoke(session: Session, reason: str, *, at: datetime) -> None:
    """Mark a session revoked; the authorizer refuses its tokens from the next request on.

    The write is conditional on the version read; if a rotation got in first, read again and retry.
    """
    for _ in range(5):
        if session.status == "revoked":
            return
        try:
            session.update(
                actions=[Session.status.set("revoked"), Session.revoked_reason.set(reason), Session.updated_at.set(at)]
            )
            return
        except UpdateError as error:
            if not condition_failed(error):
                raise
            session.refresh(consistent_read=True)
    raise ConflictError("the session changed too often to be revoked; try again")
