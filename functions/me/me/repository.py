"""Personal-centre persistence: the only code of this function that touches DynamoDB and S3."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from botocore.exceptions import ClientError
from pynamodb.attributes import JSONAttribute, UnicodeAttribute
from riveredge import aws, keys
from riveredge.actor import Actor
from riveredge.db import TableModel
from riveredge.db.accounts import password_actions
from riveredge.db.changes import Change, change
from riveredge.db.identity import load
from riveredge.db.models import LoginIdentity, Session, Tenant, User
from riveredge.db.revocation import revoke_sessions
from riveredge.errors import NotFoundError
from riveredge.scope import Scope
from riveredge.settings import get_settings


class Preferences(TableModel, discriminator="preferences"):
    """One user's preferences (only this function reads them)."""

    user_id = UnicodeAttribute()
    theme = UnicodeAttribute()
    language = UnicodeAttribute()
    timezone = UnicodeAttribute()
    notifications = JSONAttribute()

    noun: ClassVar[str] = "preferences"
    id_attribute: ClassVar[str] = "user_id"

    def snapshot(self) -> dict[str, Any]:
        return {
            "theme": self.theme,
            "language": self.language,
            "timezone": self.timezone,
            "notifications": self.notifications,
        }

    @classmethod
    def new(cls, scope: Scope, user_id: str, **attributes: Any) -> Preferences:
        key = keys.preferences(scope, user_id)
        return cls(key.pk, key.sk, user_id=user_id, **attributes)


# -- profile ---------------------------------------------------------------------------
def get_user(scope: Scope, user_id: str) -> User:
    return User.get_or_404(keys.user(scope, user_id))


def save_user(actor: Actor, user: User, *, action: str, before: dict[str, Any]) -> None:
    """Save the user if nobody changed it since it was read (412 otherwise), with its operation-log entry."""
    with change(actor, action, user, before=before) as c:
        c.save(user, stale="the profile has changed since it was read")


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
    return Preferences.find(keys.preferences(scope, user_id))


def save_preferences(actor: Actor, preferences: Preferences, *, before: dict[str, Any] | None) -> None:
    """Create (if none is stored) or update the preferences, conditional on the version read."""
    with change(actor, "preferences.update", preferences, before=before) as c:
        # a new item gets attribute_not_exists(version) from PynamoDB: a racing first save fails
        c.save(preferences, stale="the preferences have changed since they were read")


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
    actor: Actor, identity: LoginIdentity, verified_hash: str | None, revoke: Sequence[Session], *, now: datetime
) -> int:
    """Store the new password `identity` holds (riveredge.passwords.set_password) and revoke `revoke`: the
    credential and the first 98 sessions in one logged transaction.

    The hash is swapped only if it is still `verified_hash`, the one that was verified (a concurrent change
    is a 409). Sessions beyond what one transaction holds are revoked in further transactions right after,
    each with its own log entry. Answers how many sessions were revoked.
    """

    def swap_hash(c: Change) -> None:
        c.update(
            identity,
            password_actions(identity),
            condition=LoginIdentity.password_hash == verified_hash,
            versioned=False,  # failure counters may move meanwhile; the hash may not
            conflict="the password was changed meanwhile; sign in again",
        )

    revoked = revoke_sessions(
        actor,
        revoke,
        reason="password_changed",
        now=now,
        action="user.change_password",
        resource_id=str(identity.user_id),
        first=swap_hash,
    )
    return len(revoked)
