"""DynamoDB Streams consumers: Powertools batch processing, in order, with partial batch responses.

    from riveredge.consumers import Delivery, streams

    @streams.consumer()
    def lambda_handler(change: streams.Change, delivery: Delivery) -> None: ...

The tenant of a change is the owner of the item's partition key (``T#<tid>#...``
is a tenant, ``P#...`` the platform): an item can only announce its own
tenant's events. A change is handled once per stream sequence number. On a
failure Lambda retries the batch from the failed record (the ones before it are
done); a record that fails for good goes to the event source mapping's
on-failure destination, a refused one to the dead-letter queue with its reason.
Narrow what a function receives with the mapping's ``FilterCriteria``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from riveredge.consumers.delivery import Delivery, Refused, RetryLater, handle, refuse, tenant_of
from riveredge.observability import logger
from riveredge.scope import PLATFORM


@dataclass(frozen=True)
class Change:
    """One item written: its keys and its images as Python values."""

    event_name: str  # INSERT | MODIFY | REMOVE
    keys: dict[str, Any]
    new: dict[str, Any] | None
    old: dict[str, Any] | None
    sequence_number: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def item(self) -> dict[str, Any]:
        """The item as it is now (as it was, for a removal)."""
        return self.new if self.new is not None else (self.old or {})


def owner_of(partition_key: Any) -> str:
    """The tenant (or "platform") whose item this is, from its partition key."""
    value = str(partition_key or "")
    if value.startswith("P#"):
        return PLATFORM
    if value.startswith("T#") and value.count("#") >= 2:
        return value.split("#", 2)[1]
    raise Refused(f"the item {value[:60]!r} belongs to no tenant")


class Consumer:
    """The Lambda handler of a table's stream."""

    def __init__(self, handler: Callable[[Change, Delivery], Any]) -> None:
        self.handler = handler
        self._entry = logger.inject_lambda_context(clear_state=True)(self._handle)

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        return dict(self._entry(event, context))

    def _handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

        processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
        answer = process_partial_response(event, lambda record: self.record(record, context), processor, context)
        return dict(answer)

    def record(self, record: Any, context: Any) -> None:
        """Handle one stream record (Powertools' DynamoDBRecord); raising marks it and the rest of the batch."""
        raw: dict[str, Any] = record.raw_event
        stream = raw.get("dynamodb") or {}
        sequence = str(stream.get("SequenceNumber", ""))
        try:
            change = Change(
                event_name=str(raw.get("eventName", "")),
                keys=dict(record.dynamodb.keys or {}),
                new=record.dynamodb.new_image if stream.get("NewImage") else None,
                old=record.dynamodb.old_image if stream.get("OldImage") else None,
                sequence_number=sequence,
            )
            delivery = Delivery(
                "streams",
                sequence,
                tenant_of(owner_of(change.keys.get("pk"))),
                change.item.get("correlation_id"),
                kind=change.event_name,
            )
            handle(delivery, lambda: self.handler(change, delivery), lambda_context=context)
        except Refused as refusal:
            refuse("streams", refusal.reason, raw, event_id=sequence)
        except RetryLater as later:
            logger.warning("stream record will be retried", extra={"reason": later.reason})
            raise


def consumer() -> Callable[[Callable[[Change, Delivery], Any]], Consumer]:
    """Decorate the handler of one change; the result is the function's Lambda handler."""

    def wrap(handler: Callable[[Change, Delivery], Any]) -> Consumer:
        return Consumer(handler)

    return wrap
