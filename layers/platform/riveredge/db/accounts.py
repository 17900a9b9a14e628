"""Creating accounts: the user, their credential and the operation-log entry, in one transaction."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from pynamodb.expressions.update import Action

from riveredge import keys
from riveredge.clock import utcnow
from riveredge.db.base import TableModel
from riveredge.db.changes import Author, Change, change
from riveredge.db.models import LoginIdentity, Session, User
from riveredge.db.revocation import revoke_sessions
from riveredge.errors import ConflictError
from riveredge.scope import Scope


def create_user(
    author: Author,
    user: User,
    password_hash: str | None,
    *,
    consumed: TableModel | None = None,
    extra: list[TableModel] | None = None,
    also: Callable[[Change], None] | None = None,
) -> None:
    """Store `user` and a credential for their email (no password: they set one through an activation link).

    `consumed` is deleted in the same transaction (a pending admin, a used invitation...), `extra` items saved
    with it, and `also` may add further (conditional) writes to it, such as counting a use of an invitation.
    An email already in use is a ConflictError and nothing is written; so is a failed condition of `also`.
    """
    identity = _identity_for(author.scope, user.email)
    identity.user_id, identity.password_hash, identity.status = user.user_id, password_hash, user.status
    identity.password_changed_at = utcnow() if password_hash else None  # its age, for the policy's expiry
    taken = f"an account with the email {user.email} already exists"
    with change(author, "user.create", user) as c:
        c.create(user, conflict=taken)
        c.save(identity, conflict=taken)  # the version read: a racing sign-up of the same email fails here
        if consumed is not None:
            c.delete(consumed, conflict=taken)
        for item in extra or []:
            c.save(item, conflict=taken)
        if also is not None:
            also(c)


def password_actions(identity: LoginIdentity) -> list[Action]:
    """The UpdateItem actions that store what :func:`riveredge.passwords.set_password` put on `identity`."""
    history = LoginIdentity.password_history
    return [
        LoginIdentity.password_hash.set(identity.password_hash),
        LoginIdentity.password_changed_at.set(identity.password_changed_at),
        history.set(identity.password_history) if identity.password_history else history.remove(),
    ]


def live_sessions(scope: Scope, user_id: str, *, now: datetime) -> list[Session]:
    """Every live, unexpired session of one user (a Query of gsi1)."""
    live = (Session.status == "live") & (Session.expires_at > now)
    results = Session.gsi1.query(keys.user_sessions_index(scope, user_id), filter_condition=live)
    return [s for s in results if isinstance(s, Session) and s.user_id == user_id]


def replace_password(
    author: Author,
    identity: LoginIdentity,
    verified_hash: str | None,
    revoke: Sequence[Session],
    *,
    now: datetime,
    action: str,
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
        author,
        revoke,
        reason="password_changed",
        now=now,
        action=action,
        resource_id=str(identity.user_id),
        first=swap_hash,
    )
    return len(revoked)


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


ACTIVATION_DAYS = 7
_ACTIVATION_PREFIX = "act1"


def invite(user: User) -> str:
    """Make `user` an invited account (no password yet) and answer the token of its set-password link.

    Only a SHA-256 digest of the secret is kept on the account; the link expires after ACTIVATION_DAYS.
    """
    secret = secrets.token_urlsafe(32)
    user.status = "invited"
    user.activation_digest = hashlib.sha256(secret.encode()).hexdigest()
    user.activation_expires = utcnow() + timedelta(days=ACTIVATION_DAYS)
    return f"{_ACTIVATION_PREFIX}.{user.user_id}.{secret}"


def parse_activation(token: str) -> tuple[str, str]:
    """(user id, digest of the secret) of an activation token; ValueError for anything else."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != _ACTIVATION_PREFIX or not parts[1] or not parts[2]:
        raise ValueError("not an activation token")
    return parts[1], hashlib.sha256(parts[2].encode()).hexdigest()
