"""Domain events on the application's EventBridge bus, always with the tenant and the event id in the detail.

Events are written to the outbox (riveredge.outbox) in the transaction of the
change they announce; the event relay puts them on the bus with :func:`put`.
Consumers (riveredge.consumers.bus) deduplicate by ``detail.event_id``, which an
event keeps however many times it is put on the bus.
"""

from __future__ import annotations

import json
from typing import Any

from riveredge import aws
from riveredge.settings import get_settings

SOURCE_PREFIX = "riveredge."


def entry(
    *,
    source: str,
    detail_type: str,
    tenant_id: str,
    event_id: str,
    occurred_at: str,
    correlation_id: str | None,
    detail: dict[str, Any],
) -> dict[str, Any]:
    """One PutEvents entry of ours: the detail carries who, which event, when and what caused it."""
    body = {
        **detail,
        "tenant_id": tenant_id,
        "event_id": event_id,
        "occurred_at": occurred_at,
        "correlation_id": correlation_id,
    }
    return {
        "EventBusName": get_settings().event_bus_name,
        "Source": f"{SOURCE_PREFIX}{source}",
        "DetailType": detail_type,
        "Detail": json.dumps(body, default=str),
    }


def put(entries: list[dict[str, Any]]) -> None:
    """Put entries on the bus (at most 10); raises when the bus did not take every one."""
    response = aws.events().put_events(Entries=entries)  # type: ignore[arg-type]
    if response.get("FailedEntryCount"):
        failed = [e for e in response.get("Entries", []) if e.get("ErrorCode")]
        raise RuntimeError(f"{len(failed)} event(s) were not accepted: {failed[:3]}")
