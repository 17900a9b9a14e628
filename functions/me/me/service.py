"""Personal-centre rules: the caller edits only their own profile, avatar, preferences and password."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from riveredge import files, passwords
from riveredge.actor import Actor
from riveredge.clock import new_id, utcnow
from riveredge.db.models import DEFAULT_NOTIFICATIONS, Preferences, User
from riveredge.errors import FieldProblem, PreconditionFailedError, ValidationError

from me import repository
from me.models import (
    AVATAR_TYPES,
    AvatarConfirmRequest,
    PasswordChangeRequest,
    PreferencesUpdateRequest,
    ProfileUpdateRequest,
    Theme,
)

AVATAR_MAX_BYTES = 2 * 1024 * 1024
UPLOAD_EXPIRES_SECONDS = 600
DOWNLOAD_EXPIRES_SECONDS = 15 * 60
DEFAULT_PREFERENCES: dict[str, Any] = {
    "theme": "system",
    "language": "en",
    "timezone": "UTC",
    "notifications": DEFAULT_NOTIFICATIONS,
}
_ULID = r"[0-9A-HJKMNP-TV-Z]{26}"


@dataclass(frozen=True)
class Profile:
    user: User
    avatar_url: str | None


def _stale(expected: int, actual: int | None, what: str) -> PreconditionFailedError:
    return PreconditionFailedError(f"the {what} is at version {actual or 0}, not {expected}")


def _profile(user: User) -> Profile:
    url = files.download_url(user.avatar_key, DOWNLOAD_EXPIRES_SECONDS) if user.avatar_key else None
    return Profile(user, url)


# -- profile ---------------------------------------------------------------------------
def get_profile(actor: Actor) -> Profile:
    return _profile(repository.get_user(actor.scope, actor.user_id))


def update_profile(actor: Actor, request: ProfileUpdateRequest) -> Profile:
    """Change the fields the request names; a stale version is a 412 and nothing changes."""
    user = repository.get_user(actor.scope, actor.user_id)
    if request.version != user.version:
        raise _stale(request.version, user.version, "profile")
    before = user.snapshot()
    given = request.model_fields_set
    if "name" in given and request.name is not None:
        user.name = request.name
    if "bio" in given:
        user.bio = request.bio or None
    if "phone" in given:
        user.phone = request.phone or None
    if "contacts" in given:
        user.contacts = dict(request.contacts) if request.contacts else None
    repository.save_user(actor, user, action="user.update_profile", before=before)
    return _profile(user)


# -- avatar ----------------------------------------------------------------------------
@dataclass(frozen=True)
class AvatarUpload:
    url: str
    fields: dict[str, str]
    key: str


def _avatar_prefix(actor: Actor) -> str:
    return f"{actor.principal.tenant_id}/avatars/{actor.user_id}/"


def start_avatar_upload(actor: Actor, content_type: str) -> AvatarUpload:
    """A presigned POST for a new object under the caller's own avatar prefix (type and size in its policy)."""
    key = f"{_avatar_prefix(actor)}{new_id()}"
    post = files.presigned_upload(key, content_type, AVATAR_MAX_BYTES, UPLOAD_EXPIRES_SECONDS)
    return AvatarUpload(str(post["url"]), {str(k): str(v) for k, v in post["fields"].items()}, key)


def _key_problem(message: str) -> ValidationError:
    return ValidationError("the avatar cannot be used", errors=[FieldProblem("key", message)])


def confirm_avatar(actor: Actor, request: AvatarConfirmRequest) -> Profile:
    """Make an uploaded object the caller's avatar: it must be theirs, exist, and be a small image."""
    prefix = _avatar_prefix(actor)
    if not re.fullmatch(re.escape(prefix) + _ULID, request.key):
        raise _key_problem("not an upload key of yours (ask POST /api/me/avatar/upload for one)")
    stored = files.stored_object(request.key)
    if stored is None:
        raise _key_problem("nothing was uploaded with this key")
    if stored.content_type not in AVATAR_TYPES or not 0 < stored.size <= AVATAR_MAX_BYTES:
        raise _key_problem(f"the upload must be a PNG, JPEG or WebP image of at most {AVATAR_MAX_BYTES} bytes")
    user = repository.get_user(actor.scope, actor.user_id)
    if request.version is not None and request.version != user.version:
        raise _stale(request.version, user.version, "profile")
    before = user.snapshot()
    user.avatar_key = request.key
    repository.save_user(actor, user, action="user.update_avatar", before=before)
    return _profile(user)


# -- preferences -----------------------------------------------------------------------
@dataclass(frozen=True)
class PreferencesView:
    theme: Theme
    language: str
    timezone: str
    notifications: dict[str, bool]
    version: int
    updated_at: datetime | None = None


def _view(stored: Preferences | None) -> PreferencesView:
    if stored is None:
        defaults = DEFAULT_PREFERENCES
        return PreferencesView(
            defaults["theme"], defaults["language"], defaults["timezone"], dict(defaults["notifications"]), 0
        )
    notifications = {**DEFAULT_PREFERENCES["notifications"], **(stored.notifications or {})}
    return PreferencesView(
        cast(Theme, stored.theme),  # validated when it was stored
        stored.language,
        stored.timezone,
        notifications,
        int(stored.version or 0),
        stored.updated_at,
    )


def get_preferences(actor: Actor) -> PreferencesView:
    """The caller's preferences, or the defaults while none are stored (version 0)."""
    return _view(repository.get_preferences(actor.scope, actor.user_id))


def update_preferences(actor: Actor, request: PreferencesUpdateRequest) -> PreferencesView:
    stored = repository.get_preferences(actor.scope, actor.user_id)
    current = _view(stored)
    if request.version != current.version:
        raise _stale(request.version, current.version, "preferences")
    notifications = dict(current.notifications)
    if request.notifications is not None:
        changes = request.notifications.model_dump(exclude_none=True)
        notifications.update({k: bool(v) for k, v in changes.items()})
    values = {
        "theme": request.theme or current.theme,
        "language": request.language or current.language,
        "timezone": request.timezone or current.timezone,
        "notifications": notifications,
    }
    before = None if stored is None else stored.snapshot()
    preferences = stored or Preferences.new(actor.scope, actor.user_id, **values)
    for name, value in values.items():
        setattr(preferences, name, value)
    repository.save_preferences(actor, preferences, before=before)
    return _view(preferences)


# -- password --------------------------------------------------------------------------
def change_password(actor: Actor, request: PasswordChangeRequest) -> int:
    """Check the current password, store the new one, sign out every other session; answers how many."""
    found = repository.credentials(actor.scope, actor.user_id)
    if not passwords.verify_password(found.identity.password_hash, request.current_password):
        raise ValidationError(
            "the current password is not correct",
            errors=[FieldProblem("current_password", "is not correct")],
        )
    policy = found.tenant.password_policy if found.tenant else None  # the platform: the defaults
    now = utcnow()
    verified_hash = found.identity.password_hash
    passwords.set_password(found.identity, request.new_password, field="new_password", policy=policy, now=now)
    others = [
        s
        for s in repository.live_sessions_of(actor.scope, actor.user_id, now=now)
        if s.session_id != actor.principal.session_id
    ]
    return repository.change_password(actor, found.identity, verified_hash, others, now=now)
