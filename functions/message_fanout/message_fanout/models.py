"""What the fan-out receives: the bus event of a new send, a schedule's firing, and its two queues' messages."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

SendId = Annotated[str, Field(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")]


class SendRequested(BaseModel):
    """``message.send_requested`` (its detail also carries tenant_id, event_id, occurred_at, correlation_id)."""

    model_config = ConfigDict(extra="ignore")

    send_id: SendId


class ScheduledSend(BaseModel):
    """The payload of a send's one-time schedule."""

    model_config = ConfigDict(extra="forbid")

    send_id: SendId


class PageMessage(BaseModel):
    """One page of a send's fan-out: where it starts (None: the first source's beginning)."""

    model_config = ConfigDict(extra="forbid")

    send_id: SendId
    page: Annotated[int, Field(ge=0, le=1_000_000)]
    start: dict[str, Any] | None = None


class DeliveryMessage(BaseModel):
    """Deliveries of one send to make on an external channel (email, sms, webhook), by their keys."""

    model_config = ConfigDict(extra="forbid")

    send_id: SendId
    deliveries: Annotated[
        list[Annotated[str, Field(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}#(email|sms|webhook)$")]],
        Field(min_length=1, max_length=10),
    ]
