"""SQS consumers: Powertools batch processing with partial batch responses (``ReportBatchItemFailures``).

    from riveredge.consumers import Delivery, sqs

    @sqs.consumer(OutboundMail)
    def lambda_handler(message: OutboundMail, delivery: Delivery) -> None: ...

Each message carries its tenant in the ``tenant_id`` message attribute (and the
request that caused it in ``correlation_id``); :func:`attributes` builds them
for a producer. The body is JSON validated by the model. Only the messages that
fail are retried; a refused one goes to the dead-letter queue with its reason
and is not retried; :class:`RetryLater` makes the message visible again after
its delay (a throttled dependency), and after the queue's ``maxReceiveCount``
SQS itself moves a message that keeps failing to the dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from riveredge import aws
from riveredge.consumers.delivery import Delivery, Refused, RetryLater, handle, parse, refuse, tenant_of
from riveredge.observability import correlation_id, logger


def attributes(tenant_id: str, **extra: str) -> dict[str, dict[str, str]]:
    """The message attributes of a message for `tenant_id` (with the current correlation id)."""
    values = {"tenant_id": tenant_id, **extra}
    correlation = correlation_id()
    if correlation:
        values.setdefault("correlation_id", correlation)
    return {name: {"DataType": "String", "StringValue": value} for name, value in values.items()}


@lru_cache(maxsize=16)
def _queue_url(arn: str) -> str:
    _, _, _, _region, account, name = arn.split(":", 5)
    return str(aws.sqs().get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"])


def _attribute(record: dict[str, Any], name: str) -> str | None:
    value = ((record.get("messageAttributes") or {}).get(name) or {}).get("stringValue")
    return str(value) if value else None


class Consumer[M: BaseModel]:
    """The Lambda handler of one queue: each message's body as `model`, handled once per message id."""

    def __init__(self, model: type[M], handler: Callable[[M, Delivery], Any]) -> None:
        self.model = model
        self.handler = handler
        self._entry = logger.inject_lambda_context(clear_state=True)(self._handle)

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        return dict(self._entry(event, context))

    def _handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        answer = process_partial_response(
            event, lambda record: self.record(record.raw_event, context), processor, context
        )
        return dict(answer)

    def record(self, record: dict[str, Any], context: Any) -> None:
        """Handle one message; raising marks it failed (SQS delivers it again)."""
        message_id = str(record.get("messageId", ""))
        try:
            delivery = Delivery(
                "sqs",
                message_id,
                tenant_of(_attribute(record, "tenant_id")),
                _attribute(record, "correlation_id"),
                attempt=int((record.get("attributes") or {}).get("ApproximateReceiveCount", 1)),
                kind=str(record.get("eventSourceARN", "")).rsplit(":", 1)[-1],
            )
            message = parse(self.model, record.get("body"))
            handle(delivery, lambda: self.handler(message, delivery), lambda_context=context)
        except Refused as refusal:
            self._dead_letter(record, refusal.reason)
        except RetryLater as later:
            logger.warning("message will be retried", extra={"reason": later.reason, "delay": later.delay_seconds})
            self._delay(record, later.delay_seconds)
            raise

    @staticmethod
    def _dead_letter(record: dict[str, Any], reason: str) -> None:
        kept = {
            name: str(value["stringValue"])
            for name, value in (record.get("messageAttributes") or {}).items()
            if value.get("stringValue") and name not in {"reason", "source", "event_id"}
        }
        refuse("sqs", reason, str(record.get("body") or ""), event_id=record.get("messageId"), attributes=kept)

    @staticmethod
    def _delay(record: dict[str, Any], seconds: int) -> None:
        try:
            aws.sqs().change_message_visibility(
                QueueUrl=_queue_url(str(record["eventSourceARN"])),
                ReceiptHandle=str(record["receiptHandle"]),
                VisibilityTimeout=seconds,
            )
        except Exception:  # the message comes back after the queue's own visibility timeout instead
            logger.exception("could not delay the message")


def consumer[M: BaseModel](model: type[M]) -> Callable[[Callable[[M, Delivery], Any]], Consumer[M]]:
    """Decorate the handler of one message; the result is the function's Lambda handler."""

    def wrap(handler: Callable[[M, Delivery], Any]) -> Consumer[M]:
        return Consumer(model, handler)

    return wrap
