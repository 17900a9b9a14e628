"""Request and response bodies of the my-messages routes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field
from riveredge.schemas import RequestModel, ResponseModel

MAX_IDS = 100  # messages one request may name (mark read / delete many)

MessageId = Annotated[str, Field(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$", description="A message id (ULID)")]


class MessageResponse(ResponseModel):
    """One message of the caller's inbox (the WebSocket push sends the same shape)."""

    id: str
    type: str
    title: str
    content: str
    read: bool
    read_at: str | None
    created_at: str | None
    send_id: str | None
    link: str | None
    version: int = Field(description="Moves when the message is read; DELETE takes it as If-Match / ?version=")

    @classmethod
    def of(cls, payload: dict[str, Any]) -> MessageResponse:
        return cls(**payload)


class MessageListResponse(ResponseModel):
    items: list[MessageResponse]
    next_cursor: str | None = None


class UnreadCountResponse(ResponseModel):
    unread: int = Field(description="How many messages of the caller's inbox are unread")


class MessageIdsRequest(RequestModel):
    ids: list[MessageId] = Field(min_length=1, max_length=MAX_IDS, description=f"At most {MAX_IDS} message ids")


class MessageResult(ResponseModel):
    id: str
    status: Literal["read", "already_read", "deleted", "not_found"]
    error: str | None = None


class MessageResultsResponse(ResponseModel):
    results: list[MessageResult]
    unread: int = Field(description="The caller's unread count afterwards")


class ReadAllResponse(ResponseModel):
    marked: int = Field(description="How many messages this call marked read")
    unread: int = Field(description="The caller's unread count afterwards (0 unless more arrived meanwhile)")
