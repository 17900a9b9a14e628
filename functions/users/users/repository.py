"""Account persistence: the only code of this function that touches DynamoDB."""

from __future__ import annotations

from typing import Any

from riveredge import keys, realtime
from riveredge.actor import Actor
from riveredge.clock import utcnow
from riveredge.db.changes import Author, System, change
from riveredge.db.models import Department, LoginIdentity, Position, Session, Tenant, User
from riveredge.scope import Scope


def get(scope: Scope, user_id: str) -> User:
    return User.get_or_404(keys.user(scope, user_id))


def find(scope: Scope, user_id: str) -> User | None:
    return User.find(keys.user(scope, user_id))


def department(scope: Scope, department_id: str) -> Department | None:
    return Department.find(keys.department(scope, department_id), consistent=False)


def position(scope: Scope, position_id: str) -> Position | None:
    return Position.find(keys.position(scope, position_id), consistent=False)


def tenant(tenant_id: str) -> Tenant | None:
    return Tenant.find(keys.tenant(tenant_id), consistent=False)


def identity(scope: Scope, email: str) -> LoginIdentity | None:
    return LoginIdentity.find(keys.login(scope, email))


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


def save_invited(actor: Actor, user: User) -> None:
    """An invited account: one item (its credential comes when the link is used) and the log entry."""
    with change(actor, "user.invite", user) as c:
        c.create(user, conflict="the account already exists")


def update(
    actor: Author,
    user: User,
    before: dict[str, Any],
    *,
    action: str,
    credential: LoginIdentity | None = None,
    sessions: list[Session] | None = None,
) -> None:
    """The account (at the version read), its credential's status and revoked sessions, logged: one transaction."""
    with change(actor, action, user, before=before) as c:
        c.save(user, stale="the account changed meanwhile; read it again")
        if credential is not None:
            c.save(credential, stale="the account changed meanwhile; read it again")
        for session in sessions or []:
            c.update(session, [Session.status.set("revoked"), Session.revoked_reason.set(action)])
    if sessions:
        realtime.close_sessions(actor.scope, (s.session_id for s in sessions))  # their WebSocket connections


def delete(actor: Actor, user: User, credential: LoginIdentity | None) -> None:
    with change(actor, "user.delete", user, before=user.snapshot()) as c:
        c.delete(user, stale="the account changed meanwhile; read it again")
        if credential is not None and credential.user_id == user.user_id:
            c.delete(credential, stale="the account changed meanwhile; read it again")


def activate(scope: Scope, user: User, credential: LoginIdentity, before: dict[str, Any], *, action: str) -> None:
    """The account becomes active with its credential (a taken email fails the credential's condition)."""
    used = "this link was used already, or the email belongs to another account"
    with change(System(scope, user.user_id), action, user, before=before) as c:
        c.save(user, conflict=used)
        c.save(credential, conflict=used)
