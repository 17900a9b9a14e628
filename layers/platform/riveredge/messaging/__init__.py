"""Message management as other modules use it: sends, delivery records, read receipts.

A push (``POST /api/messages/send``, functions/messages) is a :class:`~riveredge.messaging.models.MessageSend`
written with its outbox event; the fan-out (functions/message_fanout) resolves the recipients in pages and
writes, per page and in one transaction, a page marker, one :class:`~riveredge.messaging.models.MessageDelivery`
per recipient and channel, the in-app inbox messages and the send's counters. Channels and their configs are
in :mod:`riveredge.messaging.channels`, what a message says on each in :mod:`riveredge.messaging.content`.

The inbox (functions/inbox) tells the send that a message was read::

    from riveredge import messaging

    messaging.mark_read(scope, user_id, [send_id, ...])
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable

from riveredge import keys
from riveredge.clock import utcnow
from riveredge.db.changes import System, change
from riveredge.errors import ConflictError, DomainError
from riveredge.messaging.models import CHANNELS, STATUSES, MessageDelivery, MessageSend
from riveredge.observability import logger
from riveredge.scope import Scope
from riveredge.settings import get_settings

__all__ = ["CHANNELS", "STATUSES", "mark_read", "schedule_name"]

READ_ATTEMPTS = 5


def _read_one(scope: Scope, user_id: str, send_id: str) -> bool:
    """One in-app delivery delivered -> read, with its send's counters, in one transaction."""
    delivery = MessageDelivery.new(scope, send_id, user_id, "in_app")
    send = MessageSend(*keys.message_send(scope, send_id))
    delivered, read = MessageSend.counts["in_app_delivered"], MessageSend.counts["in_app_read"]
    for attempt in range(READ_ATTEMPTS):
        try:
            with change(System(scope, user_id), "message.read") as c:
                c.update(
                    delivery,
                    [MessageDelivery.status.set("read"), MessageDelivery.read_at.set(utcnow())],
                    condition=MessageDelivery.status == "delivered",
                    versioned=False,
                )
                c.update(
                    send,
                    [delivered.set(delivered - 1), read.set(read + 1)],
                    condition=MessageSend.pk.exists(),
                    versioned=False,
                )
            return True
        except ConflictError:  # another transaction on the send's counters at the same moment: again
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))  # noqa: S311  (jitter, not a secret)
        except DomainError:  # no such delivery, or it is read already
            return False
    logger.warning("a read receipt was not counted", extra={"send_id": send_id, "user_id": user_id})
    return False


def mark_read(scope: Scope, user_id: str, send_ids: Iterable[str]) -> int:
    """Mark the in-app deliveries of `send_ids` to `user_id` read (and count them on each send); answers how
    many changed. A send that has no such delivery, or whose delivery is read already, is skipped."""
    return sum(1 for send_id in dict.fromkeys(send_ids) if _read_one(scope, user_id, send_id))


def schedule_name(send_id: str) -> str:
    """The EventBridge Scheduler schedule of a send for later (one-time ``at()``, in the default group)."""
    return f"riveredge-{get_settings().stage}-message-{send_id}"
