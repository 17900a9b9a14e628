"""My-messages rules: the caller's own inbox only, pages and filters, read receipts for the senders."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from riveredge import cursors, inbox
from riveredge.actor import Actor
from riveredge.clock import as_utc, ulid_bound, utcnow
from riveredge.db.changes import expect_version
from riveredge.db.models import InboxMessage
from riveredge.errors import BadRequestError, FieldProblem, NotFoundError
from riveredge.observability import logger

from inbox import repository

READ_ALL_AT_MOST = 5_000  # messages one read-all marks (about 51 transactions); the answer says what is left
_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
Outcome = Literal["read", "already_read", "deleted", "not_found"]


@dataclass(frozen=True)
class MessageFilters:
    """The filters of a list (each optional)."""

    read: bool | None = None
    type: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def fingerprint(self, user_id: str) -> str:
        """Binds a cursor to the caller (their partition) and to these filters."""
        return cursors.fingerprint(
            {
                "route": "me-messages",
                "user_id": user_id,
                "read": self.read,
                "type": self.type,
                "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None,
            }
        )

    def query(self) -> repository.MessageQuery:
        since = as_utc(self.since, "since") if self.since else None
        until = as_utc(self.until, "until") if self.until else None
        if since and until and until < since:
            raise BadRequestError("until is before since", errors=[FieldProblem("until", "must not be before since")])
        return repository.MessageQuery(
            read=self.read,
            type=self.type,
            lowest_id=ulid_bound(since, upper=False) if since else None,
            highest_id=ulid_bound(until, upper=True) if until else None,
        )


@dataclass(frozen=True)
class Result:
    id: str
    status: Outcome


def messages_page(
    actor: Actor, filters: MessageFilters, *, limit: int, cursor: str | None
) -> tuple[list[InboxMessage], str | None]:
    """A page of the caller's messages, newest first."""
    query = filters.query()
    fingerprint = filters.fingerprint(actor.user_id)
    start = cursors.decode(actor.scope, fingerprint, cursor)
    found, last = repository.page(actor.scope, actor.user_id, query, limit=limit, start=start)
    return found, cursors.encode(actor.scope, fingerprint, last)


def unread_count(actor: Actor) -> int:
    return inbox.unread_count(actor.scope, actor.user_id)


def get_message(actor: Actor, message_id: str) -> InboxMessage:
    """One of the caller's messages; anyone else's (another user's, another tenant's) is a 404."""
    found = repository.find(actor.scope, actor.user_id, message_id) if _ID.match(message_id) else None
    if found is None:
        raise NotFoundError("no such message")
    return found


def read_message(actor: Actor, message_id: str) -> InboxMessage:
    """Mark one of the caller's messages read (one already read stays as it is)."""
    message = get_message(actor, message_id)
    if message.read:
        return message
    marked = repository.mark_read(actor, actor.scope, actor.user_id, [message], now=utcnow())
    _receipts(actor, marked)
    return marked[0] if marked else get_message(actor, message_id)


def read_messages(actor: Actor, message_ids: list[str]) -> list[Result]:
    """Mark several of the caller's messages read; each answers read, already_read or not_found."""
    found = repository.many(actor.scope, actor.user_id, message_ids)
    marked = repository.mark_read(actor, actor.scope, actor.user_id, list(found.values()), now=utcnow())
    _receipts(actor, marked)
    done = {m.message_id for m in marked}
    return [
        Result(m, "read" if m in done else "already_read" if m in found else "not_found") for m in _unique(message_ids)
    ]


def read_all(actor: Actor) -> int:
    """Mark every unread message of the caller read (at most READ_ALL_AT_MOST in one call); answers how many."""
    marked, now = 0, utcnow()
    while marked < READ_ALL_AT_MOST:
        size = min(repository.MESSAGES_PER_TRANSACTION, READ_ALL_AT_MOST - marked)
        candidates = repository.unread_candidates(actor.scope, actor.user_id, limit=size)
        if not candidates:
            break
        done = repository.mark_read(actor, actor.scope, actor.user_id, candidates, now=now)
        _receipts(actor, done)
        marked += len(done)
        if not done:
            break  # what the index still lists was read already (it lags a moment): nothing left to mark
    return marked


def delete_message(actor: Actor, message_id: str, expected_version: int | None = None) -> None:
    """Delete one of the caller's messages (at `expected_version` when the caller names one: else a 412)."""
    message = get_message(actor, message_id)
    expect_version(message, expected_version)
    if not repository.delete(actor, actor.scope, actor.user_id, [message], versioned=expected_version is not None):
        raise NotFoundError("no such message")  # deleted meanwhile


def delete_messages(actor: Actor, message_ids: list[str]) -> list[Result]:
    """Delete several of the caller's messages; each answers deleted or not_found."""
    found = repository.many(actor.scope, actor.user_id, message_ids)
    deleted = {m.message_id for m in repository.delete(actor, actor.scope, actor.user_id, list(found.values()))}
    return [Result(m, "deleted" if m in deleted else "not_found") for m in _unique(message_ids)]


def _unique(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def _receipts(actor: Actor, marked: list[InboxMessage]) -> None:
    """Tell the senders' statistics which sends this caller has now read (riveredge.messaging).

    The reads have committed; a receipt that cannot be recorded is logged, never a failed request.
    """
    send_ids = sorted({m.send_id for m in marked if m.send_id})
    if not send_ids:
        return
    from riveredge import messaging

    try:
        messaging.mark_read(actor.scope, actor.user_id, send_ids)
    except Exception:  # the statistics must not fail the reader's request (see the docstring)
        logger.exception("read receipts were not recorded", extra={"send_ids": send_ids})
