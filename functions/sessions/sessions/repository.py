"""Login-log and session persistence: the only code of this function that touches DynamoDB."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from riveredge import keys, oplog
from riveredge.db import transaction
from riveredge.db.models import LoginLogEntry, Session, User
from riveredge.scope import Scope

# A transaction holds at most 100 writes: the operation-log entry and up to 99 sessions.
SESSIONS_PER_TRANSACTION = 99
FILTERED_PAGE_SIZE = 500  # with a filter, read more per request than the page returns
_ATTEMPTS = 3


@dataclass(frozen=True)
class LoginLogQuery:
    """What to read of the login log: a sort-key range (ULID bounds) and filters on the other attributes."""

    lowest_id: str | None = None
    highest_id: str | None = None
    email: str | None = None
    user_id: str | None = None
    success: bool | None = None

    def range_condition(self) -> Condition | None:
        if self.lowest_id and self.highest_id:
            return LoginLogEntry.sk.between(self.lowest_id, self.highest_id)
        if self.lowest_id:
            return LoginLogEntry.sk >= self.lowest_id
        if self.highest_id:
            return LoginLogEntry.sk <= self.highest_id
        return None

    def filter_condition(self) -> Condition | None:
        conditions: list[Condition] = []
        if self.email is not None:
            conditions.append(LoginLogEntry.email == self.email)
        if self.user_id is not None:
            conditions.append(LoginLogEntry.user_id == self.user_id)
        if self.success is not None:
            conditions.append(LoginLogEntry.success == self.success)
        combined: Condition | None = None
        for condition in conditions:
            combined = condition if combined is None else combined & condition
        return combined


def login_log_page(
    scope: Scope, query: LoginLogQuery, *, limit: int, start: dict[str, Any] | None
) -> tuple[list[LoginLogEntry], dict[str, Any] | None]:
    """One page of the login log, newest first (one Query, more only when filters skip entries)."""
    filters = query.filter_condition()
    results = LoginLogEntry.query(
        keys.collection(scope, "LOGINLOG"),
        range_key_condition=query.range_condition(),
        filter_condition=filters,
        scan_index_forward=False,
        limit=limit,
        page_size=limit if filters is None else max(limit, FILTERED_PAGE_SIZE),
        last_evaluated_key=start,
    )
    entries = [e for e in results if isinstance(e, LoginLogEntry)]
    return entries, results.last_evaluated_key


def login_log_entries(scope: Scope, query: LoginLogQuery, *, at_most: int) -> list[LoginLogEntry]:
    """Up to `at_most` entries of the login log, newest first, in 1 MB pages (for an export)."""
    results = LoginLogEntry.query(
        keys.collection(scope, "LOGINLOG"),
        range_key_condition=query.range_condition(),
        filter_condition=query.filter_condition(),
        scan_index_forward=False,
        limit=at_most,
    )
    return [e for e in results if isinstance(e, LoginLogEntry)]


def _live(now: datetime) -> Condition:
    live: Condition = (Session.status == "live") & (Session.expires_at > now)
    return live


def live_sessions_page(
    scope: Scope, *, now: datetime, limit: int, start: dict[str, Any] | None
) -> tuple[list[Session], dict[str, Any] | None]:
    """One page of the scope's live, unexpired sessions, newest first."""
    results = Session.query(
        keys.collection(scope, "SESSION"),
        filter_condition=_live(now),
        scan_index_forward=False,
        limit=limit,
        page_size=max(limit, FILTERED_PAGE_SIZE),
        last_evaluated_key=start,
    )
    sessions = [s for s in results if isinstance(s, Session)]
    return sessions, results.last_evaluated_key


def live_sessions_of(scope: Scope, user_id: str, *, now: datetime) -> list[Session]:
    """Every live, unexpired session of one user (a Query of gsi1)."""
    results = Session.gsi1.query(keys.user_sessions_index(scope, user_id), filter_condition=_live(now))
    return [s for s in results if isinstance(s, Session) and s.user_id == user_id]


def users(scope: Scope, user_ids: Iterable[str]) -> dict[str, User]:
    """The users of `user_ids` that exist, by id (BatchGetItem, 100 keys per request)."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    found = User.batch_get([(k.pk, k.sk) for k in (keys.user(scope, uid) for uid in wanted)])
    return {u.user_id: u for u in found if isinstance(u, User)}


def user_exists(scope: Scope, user_id: str) -> bool:
    key = keys.user(scope, user_id)
    try:
        User.get(key.pk, key.sk, attributes_to_get=["pk"])
    except User.DoesNotExist:
        return False
    return True


def find_session(scope: Scope, session_id: str) -> Session | None:
    key = keys.session(scope, session_id)
    try:
        return Session.get(key.pk, key.sk, consistent_read=True)
    except Session.DoesNotExist:
        return None


def revoke(
    scope: Scope,
    sessions: Sequence[Session],
    *,
    reason: str,
    now: datetime,
    actor_id: str,
    action: str,
    resource: str,
    resource_id: str,
    request_id: str | None,
) -> list[Session]:
    """Revoke the sessions still live among `sessions`; answer those this call revoked.

    Each transaction holds up to 99 sessions and the operation-log entry that names them. A
    session revoked meanwhile (a logout, another admin) fails its condition; the transaction is
    then retried without it, so the answer counts only what this call changed.
    """
    revoked: list[Session] = []
    for start in range(0, len(sessions), SESSIONS_PER_TRANSACTION):
        chunk = list(sessions[start : start + SESSIONS_PER_TRANSACTION])
        for _ in range(_ATTEMPTS):
            if not chunk:
                break
            try:
                _revoke_together(scope, chunk, reason, now, actor_id, action, resource, resource_id, request_id)
            except TransactWriteError as error:
                if error.cause_response_code != "TransactionCanceledException":
                    raise
                chunk = _still_live(scope, chunk, error, now)
                continue
            for session in chunk:
                session.status, session.revoked_reason, session.updated_at = "revoked", reason, now
            revoked.extend(chunk)
            break
    return revoked


def _revoke_together(
    scope: Scope,
    chunk: list[Session],
    reason: str,
    now: datetime,
    actor_id: str,
    action: str,
    resource: str,
    resource_id: str,
    request_id: str | None,
) -> None:
    with transaction() as tx:
        oplog.record(  # a put: the first item of the transaction
            tx,
            scope,
            actor_id=actor_id,
            action=action,
            resource=resource,
            resource_id=resource_id,
            before={"status": "live", "session_ids": [s.session_id for s in chunk]},
            after={"status": "revoked", "revoked_reason": reason, "session_ids": [s.session_id for s in chunk]},
            request_id=request_id,
        )
        for session in chunk:  # updates follow, in this order
            tx.update(
                session,
                actions=[
                    Session.status.set("revoked"),
                    Session.revoked_reason.set(reason),
                    Session.updated_at.set(now),
                ],
                condition=Session.status == "live",
                add_version_condition=False,  # a refresh racing us must not stop the revocation
            )


def _still_live(scope: Scope, chunk: list[Session], error: TransactWriteError, now: datetime) -> list[Session]:
    """The sessions of a cancelled chunk that did not fail their own condition (re-read when unsure)."""
    reasons = list(getattr(error, "cancellation_reasons", None) or [])
    if len(reasons) == len(chunk) + 1:
        failed = {i for i, r in enumerate(reasons[1:]) if r is not None and r.code == "ConditionalCheckFailed"}
        if failed:
            return [s for i, s in enumerate(chunk) if i not in failed]
    fresh = [find_session(scope, s.session_id) for s in chunk]
    return [s for s in fresh if s is not None and s.status == "live" and s.expires_at > now]
