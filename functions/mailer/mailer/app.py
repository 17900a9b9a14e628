"""Lambda entry point of the mailer: messages of the mail queue, and SES events from the default bus."""

from __future__ import annotations

from typing import Any

from riveredge.consumers import Delivery, bus, sqs

from mailer import service
from mailer.models import OutboundMail, SesEvent, tag

ses_events = bus.Consumer()


@sqs.consumer(OutboundMail)
def queued(message: OutboundMail, delivery: Delivery) -> dict[str, Any]:
    return service.send(message, delivery)


def _tenant(detail: dict[str, Any]) -> str | None:
    return tag(detail, "tenant_id")


def feedback(event: SesEvent, delivery: Delivery) -> dict[str, Any]:
    return service.feedback(event, delivery, tag(event.model_dump(), "delivery_id"))


for _detail_type in ("Email Bounced", "Email Complaint Received", "Email Delivered"):
    ses_events.on(_detail_type, SesEvent, tenant=_tenant)(feedback)


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    """An SQS batch of the mail queue, or an SES event."""
    if "detail-type" in event:
        return ses_events(event, context)
    return queued(event, context)
