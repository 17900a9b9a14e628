"""Sending one queued message, and what SES later reports about it.

The mailer runs with the event source's ``MaximumConcurrency`` as its number
of senders; each keeps ``MAIL_SEND_RATE / MAIL_SENDERS`` messages a second, so
together they stay within the account's SES sending quota. Throttling and
transient SES errors come back as RetryLater (the message is delivered again
after a back-off); a message SES rejects for good is marked failed and refused
(dead-letter queue, with SES's reason).
"""

from __future__ import annotations

import random
import time
from functools import lru_cache
from typing import Any

from botocore.exceptions import ClientError
from riveredge import aws
from riveredge.clock import utcnow
from riveredge.consumers import Delivery, Refused, RetryLater
from riveredge.db.models import MailDelivery
from riveredge.observability import logger
from riveredge.settings import get_settings

from mailer import repository
from mailer.models import OutboundMail, SesEvent

TRANSIENT = {
    "TooManyRequestsException",
    "LimitExceededException",
    "Throttling",
    "ThrottlingException",
    "SendingPausedException",
    "ServiceUnavailable",
    "InternalFailure",
    "InternalServerError",
}
DONE = {"sent", "delivered", "bounced", "complained", "suppressed"}
MAX_BACKOFF_SECONDS = 900


class Pace:
    """At most `per_second` sends a second from this sender (a leaky bucket with no burst)."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.next = 0.0

    def wait(self) -> None:
        now = time.monotonic()
        if self.next > now:
            time.sleep(self.next - now)
        self.next = max(now, self.next) + self.interval


@lru_cache(maxsize=1)
def pace() -> Pace:
    """This sender's share of the account's rate (one per execution environment)."""
    settings = get_settings()
    return Pace(settings.mail_send_rate / max(1, settings.mail_senders))


def backoff(attempt: int) -> int:
    """Seconds before attempt `attempt` + 1: doubling from 2 s, with jitter, at most 15 minutes."""
    return int(min(MAX_BACKOFF_SECONDS, 2 ** min(attempt, 10) + random.randint(0, attempt)))  # noqa: S311


def send(message: OutboundMail, delivery: Delivery) -> dict[str, Any]:
    scope = delivery.scope
    record = repository.delivery(scope, message.delivery_id)
    if record is None:  # the producer's record is missing: the delivery log still gets one
        record = MailDelivery.new(
            scope,
            message.delivery_id,
            kind=message.kind,
            recipients=set(message.to),
            subject=message.subject[:500],
            status="queued",
            correlation_id=delivery.correlation_id,
        )
    if record.status in DONE:
        return {"delivery_id": record.delivery_id, "status": record.status}
    blocked = repository.suppressed(scope, message.to)
    if blocked:
        record.status, record.error = "suppressed", f"suppressed: {', '.join(blocked)}"
        repository.save(record)
        return {"delivery_id": record.delivery_id, "status": record.status}
    record.attempts = (record.attempts or 0) + 1
    pace().wait()
    try:
        message_id = _send(message, delivery)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", "Unknown"))
        reason = f"{code}: {error.response.get('Error', {}).get('Message', '')}"[:500]
        record.error = reason
        if code in TRANSIENT:
            repository.save(record)
            raise RetryLater(f"SES answered {reason}", backoff(delivery.attempt)) from error
        record.status = "failed"
        repository.save(record)
        raise Refused(f"SES refused the message: {reason}") from error
    record.status, record.ses_message_id, record.sent_at, record.error = "sent", message_id, utcnow(), None
    repository.save(record)
    logger.info("mail sent", extra={"delivery_id": record.delivery_id, "kind": message.kind})
    return {"delivery_id": record.delivery_id, "status": "sent", "message_id": message_id}


def _send(message: OutboundMail, delivery: Delivery) -> str:
    settings = get_settings()
    extra: dict[str, Any] = {}
    if settings.mail_configuration_set:
        extra["ConfigurationSetName"] = settings.mail_configuration_set
    response = aws.sesv2().send_email(
        FromEmailAddress=settings.mail_from,
        Destination={"ToAddresses": message.to},
        Content={
            "Simple": {
                "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": message.text, "Charset": "UTF-8"},
                    "Html": {"Data": message.html, "Charset": "UTF-8"},
                },
            }
        },
        EmailTags=[
            {"Name": "tenant_id", "Value": delivery.tenant_id},
            {"Name": "delivery_id", "Value": message.delivery_id},
            {"Name": "kind", "Value": message.kind},
        ],
        **extra,
    )
    return str(response.get("MessageId", ""))


def feedback(event: SesEvent, delivery: Delivery, delivery_id: str | None) -> dict[str, Any]:
    """A bounce, complaint or delivery: the delivery record moves on; a hard bounce or a complaint suppresses."""
    scope = delivery.scope
    record = repository.delivery(scope, delivery_id) if delivery_id else None
    kind = event.eventType.lower()
    permanent = kind == "complaint" or (
        kind == "bounce" and str((event.bounce or {}).get("bounceType", "")).lower() == "permanent"
    )
    if permanent:
        repository.suppress(scope, event.recipients(), "complaint" if kind == "complaint" else "bounce", delivery_id)
    if record is not None:
        if kind == "delivery" and record.status == "sent":
            record.status = "delivered"
        elif kind == "bounce":
            bounce = event.bounce or {}
            record.error = f"{bounce.get('bounceType', '')} bounce ({bounce.get('bounceSubType', '')})"[:500]
            record.status = "bounced" if permanent else record.status
        elif kind == "complaint":
            record.status = "complained"
        repository.save(record)
    return {"delivery_id": delivery_id, "event": kind, "suppressed": event.recipients() if permanent else []}
