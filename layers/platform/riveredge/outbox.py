"""The transactional outbox: a domain event is written with the change it announces, or not at all.

:func:`add` puts an outbox item into the caller's transaction (under the
tenant's keys, so only the tenant's own changes can announce its events). The
table's stream carries the item to the event relay, which puts it on the bus
(:func:`publish`) at least once; consumers deduplicate by its ``event_id``.
Outbox items expire through the table's TTL after a week.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from riveredge import events, keys
from riveredge.clock import iso, new_id, utcnow
from riveredge.db.base import Transaction
from riveredge.db.models import OutboxEvent
from riveredge.observability import correlation_id
from riveredge.scope import Scope

KEEP = timedelta(days=7)


def add(tx: Transaction, scope: Scope, source: str, detail_type: str, detail: dict[str, Any]) -> str:
    """Announce `detail_type` for `scope`'s tenant when `tx` commits; answers the event id."""
    event_id = new_id()
    key = keys.outbox(scope, event_id)
    now = utcnow()
    item = OutboxEvent(
        key.pk,
        key.sk,
        event_id=event_id,
        tenant_id=scope.tenant_id,
        source=source,
        detail_type=detail_type,
        detail=detail,
        occurred_at=iso(now),
        correlation_id=correlation_id(),
        ttl=now + KEEP,
    )
    tx.save(item, condition=OutboxEvent.pk.does_not_exist())
    return event_id


def publish(item: dict[str, Any]) -> None:
    """Put one outbox item (as the stream shows it) on the bus."""
    events.put(
        [
            events.entry(
                source=str(item["source"]),
                detail_type=str(item["detail_type"]),
                tenant_id=str(item["tenant_id"]),
                event_id=str(item["event_id"]),
                occurred_at=str(item["occurred_at"]),
                correlation_id=item.get("correlation_id"),
                detail=_detail(item.get("detail")),
            )
        ]
    )


def _detail(value: Any) -> dict[str, Any]:
    import json

    if isinstance(value, str):  # PynamoDB stores a JSONAttribute as a JSON string
        value = json.loads(value)
    return dict(value or {})
