"""Session and login-log rules: filters, pages, the export cap, force sign-out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from riveredge import cursors, spreadsheets
from riveredge.actor import Actor
from riveredge.clock import as_utc, iso, ulid_bound, utcnow
from riveredge.db.models import LoginLogEntry, Session, User
from riveredge.db.revocation import revoke_sessions
from riveredge.errors import BadRequestError, FieldProblem, NotFoundError, ValidationError

from sessions import repository

EXPORT_MAX_ROWS = 10_000
FORCED = "forced"
EXPORT_HEADERS = ["Time (UTC)", "Email", "User id", "Success", "Reason", "IP", "User agent"]
_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


@dataclass(frozen=True)
class LoginLogFilters:
    """The filters a client may put on the login log (each optional)."""

    email: str | None = None
    user_id: str | None = None
    success: bool | None = None
    since: datetime | None = None
    until: datetime | None = None

    def fingerprint(self, route: str) -> str:
        return cursors.fingerprint(
            {
                "route": route,
                "email": self.email,
                "user_id": self.user_id,
                "success": self.success,
                "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None,
            }
        )


def _query(filters: LoginLogFilters) -> repository.LoginLogQuery:
    since = as_utc(filters.since, "since") if filters.since else None
    until = as_utc(filters.until, "until") if filters.until else None
    if since and until and until < since:
        raise BadRequestError("until is before since", errors=[FieldProblem("until", "must not be before since")])
    return repository.LoginLogQuery(
        lowest_id=ulid_bound(since, upper=False) if since else None,
        highest_id=ulid_bound(until, upper=True) if until else None,
        email=filters.email.strip().lower() if filters.email else None,
        user_id=filters.user_id or None,
        success=filters.success,
    )


def login_log_page(
    actor: Actor, filters: LoginLogFilters, *, limit: int, cursor: str | None
) -> tuple[list[LoginLogEntry], str | None]:
    """A page of the caller's organisation's login log, newest first."""
    query = _query(filters)
    fingerprint = filters.fingerprint("login-logs")
    start = cursors.decode(actor.scope, fingerprint, cursor)
    entries, last = repository.login_log_page(actor.scope, query, limit=limit, start=start)
    return entries, cursors.encode(actor.scope, fingerprint, last)


@dataclass(frozen=True)
class Export:
    filename: str
    content: bytes


def export_login_log(actor: Actor, filters: LoginLogFilters) -> Export:
    """The filtered login log as an xlsx workbook; more than EXPORT_MAX_ROWS entries is refused."""
    query = _query(filters)
    entries = repository.login_log_entries(actor.scope, query, at_most=EXPORT_MAX_ROWS + 1)
    if len(entries) > EXPORT_MAX_ROWS:
        raise ValidationError(
            f"more than {EXPORT_MAX_ROWS} entries match; narrow the range",
            errors=[FieldProblem("since", f"choose since / until so that at most {EXPORT_MAX_ROWS} entries match")],
        )
    rows = (
        [
            iso(e.created_at) if e.created_at else "",
            e.email,
            e.user_id,
            e.success,
            e.reason,
            e.ip,
            e.user_agent,
        ]
        for e in entries
    )
    content = spreadsheets.workbook_bytes("Login log", EXPORT_HEADERS, rows)
    return Export(f"login-log-{utcnow().strftime('%Y%m%dT%H%M%SZ')}.xlsx", content)


@dataclass(frozen=True)
class OnlineSession:
    session: Session
    user: User | None


def online_users_page(actor: Actor, *, limit: int, cursor: str | None) -> tuple[list[OnlineSession], str | None]:
    """A page of live sessions, newest first, each with its user (one BatchGetItem per page)."""
    fingerprint = cursors.fingerprint({"route": "online-users"})
    start = cursors.decode(actor.scope, fingerprint, cursor)
    sessions, last = repository.live_sessions_page(actor.scope, now=utcnow(), limit=limit, start=start)
    people = repository.users(actor.scope, (s.user_id for s in sessions))
    online = [OnlineSession(s, people.get(s.user_id)) for s in sessions]
    return online, cursors.encode(actor.scope, fingerprint, last)


def revoke_session(actor: Actor, session_id: str) -> Session:
    """Force sign-out of one session: the authorizer refuses its tokens from the next request on."""
    session = repository.find_session(actor.scope, session_id) if _ID.match(session_id) else None
    if session is None:
        raise NotFoundError("no such session")
    if session.status != "live":
        return session  # already over: nothing to change
    revoked = revoke_sessions(
        actor,
        [session],
        reason=FORCED,
        now=utcnow(),
        action="session.revoke",
        resource_id=session_id,
    )
    return revoked[0] if revoked else repository.find_session(actor.scope, session_id) or session


def revoke_user_sessions(actor: Actor, user_id: str) -> int:
    """Force sign-out of every live session of a user; answers how many this call ended."""
    if not _ID.match(user_id) or not repository.user_exists(actor.scope, user_id):
        raise NotFoundError("no such user")
    now = utcnow()
    sessions = repository.live_sessions_of(actor.scope, user_id, now=now)
    revoked = revoke_sessions(
        actor, sessions, reason=FORCED, now=now, action="session.revoke_user", resource_id=user_id
    )
    return len(revoked)
