"""Personal-centre persistence: the only code of this function that touches DynamoDB and S3."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.attributes import JSONAttribute, UnicodeAttribute
from pynamodb.exceptions import TransactWriteError
from riveredge import aws, keys, oplog
from riveredge.db import TableModel, transaction
from riveredge.db.base import Transaction
from riveredge.db.identity import load
from riveredge.db.models import LoginIdentity, Session, Tenant, User
from riveredge.errors import ConflictError, NotFoundError, PreconditionFailedError
from riveredge.scope import Scope
from riveredge.settings import get_settings

# A transaction holds at most 100 writes: with the credential and the operation-log entry, 98 sessions.
SESSIONS_WITH_PASSWORD = 98
SESSIONS_PER_TRANSACTION = 99
_ATTEMPTS = 3


class Preferences(TableModel, discriminator="preferences"):
    """One user's preferences (only this function reads them)."""

    user_id = UnicodeAttribute()
    theme = UnicodeAttribute()
    language = UnicodeAttribute()
    timezone = UnicodeAttribute()
    notifications = JSONAttribute()

    @classmethod
    def new(cls, scope: Scope, user_id: str, **attributes: Any) -> Preferences:
        key = keys.preferences(scope, user_id)
        return cls(key.pk, key.sk, user_id=user_id, **attributes)


def _condition_failed(error: TransactWriteError) -> bool:
    reasons = getattr(error, "cancellation_reasons", None) or []
    return error.cause_response_code == "TransactionCanceledException" and (
        not reasons or any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons)
    )


# -- profile ---------------------------------------------------------------------------
def get_user(scope: Scope, user_id: str) -> User:
    key = keys.user(scope, user_id)
    try:
        return User.get(key.pk, key.sk, consistent_read=True)
    except User.DoesNotExist as error:
        raise NotFoundError("no such user") from error


def save_user(
    scope: Scope,
    user: User,
    *,
    action: str,
    before: dict[str, Any],
    after: dict[str, Any],
    request_id: str | None,
) -> None:
    """Save the user if nobody changed it since it was read (412 otherwise), with its operation-log entry."""
    try:
        with transaction() as tx:
            tx.save(user)  # PynamoDB adds the version condition
            oplog.record(
                tx,
                scope,
                actor_id=user.user_id,
                action=action,
                resource="user",
                resource_id=user.user_id,
                before=before,
                after=after,
                request_id=request_id,
            )
    except TransactWriteError as error:
        if _condition_failed(error):
            raise PreconditionFailedError("the profile has changed since it was read") from error
        raise


# -- avatar (S3) -----------------------------------------------------------------------
def presigned_upload(key: str, content_type: str, max_bytes: int, expires_in: int) -> dict[str, Any]:
    """A presigned POST for `key` in the files bucket: that type only, 1 byte to `max_bytes`."""
    return aws.s3().generate_presigned_post(
        Bucket=get_settings().files_bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=expires_in,
    )


@dataclass(frozen=True)
class StoredObject:
    content_type: str
    size: int


def stored_object(key: str) -> StoredObject | None:
    """What the files bucket holds under `key`, or None when it holds nothing there."""
    try:
        head = aws.s3().head_object(Bucket=get_settings().files_bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
            return None
        raise
    return StoredObject(str(head.get("ContentType", "")), int(head.get("ContentLength", 0)))


def download_url(key: str, expires_in: int) -> str:
    """A presigned GET of `key` in the files bucket (signed locally: no request is made)."""
    return aws.s3().generate_presigned_url(
        "get_object", Params={"Bucket": get_settings().files_bucket, "Key": key}, ExpiresIn=expires_in
    )


# -- preferences -----------------------------------------------------------------------
def get_preferences(scope: Scope, user_id: str) -> Preferences | None:
    key = keys.preferences(scope, user_id)
    try:
        return Preferences.get(key.pk, key.sk, consistent_read=True)
    except Preferences.DoesNotExist:
        return None


def save_preferences(
    scope: Scope,
    preferences: Preferences,
    *,
    before: dict[str, Any] | None,
    request_id: str | None,
) -> None:
    """Create (if none is stored) or update the preferences, conditional on the version read."""
    after = {
        "theme": preferences.theme,
        "language": preferences.language,
        "timezone": preferences.timezone,
        "notifications": preferences.notifications,
    }
    try:
        with transaction() as tx:
            # a new item gets attribute_not_exists(version) from PynamoDB: a racing first save fails
            tx.save(preferences)
            oplog.record(
                tx,
                scope,
                actor_id=preferences.user_id,
                action="preferences.update",
                resource="preferences",
                resource_id=preferences.user_id,
                before=before,
                after=after,
                request_id=request_id,
            )
    except TransactWriteError as error:
        if _condition_failed(error):
            raise PreconditionFailedError("the preferences have changed since they were read") from error
        raise


# -- password --------------------------------------------------------------------------
@dataclass(frozen=True)
class Credentials:
    user: User
    identity: LoginIdentity
    tenant: Tenant | None


def credentials(scope: Scope, user_id: str) -> Credentials:
    """The user, their tenant (one BatchGetItem) and the credential of their email (one GetItem)."""
    found = load(scope, user_id=user_id)
    if found.user is None:
        raise NotFoundError("no such user")
    key = keys.login(scope, found.user.email)
    try:
        identity = LoginIdentity.get(key.pk, key.sk, consistent_read=True)
    except LoginIdentity.DoesNotExist as error:
        raise NotFoundError("no credential for this account") from error
    if identity.user_id != found.user.user_id:
        raise NotFoundError("no credential for this account")
    return Credentials(found.user, identity, found.tenant)


def _live(now: datetime) -> Any:
    return (Session.status == "live") & (Session.expires_at > now)


def live_sessions_of(scope: Scope, user_id: str, *, now: datetime) -> list[Session]:
    """Every live, unexpired session of one user (a Query of gsi1)."""
    results = Session.gsi1.query(keys.user_sessions_index(scope, user_id), filter_condition=_live(now))
    return [s for s in results if isinstance(s, Session) and s.user_id == user_id]


def change_password(
    scope: Scope,
    identity: LoginIdentity,
    password_hash: str,
    revoke: Sequence[Session],
    *,
    now: datetime,
    request_id: str | None,
) -> int:
    """Store the new hash and revoke `revoke`: one transaction with the operation-log entry.

    The hash is swapped only if it is still the one that was verified (a concurrent change is a
    409). Sessions beyond what one transaction holds are revoked in further transactions right
    after, each with its own log entry. Answers how many sessions were revoked.
    """
    first, rest = list(revoke[:SESSIONS_WITH_PASSWORD]), list(revoke[SESSIONS_WITH_PASSWORD:])
    verified_hash = identity.password_hash
    user_id = str(identity.user_id)
    for _ in range(_ATTEMPTS):
        try:
            with transaction() as tx:
                _log(tx, scope, user_id, "user.change_password", first, request_id)  # a put: item 0
                tx.update(  # item 1
                    identity,
                    actions=[LoginIdentity.password_hash.set(password_hash)],
                    condition=LoginIdentity.password_hash == verified_hash,
                    add_version_condition=False,  # failure counters may move meanwhile; the hash may not
                )
                for session in first:  # items 2...
                    _revoke(tx, session, now)
            break
        except TransactWriteError as error:
            if error.cause_response_code != "TransactionCanceledException":
                raise
            reasons = list(getattr(error, "cancellation_reasons", None) or [])
            if len(reasons) > 1 and reasons[1] is not None and reasons[1].code == "ConditionalCheckFailed":
                raise ConflictError("the password was changed meanwhile; sign in again") from error
            first = _still_live(scope, first, now)
    else:
        raise ConflictError("the sessions changed too often; try again")
    identity.password_hash = password_hash
    return len(first) + _revoke_in_chunks(scope, user_id, rest, now, request_id)


def _log(
    tx: Transaction, scope: Scope, user_id: str, action: str, sessions: Sequence[Session], request_id: str | None
) -> None:
    oplog.record(
        tx,
        scope,
        actor_id=user_id,
        action=action,
        resource="user",
        resource_id=user_id,
        before=None,
        after={"revoked_sessions": [s.session_id for s in sessions], "revoked_reason": "password_changed"},
        request_id=request_id,
    )


def _revoke(tx: Transaction, session: Session, now: datetime) -> None:
    tx.update(
        session,
        actions=[
            Session.status.set("revoked"),
            Session.revoked_reason.set("password_changed"),
            Session.updated_at.set(now),
        ],
        condition=Session.status == "live",
        add_version_condition=False,  # a refresh racing us must not stop the revocation
    )


def _still_live(scope: Scope, sessions: Sequence[Session], now: datetime) -> list[Session]:
    live = []
    for session in sessions:
        key = keys.session(scope, session.session_id)
        try:
            fresh = Session.get(key.pk, key.sk, consistent_read=True)
        except Session.DoesNotExist:
            continue
        if fresh.status == "live" and fresh.expires_at > now:
            live.append(fresh)
    return live


def _revoke_in_chunks(
    scope: Scope, user_id: str, sessions: Sequence[Session], now: datetime, request_id: str | None
) -> int:
    revoked = 0
    for start in range(0, len(sessions), SESSIONS_PER_TRANSACTION):
        chunk = list(sessions[start : start + SESSIONS_PER_TRANSACTION])
        for _ in range(_ATTEMPTS):
            if not chunk:
                break
            try:
                with transaction() as tx:
                    _log(tx, scope, user_id, "user.change_password.sessions", chunk, request_id)
                    for session in chunk:
                        _revoke(tx, session, now)
            except TransactWriteError as error:
                if error.cause_response_code != "TransactionCanceledException":
                    raise
                chunk = _still_live(scope, chunk, now)
                continue
            revoked += len(chunk)
            break
    return revoked
