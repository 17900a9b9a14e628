"""Lambda entry point of the files bucket's ObjectCreated notifications (riveredge.consumers.s3)."""

from __future__ import annotations

from typing import Any

from riveredge.consumers import Delivery, s3

from file_events import service


@s3.consumer()
def lambda_handler(stored: s3.StoredObject, delivery: Delivery) -> dict[str, Any]:
    return service.handle(stored, delivery)
