"""EventBridge Scheduler targets: a schedule fires with its tenant and a payload for the handler.

    from riveredge.consumers import Delivery, schedule

    @schedule.consumer(RunJob)
    def lambda_handler(job: RunJob, delivery: Delivery) -> None: ...

    # when creating the schedule:
    Target={"Arn": ..., "RoleArn": ..., "Input": schedule.target_input(tenant_id, {"job_id": ...})}

The input carries Scheduler's context attributes (the schedule's ARN and the
time it was due), so a firing retried by Scheduler, or delivered twice, is
handled once. A refused firing goes to the dead-letter queue with its reason;
a failure raises, and Scheduler's retry policy and dead-letter queue apply.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from riveredge.consumers.delivery import Delivery, Refused, handle, parse, refuse, tenant_of
from riveredge.observability import logger

SCHEDULE_ARN = "<aws.scheduler.schedule-arn>"
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
ATTEMPT = "<aws.scheduler.attempt-number>"


def target_input(tenant_id: str, payload: dict[str, Any]) -> str:
    """The ``Input`` of a schedule's target: the tenant, the payload, and Scheduler's context attributes."""
    return json.dumps(
        {
            "tenant_id": tenant_id,
            "schedule_arn": SCHEDULE_ARN,
            "scheduled_time": SCHEDULED_TIME,
            "attempt": ATTEMPT,
            "payload": payload,
        }
    )


class Consumer[M: BaseModel]:
    """The Lambda handler of a function's schedules."""

    def __init__(self, model: type[M], handler: Callable[[M, Delivery], Any]) -> None:
        self.model = model
        self.handler = handler
        self._entry = logger.inject_lambda_context(clear_state=True)(self._handle)

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        return self._entry(event, context)

    def _handle(self, event: dict[str, Any], context: Any) -> Any:
        firing = f"{event.get('schedule_arn', '')}@{event.get('scheduled_time', '')}"
        try:
            if not event.get("schedule_arn") or not event.get("scheduled_time"):
                raise Refused("the input carries no schedule ARN and scheduled time (use schedule.target_input)")
            attempt = str(event.get("attempt", "1"))
            delivery = Delivery(
                "schedule",
                firing,
                tenant_of(event.get("tenant_id")),
                attempt=int(attempt) if attempt.isdigit() else 1,
                kind=str(event["schedule_arn"]).rsplit("/", 1)[-1],
            )
            payload = parse(self.model, event.get("payload") or {}, what="payload")
            return handle(delivery, lambda: self.handler(payload, delivery), lambda_context=context)
        except Refused as refusal:
            refuse("schedule", refusal.reason, event, event_id=firing)
            return None


def consumer[M: BaseModel](model: type[M]) -> Callable[[Callable[[M, Delivery], Any]], Consumer[M]]:
    """Decorate the handler of one firing; the result is the function's Lambda handler."""

    def wrap(handler: Callable[[M, Delivery], Any]) -> Consumer[M]:
        return Consumer(model, handler)

    return wrap
