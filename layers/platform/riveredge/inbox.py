"""My messages, the layer's part: the JSON shape of an inbox message and the writes that keep the unread count.

Each user's inbox is a partition of its own (``keys.inbox``): the messages, sorted by their ULIDs, and one
counter item (``InboxUnread``) that says how many of them are unread. Every write that changes what is unread
changes the counter in the same transaction, by ``ADD`` (never a read-modify-write), so the count is exact
and reading it is one GetItem:

- the message fan-out (riveredge.messaging) adds each in-app message with :func:`deliver` inside its page's
  transaction;
- the owner marks messages read or deletes them through functions/inbox, which uses :func:`count_unread`
  on writes conditional on the message still being unread.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from riveredge import keys
from riveredge.clock import iso
from riveredge.db.changes import Change
from riveredge.db.models import InboxMessage, InboxUnread
from riveredge.scope import Scope

FRAME_TYPE = "message"  # the WebSocket frame of a new message: {"type": "message", "message": <payload>}


def message_payload(item: InboxMessage) -> dict[str, Any]:
    """The JSON shape of one message, as ``GET /api/me/messages`` lists it and the WebSocket push sends it
    (``version`` is what ``DELETE`` takes as If-Match)."""
    return {
        "id": item.message_id,
        "type": item.type,
        "title": item.title,
        "content": item.content,
        "read": bool(item.read),
        "read_at": iso(item.read_at) if item.read_at else None,
        "created_at": iso(item.created_at) if item.created_at else None,
        "send_id": item.send_id,
        "link": item.link,
        "version": int(item.version or 0),
    }


def message_frame(item: InboxMessage) -> dict[str, Any]:
    """The WebSocket frame that tells a connected user about a new message."""
    return {"type": FRAME_TYPE, "message": message_payload(item)}


def count_unread(c: Change, scope: Scope, user_id: str, delta: int) -> None:
    """Move `user_id`'s unread count by `delta` within change `c` (one write of its transaction).

    The counter item is created by its first ``ADD``; it carries no version, so concurrent changes of the
    same inbox each count without conflicting. Callers change it only together with a write whose condition
    makes the delta true (a new message that was not there, a message that was still unread).
    """
    counter = InboxUnread.new(scope, user_id)
    c.update(counter, [InboxUnread.unread.add(delta), InboxUnread.entity.set(InboxUnread)], versioned=False)


def deliver(c: Change, message: InboxMessage, *, scope: Scope | None = None) -> None:
    """Put `message` (unread) in its owner's inbox within change `c` and count it unread: two writes.

    The message's key must not exist yet: a message already delivered (a retried page writing the same
    deterministic id) fails its condition, the change is a 409 ConflictError and ``c.failed`` holds the
    message's key, so the caller can tell a retry from a fault and leave that message out. `scope` is the
    message's tenant (the author's by default).
    """
    deliver_all(c, [message], scope=scope)


def deliver_all(c: Change, messages: Sequence[InboxMessage], *, scope: Scope | None = None) -> None:
    """:func:`deliver` for several messages, one counter write per user (a transaction may touch an item only
    once): len(messages) + the number of users writes."""
    owner = scope or c.author.scope
    per_user: Counter[str] = Counter()
    for message in messages:
        message.read, message.read_at = False, None
        message.gsi1pk, message.gsi1sk = keys.inbox_unread_index(owner, message.user_id), message.message_id
        c.create(message, conflict="the message is in the inbox already")
        per_user[message.user_id] += 1
    for user_id, added in per_user.items():
        count_unread(c, owner, user_id, added)


def unread_count(scope: Scope, user_id: str) -> int:
    """How many of `user_id`'s messages are unread (one consistent GetItem of the counter)."""
    counter = InboxUnread.find(keys.inbox_unread(scope, user_id))
    return max(int(counter.unread or 0), 0) if counter is not None else 0
