"""Personal-centre persistence: the only code of this function that touches DynamoDB and S3."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from riveredge import keys
from riveredge.actor import Actor
from riveredge.db.accounts import live_sessions, replace_password
from riveredge.db.changes import change
from riveredge.db.identity import load
from riveredge.db.models import LoginIdentity, Preferences, Session, Tenant, User
from riveredge.errors import NotFoundError
from riveredge.scope import Scope


# -- profile ---------------------------------------------------------------------------
def get_user(scope: Scope, user_id: str) -> User:
    return User.get_or_404(keys.user(scope, user_id))


def save_user(actor: Actor, user: User, *, action: str, before: dict[str, Any]) -> None:
    """Save the user if nobody changed it since it was read (412 otherwise), with its operation-log entry."""
    with change(actor, action, user, before=before) as c:
        c.save(user, stale="the profile has changed since it was read")


# -- avatar (S3) -----------------------------------------------------------------------


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


def live_sessions_of(scope: Scope, user_id: str, *, now: datetime) -> list[Session]:
    """Every live, unexpired session of one user (a Query of gsi1)."""
    return live_sessions(scope, user_id, now=now)


def change_password(
    actor: Actor, identity: LoginIdentity, verified_hash: str | None, revoke: Sequence[Session], *, now: datetime
) -> int:
    """Store the caller's new password and end `revoke` (riveredge.db.accounts.replace_password)."""
    return replace_password(actor, identity, verified_hash, revoke, now=now, action="user.change_password")
