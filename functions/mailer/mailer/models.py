"""What the mailer reads: queued messages, and the SES events of the configuration set."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

ULID = r"^[0-9A-HJKMNP-TV-Z]{26}$"


class AttachmentRef(BaseModel):
    """An attachment as it travels: the S3 key of the tenant's object (the mailer fetches it)."""

    key: str = Field(min_length=1, max_length=1024)
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=3, max_length=129)


class OutboundMail(BaseModel):
    """A message riveredge.mail queued (fields after `kind` have defaults: messages queued before them)."""

    delivery_id: str = Field(pattern=ULID)
    to: list[str] = Field(min_length=1, max_length=50)
    subject: str = Field(min_length=1, max_length=998)
    text: str
    html: str
    kind: str = Field(min_length=1, max_length=64)
    category: str = "auth"  # what every message was before categories: transactional
    from_email: str | None = None  # None: the platform's sender
    from_name: str | None = Field(None, max_length=100)
    reply_to: str | None = None
    attachments: list[AttachmentRef] = Field([], max_length=10)
    test: bool = False


class SesMail(BaseModel):
    model_config = ConfigDict(extra="ignore")

    messageId: str
    destination: list[str] = []
    tags: dict[str, list[str]] = {}


class SesEvent(BaseModel):
    """The detail of an SES event (Email Bounced, Email Complaint Received, Email Delivered)."""

    model_config = ConfigDict(extra="ignore")

    eventType: str
    mail: SesMail
    bounce: dict[str, Any] | None = None
    complaint: dict[str, Any] | None = None
    delivery: dict[str, Any] | None = None

    def recipients(self) -> list[str]:
        """Whom a bounce, complaint or delivery is about."""
        if self.bounce is not None:
            found = self.bounce.get("bouncedRecipients") or []
        elif self.complaint is not None:
            found = self.complaint.get("complainedRecipients") or []
        elif self.delivery is not None:
            return [str(r).lower() for r in self.delivery.get("recipients") or []]
        else:
            return []
        return [str(r["emailAddress"]).lower() for r in found if r.get("emailAddress")]


def tag(detail: dict[str, Any], name: str) -> str | None:
    """A message tag of an SES event (the mailer tags each message with its tenant and delivery)."""
    values = ((detail.get("mail") or {}).get("tags") or {}).get(name) or []
    return str(values[0]) if values else None
