"""EventBridge rule targets: one handler per detail type, each with the model of its detail.

    from riveredge.consumers import Delivery, bus

    events = bus.Consumer()

    @events.on("tenant.created", TenantCreated)
    def start_onboarding(detail: TenantCreated, delivery: Delivery) -> None: ...

    lambda_handler = events

Our events carry ``tenant_id``, ``event_id`` and ``correlation_id`` in the
detail (riveredge.outbox puts them there); a redelivered event, or the same
outbox event put on the bus twice, shares its ``event_id``. Events of AWS
services name their tenant elsewhere: ``on(..., tenant=...)`` reads it.
A refused event goes to the dead-letter queue with its reason; any other
failure raises, so Lambda retries the asynchronous invocation and then sends
it to the function's dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from riveredge.consumers.delivery import Delivery, Refused, handle, parse, refuse, tenant_of
from riveredge.observability import logger

Getter = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Route:
    model: type[BaseModel]
    handler: Callable[[Any, Delivery], Any]
    tenant: Getter
    event_id: Getter | None


def _ours(detail: dict[str, Any]) -> Any:
    return detail.get("tenant_id")


class Consumer:
    """The Lambda handler of a function's EventBridge rules."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self._entry = logger.inject_lambda_context(clear_state=True)(self._handle)

    def on(
        self, detail_type: str, model: type[BaseModel], *, tenant: Getter = _ours, event_id: Getter | None = None
    ) -> Callable[[Callable[[Any, Delivery], Any]], Callable[[Any, Delivery], Any]]:
        def register(handler: Callable[[Any, Delivery], Any]) -> Callable[[Any, Delivery], Any]:
            self.routes[detail_type] = Route(model, handler, tenant, event_id)
            return handler

        return register

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        return self._entry(event, context)

    def _handle(self, event: dict[str, Any], context: Any) -> Any:
        detail_type = str(event.get("detail-type", ""))
        found = event.get("detail")
        detail: dict[str, Any] = found if isinstance(found, dict) else {}
        try:
            route = self.routes.get(detail_type)
            if route is None:
                raise Refused(f"this function handles no {detail_type!r} events")
            event_id = route.event_id(detail) if route.event_id else detail.get("event_id")
            delivery = Delivery(
                "bus",
                str(event_id or event.get("id", "")),
                tenant_of(route.tenant(detail)),
                detail.get("correlation_id"),
                kind=detail_type,
            )
            body = parse(route.model, detail, what="detail")
            return handle(delivery, lambda: route.handler(body, delivery), lambda_context=context)
        except Refused as refusal:
            refuse("bus", refusal.reason, event, event_id=str(event.get("id", "")))
            return None
