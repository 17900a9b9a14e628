"""Routes of my messages: any signed-in caller, on their own inbox only (thin: parse, call the service, answer)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from riveredge.http import AUTHENTICATED, DELETED, ApiRouter, VersionQuery, actor_of, expected_version, no_content
from riveredge.inbox import message_payload, unread_count

from inbox import service
from inbox.models import (
    MessageIdsRequest,
    MessageListResponse,
    MessageResponse,
    MessageResult,
    MessageResultsResponse,
    ReadAllResponse,
    UnreadCountResponse,
)

router = ApiRouter("inbox")

ReadFilter = Annotated[bool | None, Query(description="true: read messages only; false: unread messages only")]
TypeFilter = Annotated[
    str | None, Query(pattern=r"^[a-z][a-z0-9_]{0,31}$", description="Messages of this type only (notice, task...)")
]
Since = Annotated[datetime | None, Query(description="Messages received at or after this time (ISO 8601)")]
Until = Annotated[datetime | None, Query(description="Messages received at or before this time (ISO 8601)")]
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=2048)]


def _results(results: list[service.Result]) -> MessageResultsResponse:
    actor = actor_of(router)
    return MessageResultsResponse(
        results=[MessageResult(id=r.id, status=r.status) for r in results],
        unread=unread_count(actor.scope, actor.user_id),
    )


@router.get("/api/me/messages", permission=AUTHENTICATED, summary="The caller's messages, newest first")
def list_messages(
    read: ReadFilter = None,
    type: TypeFilter = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> MessageListResponse:
    filters = service.MessageFilters(read=read, type=type, since=since, until=until)
    found, next_cursor = service.messages_page(actor_of(router), filters, limit=limit, cursor=cursor)
    return MessageListResponse(items=[MessageResponse.of(message_payload(m)) for m in found], next_cursor=next_cursor)


@router.get(
    "/api/me/messages/unread-count",
    permission=AUTHENTICATED,
    summary="How many of the caller's messages are unread (one read of a counter)",
)
def get_unread_count() -> UnreadCountResponse:
    return UnreadCountResponse(unread=service.unread_count(actor_of(router)))


@router.post(
    "/api/me/messages/read",
    permission=AUTHENTICATED,
    summary="Mark several of the caller's messages read (at most 100); answers each one's outcome",
)
def read_messages(body: MessageIdsRequest) -> MessageResultsResponse:
    return _results(service.read_messages(actor_of(router), body.ids))


@router.post(
    "/api/me/messages/read-all",
    permission=AUTHENTICATED,
    summary="Mark every unread message of the caller read (up to 5,000 a call; call again while unread > 0)",
)
def read_all_messages() -> ReadAllResponse:
    actor = actor_of(router)
    marked = service.read_all(actor)
    return ReadAllResponse(marked=marked, unread=service.unread_count(actor))


@router.post(
    "/api/me/messages/delete",
    permission=AUTHENTICATED,
    summary="Delete several of the caller's messages (at most 100); answers each one's outcome",
)
def delete_messages(body: MessageIdsRequest) -> MessageResultsResponse:
    return _results(service.delete_messages(actor_of(router), body.ids))


@router.get("/api/me/messages/<message_id>", permission=AUTHENTICATED, summary="One of the caller's messages")
def get_message(message_id: str) -> MessageResponse:
    return MessageResponse.of(message_payload(service.get_message(actor_of(router), message_id)))


@router.post(
    "/api/me/messages/<message_id>/read", permission=AUTHENTICATED, summary="Mark one of the caller's messages read"
)
def read_message(message_id: str) -> MessageResponse:
    return MessageResponse.of(message_payload(service.read_message(actor_of(router), message_id)))


@router.delete(
    "/api/me/messages/<message_id>",
    permission=AUTHENTICATED,
    status_code=204,
    summary="Delete one of the caller's messages (If-Match / ?version= optional: the version you read)",
    responses=DELETED,
)
def delete_message(message_id: str, version: VersionQuery = None) -> Response[str]:
    service.delete_message(actor_of(router), message_id, expected_version(router, version))
    return no_content()
