"""Lambda entry point of the event relay (the table's stream, filtered to new outbox items)."""

from __future__ import annotations

from riveredge import outbox
from riveredge.consumers import Delivery, Refused, streams


@streams.consumer()
def lambda_handler(change: streams.Change, delivery: Delivery) -> str | None:
    item = change.new or {}
    if change.event_name != "INSERT" or item.get("entity") != "outbox":
        return None  # the mapping's filter lets only new outbox items through; anything else is not ours
    if item.get("tenant_id") != delivery.tenant_id:
        raise Refused(f"an item of {delivery.tenant_id} announces an event of {item.get('tenant_id')}")
    outbox.publish(item)
    return str(item["event_id"])
