"""Ending sessions: many at once, each transaction logged, racing sign-outs and refreshes tolerated."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from riveredge import keys, realtime
from riveredge.db.changes import Author, Change, change
from riveredge.db.models import Session
from riveredge.errors import ConflictError

SESSIONS_PER_TRANSACTION = 99  # a transaction holds at most 100 writes: the log entry and 99 sessions
ATTEMPTS = 3


def revoke_sessions(
    author: Author,
    sessions: Sequence[Session],
    *,
    reason: str,
    now: datetime,
    action: str,
    resource_id: str,
    first: Callable[[Change], None] | None = None,
) -> list[Session]:
    """Revoke the sessions still live among `sessions`, closing their WebSocket connections (riveredge.realtime)
    once each transaction has committed; answers those this call revoked.

    Each transaction holds up to 99 sessions and the operation-log entry naming them (resource ``session``,
    `resource_id` the session or the user whose sessions end); `first` adds one more
    write to the first transaction (a new password hash), which then holds 98. A session revoked meanwhile
    (a logout, another admin) fails its condition and the transaction is retried without it, so the answer
    counts only what this call changed. When a write of `first` fails, its refusal is raised.
    """
    revoked: list[Session] = []
    pending = list(sessions)
    start, extra = 0, first
    while extra is not None or start < len(pending):
        size = SESSIONS_PER_TRANSACTION - (1 if extra is not None else 0)
        chunk = pending[start : start + size]
        start += size
        for _ in range(ATTEMPTS):
            try:
                with change(author, action) as c:
                    ids = [s.session_id for s in chunk]
                    c.log(
                        action,
                        Session.noun,
                        resource_id,
                        before={"status": "live", "session_ids": ids},
                        after={"status": "revoked", "revoked_reason": reason, "session_ids": ids},
                    )
                    if extra is not None:
                        extra(c)
                    for session in chunk:
                        c.update(
                            session,
                            [
                                Session.status.set("revoked"),
                                Session.revoked_reason.set(reason),
                                Session.updated_at.set(now),
                            ],
                            condition=Session.status == "live",
                            versioned=False,  # a refresh racing us must not stop the revocation
                            conflict="the session ended meanwhile",
                        )
            except ConflictError:
                ours = {(s.pk, s.sk) for s in chunk}
                if c.failed - ours:
                    raise  # a write of `first` failed: the caller's refusal
                chunk = _still_live(author, chunk, c.failed, now)
                continue
            for session in chunk:
                session.status, session.revoked_reason, session.updated_at = "revoked", reason, now
            revoked.extend(chunk)
            realtime.close_sessions(author.scope, (s.session_id for s in chunk))  # their WebSocket connections
            break
        else:
            raise ConflictError("the sessions changed too often; try again")
        extra = None
    return revoked


def _still_live(author: Author, chunk: list[Session], failed: set[tuple[str, str]], now: datetime) -> list[Session]:
    """The sessions of a cancelled chunk that did not fail their own condition (read again when unsure)."""
    if failed:
        return [s for s in chunk if (s.pk, s.sk) not in failed]
    fresh = [Session.find(keys.session(author.scope, s.session_id)) for s in chunk]
    return [s for s in fresh if s is not None and s.status == "live" and s.expires_at > now]
