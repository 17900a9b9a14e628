"""Message routes: channel configs, message templates, pushes and what became of them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from riveredge.http import (
    DELETED,
    ApiRouter,
    VersionQuery,
    actor_of,
    created,
    created_as,
    expected_version,
    no_content,
    with_if_match,
)

from messages import service
from messages.models import (
    ChannelName,
    CreateMessageTemplateRequest,
    MessageConfigListResponse,
    MessageConfigResponse,
    MessageConfigTestRequest,
    MessageConfigTestResponse,
    MessageDeliveryListResponse,
    MessagePreviewRequest,
    MessagePreviewResponse,
    MessageSendListResponse,
    MessageSendResponse,
    MessageTemplateListResponse,
    MessageTemplateResponse,
    MessageType,
    PutMessageConfigRequest,
    SendMessageRequest,
    UpdateMessageTemplateRequest,
)

router = ApiRouter("messages")
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=2000)]
SendStatus = Literal["scheduled", "queued", "sending", "sent", "cancelled", "failed"]
DeliveryStatus = Literal["queued", "delivered", "failed", "read"]


# -- channel configs ---------------------------------------------------------------------------------------------
@router.get(
    "/api/message-configs",
    permission="message.view",
    permission_name="View message channels, templates and sends",
    summary="Every channel (in_app, email, sms, webhook): its config (stored or the default) and whether it is usable",
)
def list_message_configs() -> MessageConfigListResponse:
    return MessageConfigListResponse(items=[service.config_response(c) for c in service.list_configs(actor_of(router))])


@router.get("/api/message-configs/<channel>", permission="message.view", summary="One channel's config")
def get_message_config(channel: str) -> MessageConfigResponse:
    return service.config_response(service.get_config(actor_of(router), channel))


@router.put(
    "/api/message-configs/<channel>",
    permission="message.config",
    permission_name="Configure message channels",
    summary="Set a channel's config: an email sender (a verified SES identity), an SMS sender, a webhook URL "
    "and its write-only signing secret",
)
def put_message_config(channel: str, body: PutMessageConfigRequest) -> MessageConfigResponse:
    found = service.put_config(actor_of(router), channel, with_if_match(router, body))
    return service.config_response(found)


@router.delete(
    "/api/message-configs/<channel>",
    permission="message.config",
    status_code=204,
    summary="Remove a channel's config (the channel goes back to its default) and its secret",
    responses=DELETED,
)
def delete_message_config(channel: str, version: VersionQuery = None) -> Response[str]:
    service.delete_config(actor_of(router), channel, expected_version(router, version))
    return no_content()


@router.post(
    "/api/message-configs/<channel>/test",
    permission="message.config",
    summary="Send one test message on the channel (email: to you or `to`; sms: to `to`; in_app: to your inbox; "
    "webhook: a signed POST, answering the receiver's status)",
)
def test_message_config(channel: str, body: MessageConfigTestRequest) -> MessageConfigTestResponse:
    return service.test_config(actor_of(router), channel, body.to)


# -- templates --------------------------------------------------------------------------------------------------
@router.get("/api/message-templates", permission="message.view", summary="Message templates, oldest first")
def list_message_templates(limit: Limit = 50, cursor: Cursor = None) -> MessageTemplateListResponse:
    found, following = service.list_templates(actor_of(router), limit, cursor)
    return MessageTemplateListResponse(items=[service.template_response(t) for t in found], next_cursor=following)


@router.post(
    "/api/message-templates",
    permission="message.template",
    permission_name="Edit message templates",
    status_code=201,
    summary="Create a message template: a body per channel in the template syntax, its variables declared",
    responses=created_as(MessageTemplateResponse),
)
def create_message_template(body: CreateMessageTemplateRequest) -> Response[dict[str, Any]]:
    made = service.template_response(service.create_template(actor_of(router), body))
    return created(made, f"/api/message-templates/{made.id}")


@router.get("/api/message-templates/<template_id>", permission="message.view", summary="One message template")
def get_message_template(template_id: str) -> MessageTemplateResponse:
    return service.template_response(service.get_template(actor_of(router), template_id))


@router.put("/api/message-templates/<template_id>", permission="message.template", summary="Change a message template")
def update_message_template(template_id: str, body: UpdateMessageTemplateRequest) -> MessageTemplateResponse:
    changed = service.update_template(actor_of(router), template_id, with_if_match(router, body))
    return service.template_response(changed)


@router.delete(
    "/api/message-templates/<template_id>",
    permission="message.template",
    status_code=204,
    summary="Delete a message template (sends made with it keep their copy)",
    responses=DELETED,
)
def delete_message_template(template_id: str, version: VersionQuery = None) -> Response[str]:
    service.delete_template(actor_of(router), template_id, expected_version(router, version))
    return no_content()


@router.post(
    "/api/message-templates/<template_id>/preview",
    permission="message.view",
    summary="Render every body of the template with its example values and the variables you send",
)
def preview_message_template(template_id: str, body: MessagePreviewRequest) -> MessagePreviewResponse:
    return service.preview(actor_of(router), template_id, body)


# -- sends ------------------------------------------------------------------------------------------------------
@router.post(
    "/api/messages/send",
    permission="message.send",
    permission_name="Send messages to people",
    status_code=202,
    summary="Push a message to users, roles, departments or everyone, now or at send_at; it goes out "
    "asynchronously (follow it at Location)",
    responses={202: {"description": "Accepted", "content": {"application/json": {"model": MessageSendResponse}}}},
)
def send_message(body: SendMessageRequest) -> Response[dict[str, Any]]:
    made = service.send_response(service.send(actor_of(router), body))
    return Response(
        status_code=202,
        content_type="application/json",
        body=made.model_dump(mode="json"),
        headers={"Location": f"/api/messages/{made.id}"},
    )


@router.get("/api/messages", permission="message.view", summary="Sends, newest first, with their per-channel counts")
def list_messages(
    status: Annotated[SendStatus | None, Query()] = None,
    type: Annotated[MessageType | None, Query()] = None,
    created_after: Annotated[datetime | None, Query(description="RFC 3339")] = None,
    created_before: Annotated[datetime | None, Query(description="RFC 3339")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> MessageSendListResponse:
    found, following = service.list_sends(
        actor_of(router),
        status=status,
        type_=type,
        created_after=created_after,
        created_before=created_before,
        limit=limit,
        cursor=cursor,
    )
    return MessageSendListResponse(items=[service.send_response(s) for s in found], next_cursor=following)


@router.get("/api/messages/<send_id>", permission="message.view", summary="One send with its per-channel counts")
def get_message(send_id: str) -> MessageSendResponse:
    return service.send_response(service.get_send(actor_of(router), send_id))


@router.get(
    "/api/messages/<send_id>/deliveries",
    permission="message.view",
    summary="A send's delivery records: one per recipient and channel, with its status",
)
def list_message_deliveries(
    send_id: str,
    status: Annotated[DeliveryStatus | None, Query()] = None,
    channel: Annotated[ChannelName | None, Query()] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> MessageDeliveryListResponse:
    found, following = service.list_deliveries(
        actor_of(router), send_id, status=status, channel=channel, limit=limit, cursor=cursor
    )
    return MessageDeliveryListResponse(items=[service.delivery_response(d) for d in found], next_cursor=following)


@router.post(
    "/api/messages/<send_id>/cancel",
    permission="message.send",
    summary="Cancel a send that has not started going out (a scheduled one: its schedule is deleted)",
)
def cancel_message(send_id: str) -> MessageSendResponse:
    return service.send_response(service.cancel(actor_of(router), send_id))
