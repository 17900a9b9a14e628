"""Lambda entry point of the dataset exports: messages of the export queue, one job each."""

from __future__ import annotations

from typing import Any

from riveredge.consumers import Delivery, sqs

from dataset_exports import service
from dataset_exports.models import ExportMessage


@sqs.consumer(ExportMessage)
def lambda_handler(message: ExportMessage, delivery: Delivery) -> dict[str, Any]:
    """A batch of the export queue (one message at a time: BatchSize 1)."""
    return service.run(delivery.scope, message)
