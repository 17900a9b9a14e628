"""Mail-log routes: the organisation's delivery records, and the public unsubscribe link of its mail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from riveredge.http import PUBLIC, ApiRouter, actor_of, caller

from mail_logs import service
from mail_logs.models import (
    Category,
    MailLogItem,
    MailLogListResponse,
    MailLogResponse,
    Status,
    SubscriptionResponse,
)

router = ApiRouter("mail_logs")
VIEW = "mail.log"

Template = Annotated[
    str | None, Query(pattern=r"^[a-z][a-z0-9_.-]{0,63}$", description="Records of this template code only")
]
Recipient = Annotated[str | None, Query(max_length=254, description="Records to this address only")]
StatusFilter = Annotated[Status | None, Query(description="Records in this status only")]
CategoryFilter = Annotated[Category | None, Query(description="Records of this category only")]
TestFilter = Annotated[bool | None, Query(description="Test sends only (true) or none of them (false)")]
Since = Annotated[datetime | None, Query(description="Records queued at or after this time (ISO 8601; UTC if no zone)")]
Until = Annotated[
    datetime | None, Query(description="Records queued at or before this time (ISO 8601; UTC if no zone)")
]
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=2048)]
Token = Annotated[str, Query(min_length=1, max_length=1024, description="The token of the unsubscribe link")]


@router.get(
    "/api/mail-logs",
    permission=VIEW,
    permission_name="View the mail log",
    summary="The organisation's delivery records, newest first (a page reads at most a month of days)",
)
def list_mail_logs(
    template: Template = None,
    recipient: Recipient = None,
    status: StatusFilter = None,
    category: CategoryFilter = None,
    test: TestFilter = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> MailLogListResponse:
    filters = service.Filters(
        template=template,
        recipient=recipient,
        status=status,
        category=category,
        test=test,
        since=since,
        until=until,
    )
    records, next_cursor = service.page(actor_of(router), filters, limit=limit, cursor=cursor)
    return MailLogListResponse(items=[MailLogItem.of(r) for r in records], next_cursor=next_cursor)


@router.get(
    "/api/mail-logs/<delivery_id>",
    permission=VIEW,
    summary="One delivery record: its rendered subject, sender, recipients, status history and error",
)
def get_mail_log(delivery_id: str) -> MailLogResponse:
    return MailLogResponse.of(service.one(actor_of(router), delivery_id))


def _answer(found: service.Subscription) -> SubscriptionResponse:
    return SubscriptionResponse(
        email=found.email,
        category=found.category,  # type: ignore[arg-type]  # checked by the service: an unsubscribable one
        organisation=found.organisation,
        unsubscribed=found.unsubscribed,
    )


@router.get(
    "/api/public/mail/unsubscribe",
    permission=PUBLIC,
    summary="What an unsubscribe link stands for (changes nothing; the web page asks before it posts)",
)
def get_subscription(token: Token) -> SubscriptionResponse:
    return _answer(service.subscription(token))


@router.post(
    "/api/public/mail/unsubscribe",
    permission=PUBLIC,
    form_body=True,
    summary="Unsubscribe the link's address from the link's category of mail (RFC 8058 one-click; any body)",
)
def unsubscribe(token: Token) -> SubscriptionResponse:
    return _answer(service.unsubscribe_from(token, caller(router).request_id))
