"""What every event consumer shares: the tenant of an event, refusal, retry, exactly-once handling."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as ModelError

from riveredge import aws, config_cache, keys
from riveredge.idempotency import EventInProgress, once_per_event
from riveredge.observability import bind_event, logger
from riveredge.scope import PLATFORM, Scope, use_scope
from riveredge.settings import get_settings

KNOWN_TENANT_SECONDS = 300.0
_known_tenants: dict[str, float] = {}


class Refused(Exception):
    """An event that can never be handled (no tenant, an unknown tenant, a body that fails its model).

    It is not retried: the consumer logs it and sends it to its dead-letter queue with this reason.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryLater(Exception):
    """A transient failure (a throttled call, a busy dependency): deliver this event again, not before `delay`."""

    def __init__(self, reason: str, delay_seconds: int = 30) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay_seconds = max(0, min(int(delay_seconds), 12 * 3600))


@dataclass(frozen=True)
class Delivery:
    """One event being handled: where it came from, whose it is, and what caused it."""

    source: str  # sqs | bus | s3 | streams | schedule | task
    event_id: str  # the source's own id of the event (what redeliveries share)
    tenant_id: str  # a tenant id, or "platform"
    correlation_id: str | None = None  # the request that caused the event, when one did
    attempt: int = 1  # how many times it has been delivered (SQS receive count, Step Functions retry + 1)
    kind: str | None = None  # detail type, task name, stream event name...

    @property
    def scope(self) -> Scope:
        return Scope(self.tenant_id)


def tenant_of(value: Any) -> str:
    """The tenant an event names, checked: well formed and existing (else Refused). "platform" is the platform."""
    if not isinstance(value, str) or not value:
        raise Refused("the event names no tenant")
    if value == PLATFORM:
        return value
    try:
        scope = Scope(value)
    except ValueError as error:
        raise Refused(f"the event names no valid tenant ({value[:40]!r})") from error
    if _known_tenants.get(value, 0.0) > time.monotonic():
        return value
    key = keys.tenant(value)
    with use_scope(scope):
        found = aws.dynamodb().get_item(
            TableName=get_settings().table_name,
            Key={"pk": {"S": key.pk}, "sk": {"S": key.sk}},
            ProjectionExpression="pk",
        )
    if "Item" not in found:
        raise Refused(f"the event names an unknown tenant ({value})")
    _known_tenants[value] = time.monotonic() + KNOWN_TENANT_SECONDS
    return value


def parse[M: BaseModel](model: type[M], value: Any, *, what: str = "body") -> M:
    """`value` as `model`, or Refused naming every field that is wrong."""
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise Refused(f"the {what} is not JSON") from error
    try:
        return model.model_validate(value)
    except ModelError as error:
        fields = "; ".join(
            f"{'.'.join(str(p) for p in problem['loc']) or what}: {problem['msg']}" for problem in error.errors()
        )
        raise Refused(f"the {what} is not valid ({fields})") from error


def handle(delivery: Delivery, action: Callable[[], Any], *, lambda_context: Any = None) -> Any:
    """Run `action` for `delivery`: in its tenant's scope, with it in the logs, once per event id."""
    bind_event(
        tenant_id=delivery.tenant_id,
        event_id=delivery.event_id,
        correlation_id=delivery.correlation_id,
        source=delivery.source,
    )
    with use_scope(delivery.scope), config_cache.request():
        try:
            return once_per_event(delivery.event_id, action, lambda_context=lambda_context)
        except EventInProgress as error:
            raise RetryLater(str(error), delay_seconds=10) from error


def refuse(
    source: str,
    reason: str,
    event: Any,
    *,
    event_id: str | None = None,
    attributes: dict[str, str] | None = None,
) -> None:
    """Log a refused event and send it to this function's dead-letter queue with the reason.

    `event` is what the dead-letter message carries: a queue's message keeps its own body and attributes
    (so that a redrive sends it again as it was); any other event goes as JSON. Without a dead-letter
    queue configured the refusal is raised, so that the source's own failure path (redrive, on-failure
    destination, failed execution) keeps it: an event is never dropped.
    """
    logger.error("event refused", extra={"reason": reason, "event_source": source, "event_id": event_id})
    queue = get_settings().dead_letter_queue_url
    if not queue:
        raise Refused(reason)
    values = {**(attributes or {}), "reason": reason[:1000], "source": source, "event_id": event_id or "-"}
    aws.sqs().send_message(
        QueueUrl=queue,
        MessageBody=(event if isinstance(event, str) else json.dumps(event, default=str))[:250_000] or "-",
        MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in values.items() if v},
    )
