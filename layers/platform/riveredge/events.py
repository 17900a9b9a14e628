"""Domain events on the application's EventBridge bus, always with the tenant in the detail."""

from __future__ import annotations

import json
from typing import Any

from riveredge import aws
from riveredge.clock import iso, utcnow
from riveredge.scope import Scope
from riveredge.settings import get_settings

SOURCE_PREFIX = "riveredge."


def publish(scope: Scope, source: str, detail_type: str, detail: dict[str, Any]) -> None:
    """Put one event on the bus; its detail carries `tenant_id` and `occurred_at`."""
    body = {"tenant_id": scope.tenant_id, "occurred_at": iso(utcnow()), **detail}
    response = aws.events().put_events(
        Entries=[
            {
                "EventBusName": get_settings().event_bus_name,
                "Source": f"{SOURCE_PREFIX}{source}",
                "DetailType": detail_type,
                "Detail": json.dumps(body, default=str),
            }
        ]
    )
    if response.get("FailedEntryCount"):
        raise RuntimeError(f"event {detail_type} was not accepted: {response['Entries']}")
