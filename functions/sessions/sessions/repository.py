"""Login-log and session persistence: the only code of this function that touches DynamoDB."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.expressions.condition import Condition
from riveredge import keys
from riveredge.db.models import LoginLogEntry, Session, User
from riveredge.scope import Scope

FILTERED_PAGE_SIZE = 500  # with a filter, read more per request than the page returns


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
    return Session.find(keys.session(scope, session_id))
