"""What the mail-log routes answer: delivery records (one, or a page of them) and unsubscribe links."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from riveredge.clock import iso
from riveredge.db.models import MailDelivery
from riveredge.schemas import ResponseModel

Status = Literal["queued", "sent", "delivered", "bounced", "complained", "failed", "suppressed"]
Category = Literal["auth", "notification", "collaboration", "marketing"]


class StatusStep(ResponseModel):
    status: str
    at: str
    detail: str | None = None


class MailLogItem(ResponseModel):
    id: str
    kind: str = Field(description="What sent it: a template code, message, message_test, ...")
    template_code: str | None = None
    template_id: str | None = Field(None, description="The organisation's template (absent: the system default)")
    template_version: int | None = None
    category: str | None = None
    language: str | None = None
    test: bool = Field(description="A test send (from a template's preview)")
    sender: str | None = Field(None, description="The From header: display name and address")
    reply_to: str | None = None
    recipients: list[str]
    subject: str = Field(description="As rendered")
    status: Status
    attempts: int
    error: str | None = None
    attachments: list[str] = Field([], description="The attachments' file names")
    queued_at: str
    sent_at: str | None = None
    updated_at: str

    @classmethod
    def fields_of(cls, record: MailDelivery) -> dict[str, Any]:
        return {
            "id": record.delivery_id,
            "kind": record.kind,
            "template_code": record.template_code,
            "template_id": record.template_id,
            "template_version": int(record.template_version) if record.template_version is not None else None,
            "category": record.category,
            "language": record.language,
            "test": bool(record.test),
            "sender": record.sender,
            "reply_to": record.reply_to,
            "recipients": sorted(record.recipients or []),
            "subject": record.subject,
            "status": record.status,
            "attempts": int(record.attempts or 0),
            "error": record.error,
            "attachments": list(record.attachments or []),
            "queued_at": iso(record.created_at) if record.created_at else "",
            "sent_at": iso(record.sent_at) if record.sent_at else None,
            "updated_at": iso(record.updated_at) if record.updated_at else "",
        }

    @classmethod
    def of(cls, record: MailDelivery) -> MailLogItem:
        return cls(**cls.fields_of(record))


class MailLogListResponse(ResponseModel):
    items: list[MailLogItem]
    next_cursor: str | None = Field(
        None, description="More records (a page may hold fewer than limit: it reads at most a month of days)"
    )


class MailLogResponse(MailLogItem):
    history: list[StatusStep] = Field(description="Every status it went through, oldest first")
    suppressed: list[str] = Field([], description="Recipients it did not go to (bounced, complained, unsubscribed)")
    ses_message_id: str | None = None
    correlation_id: str | None = Field(None, description="The request that caused it")

    @classmethod
    def of(cls, record: MailDelivery) -> MailLogResponse:
        return cls(
            **MailLogItem.fields_of(record),
            history=[StatusStep(**step) for step in record.history or []],
            suppressed=sorted(record.suppressed or []),
            ses_message_id=record.ses_message_id,
            correlation_id=record.correlation_id,
        )


class SubscriptionResponse(ResponseModel):
    email: str = Field(description="The address the link was sent to, partly hidden")
    category: Category
    organisation: str
    unsubscribed: bool = Field(description="Mail of this category no longer goes to the address")
