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
import re
import time
from functools import lru_cache
from typing import Any

from botocore.exceptions import ClientError
from riveredge import aws, mail, mime
from riveredge import unsubscribe as unsubscribe_links
from riveredge.clock import iso, utcnow
from riveredge.consumers import Delivery, Refused, RetryLater
from riveredge.db.models import MailDelivery
from riveredge.observability import logger
from riveredge.scope import Scope
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
HISTORY = 50  # status steps a record keeps (the first, and the latest)
TAG_VALUE = re.compile(r"[^A-Za-z0-9_-]")  # what SES takes in a message tag's value


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
            category=message.category,
            test=message.test,
            recipients=set(message.to),
            subject=message.subject[:998],
            status="queued",
            history=[{"status": "queued", "at": iso(utcnow())}],
            correlation_id=delivery.correlation_id,
        )
    if record.status in DONE:
        return {"delivery_id": record.delivery_id, "status": record.status}
    unsubscribable = message.category in mail.UNSUBSCRIBABLE
    blocked = repository.suppressed(scope, message.to, message.category if unsubscribable else None)
    done: dict[str, str] = dict(record.sent_to or {})  # recipients an earlier attempt already reached
    remaining = [a for a in message.to if a.lower() not in blocked and a not in done]
    if blocked:
        record.suppressed = set(blocked)
        record.error = "suppressed: " + ", ".join(f"{a} ({why})" for a, why in blocked.items())
    if not remaining and not done:
        _moved(record, "suppressed", record.error)
        repository.save(record)
        return {"delivery_id": record.delivery_id, "status": record.status}
    record.attempts = (record.attempts or 0) + 1
    try:
        files = _files(scope, message)
        if unsubscribable:  # one message a recipient: each gets its own unsubscribe link
            for address in remaining:
                done[address] = _send(message, delivery, files, [address], unsubscribe=True)
                record.sent_to = dict(done)
                repository.save(record)  # a retry after a later failure does not mail this one again
            message_id = done[remaining[-1]] if remaining else next(iter(done.values()))
        elif remaining:
            message_id = _send(message, delivery, files, remaining, unsubscribe=False)
        else:
            message_id = record.ses_message_id or ""
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", "Unknown"))
        reason = f"{code}: {error.response.get('Error', {}).get('Message', '')}"[:500]
        record.error = reason
        if code in TRANSIENT:
            repository.save(record)
            raise RetryLater(f"SES answered {reason}", backoff(delivery.attempt)) from error
        _moved(record, "failed", reason)
        repository.save(record)
        raise Refused(f"SES refused the message: {reason}") from error
    except Unsendable as error:
        record.error = error.reason
        _moved(record, "failed", error.reason)
        repository.save(record)
        raise Refused(error.reason) from error
    record.ses_message_id, record.sent_at = message_id, utcnow()
    record.error = record.error if blocked else None
    _moved(record, "sent", record.error)
    repository.save(record)
    logger.info("mail sent", extra={"delivery_id": record.delivery_id, "kind": message.kind})
    return {"delivery_id": record.delivery_id, "status": "sent", "message_id": message_id}


class Unsendable(Exception):
    """A message that can never be sent as queued (an attachment that is not the tenant's, gone or too big)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:500]


def _moved(record: MailDelivery, status: str, detail: str | None = None) -> None:
    """`record` is now `status` (which may be the one it had: a soft bounce, a late delivery event): the
    status, and a step in its history (the first and the latest HISTORY - 1 steps are kept)."""
    record.status = status
    step: dict[str, Any] = {"status": status, "at": iso(utcnow())}
    if detail:
        step["detail"] = detail[:500]
    history = [*(record.history or []), step]
    record.history = history[:1] + history[-(HISTORY - 1) :] if len(history) > HISTORY else history


def _files(scope: Scope, message: OutboundMail) -> list[mime.File]:
    """The attachments' bytes from the files bucket: objects of this tenant only, within the size cap."""
    bucket = get_settings().files_bucket
    prefix = f"{scope.tenant_id}/"
    total, files = 0, []
    for attachment in message.attachments:
        if not attachment.key.startswith(prefix) or ".." in attachment.key.split("/"):
            raise Unsendable(f"attachment {attachment.key!r} is not a file of the message's organisation")
        try:
            found = aws.s3().get_object(Bucket=bucket, Key=attachment.key)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in {"NoSuchKey", "404", "NotFound", "AccessDenied", "403"}:
                raise Unsendable(f"attachment {attachment.key!r} is not there ({code})") from error
            raise
        total += int(found.get("ContentLength", 0))
        if total > mail.MAX_ATTACHMENT_BYTES:
            found["Body"].close()
            raise Unsendable(f"the attachments are larger than {mail.MAX_ATTACHMENT_BYTES} bytes together")
        files.append(mime.File(attachment.filename, attachment.content_type, found["Body"].read()))
    return files


def _send(
    message: OutboundMail, delivery: Delivery, files: list[mime.File], to: list[str], *, unsubscribe: bool
) -> str:
    """One raw message to `to` (SES takes the recipients from its headers); SES's message id."""
    settings = get_settings()
    from_email = message.from_email or settings.mail_from
    from_name = message.from_name if message.from_email else (message.from_name or settings.mail_from_name)
    verbatim: dict[str, str] = {}
    if unsubscribe:
        link = unsubscribe_links.link(delivery.tenant_id, to[0], message.category)
        verbatim = {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    try:
        raw = mime.build(
            sender=mime.address(from_email, from_name),
            to=to,
            subject=message.subject,
            text=message.text,
            html=message.html,
            reply_to=message.reply_to,
            files=files,
            headers={"X-RiverEdge-Delivery": message.delivery_id},
            verbatim=verbatim,
        )
    except ValueError as error:  # a header the email package refuses (CR/LF, a bad address)
        raise Unsendable(f"the message cannot be written as MIME: {error}") from error
    extra: dict[str, Any] = {}
    if settings.mail_configuration_set:
        extra["ConfigurationSetName"] = settings.mail_configuration_set
    pace().wait()
    response = aws.sesv2().send_email(
        FromEmailAddress=from_email,
        Content={"Raw": {"Data": raw}},
        EmailTags=[
            {"Name": "tenant_id", "Value": delivery.tenant_id},
            {"Name": "delivery_id", "Value": message.delivery_id},
            {"Name": "kind", "Value": TAG_VALUE.sub("_", message.kind)},
            {"Name": "category", "Value": TAG_VALUE.sub("_", message.category)},
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
        who = ", ".join(event.recipients())
        if kind == "delivery":
            _moved(record, "delivered" if record.status == "sent" else record.status, f"delivered: {who}")
        elif kind == "bounce":
            bounce = event.bounce or {}
            record.error = f"{bounce.get('bounceType', '')} bounce ({bounce.get('bounceSubType', '')}): {who}"[:500]
            _moved(record, "bounced" if permanent else record.status, record.error)
        elif kind == "complaint":
            _moved(record, "complained", f"complaint: {who}")
        repository.save(record)
    return {"delivery_id": delivery_id, "event": kind, "suppressed": event.recipients() if permanent else []}
