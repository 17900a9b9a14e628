"""The only code of the inbox function that touches DynamoDB: one user's inbox partition and its counter."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.expressions.condition import Condition
from pynamodb.pagination import ResultIterator
from riveredge import keys
from riveredge.db.changes import Author, Change, change
from riveredge.db.models import InboxMessage
from riveredge.errors import ConflictError
from riveredge.inbox import count_unread
from riveredge.scope import Scope

MESSAGES_PER_TRANSACTION = 99  # a transaction holds at most 100 writes: the unread counter and 99 messages
FILTERED_PAGE_SIZE = 200  # items read per request while a filter drops some
ATTEMPTS = 3
LOWEST_ID, HIGHEST_ID = "0" * 26, "Z" * 26  # around every ULID (and away from the counter's "#UNREAD")


@dataclass(frozen=True)
class MessageQuery:
    """What a list asks of one inbox: unread or read only, one type, ids (ULIDs) within a time range."""

    read: bool | None = None
    type: str | None = None
    lowest_id: str | None = None
    highest_id: str | None = None


def find(scope: Scope, user_id: str, message_id: str) -> InboxMessage | None:
    return InboxMessage.find(keys.inbox_message(scope, user_id, message_id))


def many(scope: Scope, user_id: str, message_ids: Iterable[str]) -> dict[str, InboxMessage]:
    """The messages of `message_ids` in the user's inbox, by id (one consistent BatchGetItem)."""
    wanted = [keys.inbox_message(scope, user_id, m) for m in sorted(set(message_ids))]
    if not wanted:
        return {}
    found = InboxMessage.batch_get([(k.pk, k.sk) for k in wanted], consistent_read=True)
    return {m.message_id: m for m in found if isinstance(m, InboxMessage) and m.user_id == user_id}


def page(
    scope: Scope, user_id: str, query: MessageQuery, *, limit: int, start: dict[str, Any] | None
) -> tuple[list[InboxMessage], dict[str, Any] | None]:
    """One page of the user's messages, newest first: the unread ones from the sparse unread index, the others
    from the inbox partition itself (one Query either way; a type filter may read further)."""
    filters: Condition | None = InboxMessage.type == query.type if query.type else None
    low, high = query.lowest_id or LOWEST_ID, query.highest_id or HIGHEST_ID
    results: ResultIterator[Any]
    if query.read is False:
        results = InboxMessage.gsi1.query(
            keys.inbox_unread_index(scope, user_id),
            InboxMessage.gsi1sk.between(low, high),
            filter_condition=filters,
            scan_index_forward=False,
            limit=limit,
            page_size=max(limit, FILTERED_PAGE_SIZE) if filters is not None else limit,
            last_evaluated_key=start,
        )
    else:
        if query.read is True:
            read_only = InboxMessage.read == True  # noqa: E712 (a DynamoDB condition, not a Python test)
            filters = read_only if filters is None else filters & read_only
        results = InboxMessage.query(
            keys.inbox(scope, user_id),
            InboxMessage.sk.between(low, high),
            filter_condition=filters,
            scan_index_forward=False,
            limit=limit,
            page_size=max(limit, FILTERED_PAGE_SIZE) if filters is not None else limit,
            last_evaluated_key=start,
            consistent_read=True,
        )
    messages = [m for m in results if isinstance(m, InboxMessage)]
    return messages, results.last_evaluated_key


def unread_candidates(scope: Scope, user_id: str, *, limit: int) -> list[InboxMessage]:
    """Up to `limit` of the user's unread messages, oldest first, from the unread index (which may lag a
    moment: the writes that mark them read are conditional on the item itself)."""
    results = InboxMessage.gsi1.query(keys.inbox_unread_index(scope, user_id), limit=limit)
    return [m for m in results if isinstance(m, InboxMessage)]


def _chunks(messages: Sequence[InboxMessage]) -> Iterable[list[InboxMessage]]:
    for start in range(0, len(messages), MESSAGES_PER_TRANSACTION):
        yield list(messages[start : start + MESSAGES_PER_TRANSACTION])


def _retrying(
    author: Author,
    action: str,
    chunk: list[InboxMessage],
    write: Callable[[Change, list[InboxMessage]], None],
    refresh: Callable[[list[InboxMessage]], list[InboxMessage]] | None = None,
) -> list[InboxMessage]:
    """Run `write(c, pending)` in one transaction. The messages whose condition failed are left out (or, with
    `refresh`, read again and kept if they still qualify) and the rest tried again; a transaction that met a
    concurrent one is tried again as it was. Answers the messages the committed transaction changed."""
    pending = chunk
    for _ in range(ATTEMPTS):
        if not pending:
            return []
        try:
            with change(author, action) as c:
                write(c, pending)
        except ConflictError:
            failed = [m for m in pending if (m.pk, m.sk) in c.failed]
            pending = [m for m in pending if (m.pk, m.sk) not in c.failed]
            if refresh is not None and failed:
                pending.extend(refresh(failed))
            continue
        return pending
    raise ConflictError("the messages changed too often; try again")


def mark_read(
    author: Author, scope: Scope, user_id: str, messages: Sequence[InboxMessage], *, now: datetime
) -> list[InboxMessage]:
    """Mark unread `messages` read, each only if it is still unread, and count them out of the unread counter in
    the same transaction (99 a transaction). Answers those this call marked."""

    def write(c: Change, pending: list[InboxMessage]) -> None:
        for message in pending:
            c.update(
                message,
                [
                    InboxMessage.read.set(True),
                    InboxMessage.read_at.set(now),
                    InboxMessage.gsi1pk.remove(),
                    InboxMessage.gsi1sk.remove(),
                    InboxMessage.updated_at.set(now),
                ],
                condition=InboxMessage.read == False,  # noqa: E712 (read meanwhile: not counted twice)
                versioned=False,
                conflict="the message was read or deleted meanwhile",
            )
        count_unread(c, scope, user_id, -len(pending))

    marked: list[InboxMessage] = []
    for chunk in _chunks([m for m in messages if not m.read]):
        for message in _retrying(author, "inbox.read", chunk, write):
            message.read, message.read_at, message.updated_at = True, now, now
            message.gsi1pk = message.gsi1sk = None
            marked.append(message)
    return marked


def delete(
    author: Author, scope: Scope, user_id: str, messages: Sequence[InboxMessage], *, versioned: bool = False
) -> list[InboxMessage]:
    """Delete `messages`, each only if its read state is still the one read (so an unread one is counted out
    of the unread counter exactly once). Answers those this call deleted. `versioned`: only at the version
    read too, and a change meanwhile is a 412 (the caller named the version it saw)."""

    def write(c: Change, pending: list[InboxMessage]) -> None:
        for message in pending:
            c.delete(
                message,
                condition=InboxMessage.read == bool(message.read),
                versioned=versioned,
                conflict=None if versioned else "the message was read or deleted meanwhile",
                stale="the message changed since it was read; read it again" if versioned else None,
            )
        unread = sum(1 for m in pending if not m.read)
        if unread:
            count_unread(c, scope, user_id, -unread)

    def still_there(failed: list[InboxMessage]) -> list[InboxMessage]:  # read meanwhile: delete it as it is now
        return list(many(scope, user_id, (m.message_id for m in failed)).values())

    deleted: list[InboxMessage] = []
    for chunk in _chunks(messages):
        deleted.extend(_retrying(author, "inbox.delete", chunk, write, still_there))
    return deleted
