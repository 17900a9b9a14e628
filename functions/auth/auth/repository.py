"""The writes of sign-in: sessions, failed-sign-in counters and the login log."""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import TransactWriteError, UpdateError
from riveredge import keys
from riveredge.clock import new_id, utcnow
from riveredge.db import condition_failed, transaction
from riveredge.db.accounts import live_sessions, replace_password
from riveredge.db.changes import System
from riveredge.db.models import KnownLoginAddress, LoginIdentity, LoginLogEntry, LoginThrottle, PendingAdmin, Session
from riveredge.errors import ConflictError, UnauthorizedError
from riveredge.scope import Scope

# A counter outlives its window by this much before DynamoDB's TTL may remove it (a closed window reads as empty).
_THROTTLE_TTL_SLACK = timedelta(hours=1)


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


def _count(key: keys.Key, *, now: datetime, window: timedelta, reopen: bool) -> int:
    """Count one failure on the counter at `key` with an atomic UpdateItem; answers the counter's new value.

    An open window (or none yet) is counted into with ADD, which never conflicts with a concurrent failure. A
    window that was read closed (`reopen`) starts again at 1, on the condition that nobody restarted it
    meanwhile; if somebody did, this failure is counted into their window. At most two UpdateItems.
    """
    connection = LoginThrottle._get_connection()
    expires = now + window + _THROTTLE_TTL_SLACK
    if reopen:
        try:
            connection.update_item(
                key.pk,
                key.sk,
                actions=[
                    LoginThrottle.entity.set(LoginThrottle),
                    LoginThrottle.failures.set(1),
                    LoginThrottle.window_started.set(now),
                    LoginThrottle.next_check_at.remove(),
                    LoginThrottle.ttl.set(expires),
                ],
                condition=LoginThrottle.window_started <= now - window,
            )
            return 1
        except UpdateError as error:
            if not condition_failed(error):
                raise
    answer = connection.update_item(
        key.pk,
        key.sk,
        actions=[
            LoginThrottle.entity.set(LoginThrottle),
            LoginThrottle.failures.add(1),
            LoginThrottle.window_started.set(LoginThrottle.window_started | now),
            LoginThrottle.ttl.set(expires),
        ],
        return_values="UPDATED_NEW",
    )
    return int(answer["Attributes"]["failures"]["N"])


def record_failure(
    scope: Scope,
    *,
    email: str,
    ip: str,
    user_id: str | None,
    reason: str,
    reopen: tuple[bool, bool, bool],
    now: datetime,
    window: timedelta,
    client_ip: str | None,
    user_agent: str | None,
) -> int:
    """Count a failed sign-in on the address's, the address-from-this-IP's and the IP's counters, and log it.

    One UpdateItem per counter (two for a counter whose closed window another request restarted first) and a
    put of the log entry: nothing read-modify-write, so concurrent failures are each counted and none fails.
    `reopen` says which counters (in that order) were read with a closed window. Answers the address's count.
    """
    account = _count(keys.login_throttle_account(scope, email), now=now, window=window, reopen=reopen[0])
    _count(keys.login_throttle_account_ip(scope, email, ip), now=now, window=window, reopen=reopen[1])
    _count(keys.login_throttle_ip(scope, ip), now=now, window=window, reopen=reopen[2])
    entry = _log(scope, email=email, user_id=user_id, success=False, reason=reason, ip=client_ip, user_agent=user_agent)
    entry.save(condition=LoginLogEntry.pk.does_not_exist())
    return account


def claim_check(scope: Scope, email: str, *, now: datetime, delay: timedelta) -> bool:
    """Take the password check that a slowed-down address allows now; the next one opens `delay` later.

    A conditional UpdateItem, so that of concurrent attempts exactly one gets the check. False: it is taken.
    """
    key = keys.login_throttle_account(scope, email)
    try:
        LoginThrottle._get_connection().update_item(
            key.pk,
            key.sk,
            actions=[LoginThrottle.next_check_at.set(now + delay)],
            condition=LoginThrottle.next_check_at.does_not_exist() | (LoginThrottle.next_check_at <= now),
        )
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    return True


def record_refusal(
    scope: Scope, *, email: str, user_id: str | None, reason: str, ip: str | None, user_agent: str | None
) -> None:
    """A refused attempt that no counter counts (throttled, organisation not active): a log entry only."""
    entry = _log(scope, email=email, user_id=user_id, success=False, reason=reason, ip=ip, user_agent=user_agent)
    entry.save(condition=LoginLogEntry.pk.does_not_exist())


def pending_admin(scope: Scope) -> PendingAdmin | None:
    """The first admin of a tenant whose onboarding has not created the account yet."""
    return PendingAdmin.find(keys.pending_admin(scope.tenant_id))


def open_session(
    scope: Scope,
    session: Session,
    *,
    email: str,
    ip: str,
    user_id: str,
    clear: bool,
    known_until: datetime | None,
    client_ip: str | None,
    user_agent: str | None,
) -> None:
    """Store the new session and log the success, in one transaction.

    The same transaction deletes the address's failure counter for this IP (`clear`) and marks the IP as one
    the address signs in from, until `known_until`. Should that upkeep meet a concurrent write of the same
    items, the sign-in goes ahead without it (a second transaction): it never fails for that.
    """
    entry = _log(scope, email=email, user_id=user_id, success=True, reason=None, ip=client_ip, user_agent=user_agent)
    counter = keys.login_throttle_account_ip(scope, email, ip) if clear else None
    known = (keys.known_login_address(scope, email, ip), known_until) if known_until is not None else None
    try:
        _store_session(session, entry, clear=counter, known=known)
    except TransactWriteError as error:
        if (counter is None and known is None) or not condition_failed(error):
            raise
        _store_session(session, entry, clear=None, known=None)


def _store_session(
    session: Session, entry: LoginLogEntry, *, clear: keys.Key | None, known: tuple[keys.Key, datetime] | None
) -> None:
    with transaction() as tx:
        tx.save(session, condition=Session.pk.does_not_exist())
        tx.save(entry, condition=LoginLogEntry.pk.does_not_exist())
        if clear is not None:
            tx.delete(LoginThrottle(clear.pk, clear.sk), add_version_condition=False)
        if known is not None:
            key, until = known
            tx.update(
                KnownLoginAddress(key.pk, key.sk),
                actions=[KnownLoginAddress.entity.set(KnownLoginAddress), KnownLoginAddress.ttl.set(until)],
                add_version_condition=False,
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


def store_password(scope: Scope, identity: LoginIdentity, *, verified_hash: str | None, user_id: str) -> int:
    """Store the new password `identity` holds and end every other live session of the account, logged
    (only if the stored hash is still the one that was verified: a concurrent change is a 409)."""
    live = live_sessions(scope, user_id, now=utcnow())
    author = System(scope, user_id)
    return replace_password(author, identity, verified_hash, live, now=utcnow(), action="user.change_expired_password")
