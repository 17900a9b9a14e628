"""Lambda entry point of the file-previews function: the ``file.stored`` events of the files bus rule."""

from __future__ import annotations

from typing import Any

from riveredge.consumers import Delivery, bus

from file_previews import service
from file_previews.models import FileStored

events = bus.Consumer()


@events.on("file.stored", FileStored)
def make_preview(event: FileStored, delivery: Delivery) -> dict[str, Any]:
    return service.make_preview(delivery.scope, event)


lambda_handler = events
