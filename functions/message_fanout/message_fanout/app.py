"""Lambda entry point of the message fan-out: the bus event of a new send, its schedule's firing, fan-out pages
and external deliveries (two queues)."""

from __future__ import annotations

from typing import Any

from riveredge.consumers import Delivery, bus, schedule, sqs

from message_fanout import repository, service
from message_fanout.models import DeliveryMessage, PageMessage, ScheduledSend, SendRequested

events = bus.Consumer()


@events.on("message.send_requested", SendRequested)
def send_requested(detail: SendRequested, delivery: Delivery) -> None:
    service.requested(delivery.scope, detail.send_id)


@schedule.consumer(ScheduledSend)
def fired(payload: ScheduledSend, delivery: Delivery) -> None:
    service.fired(delivery.scope, payload.send_id)


@sqs.consumer(PageMessage)
def page(message: PageMessage, delivery: Delivery) -> dict[str, Any]:
    return service.page(delivery.scope, message, delivery)


@sqs.consumer(DeliveryMessage)
def deliver(message: DeliveryMessage, delivery: Delivery) -> dict[str, Any]:
    return service.deliver(delivery.scope, message, delivery)


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    """An event of the bus, a schedule's firing, or a batch of the page queue or of the delivery queue."""
    if "detail-type" in event:
        return events(event, context)
    if "schedule_arn" in event or "scheduled_time" in event:
        return fired(event, context)
    records = event.get("Records") or []
    source = str(records[0].get("eventSourceARN", "")) if records else ""
    if source.rsplit(":", 1)[-1] == repository.settings().page_queue_name:
        return page(event, context)
    return deliver(event, context)
