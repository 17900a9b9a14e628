"""Request and response bodies of the message routes: channel configs, message templates, sends."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator
from riveredge.messaging.channels import E164
from riveredge.schemas import RequestModel, ResponseModel, StoredObject

ChannelName = Literal["in_app", "email", "sms", "webhook"]
MessageType = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]{0,31}$",
        description="What kind of message: notice, system, task, approval, ... (lower case, at most 32)",
    ),
]
Version = Annotated[int, Field(ge=0, description="The version you read (0: none is stored yet); a stale one is a 412")]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Ulid = Annotated[str, Field(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")]
Secret = Annotated[str, Field(min_length=16, max_length=4096, description="Write-only: never answered")]
Url = Annotated[str, Field(min_length=1, max_length=2048, description="An https URL on the public internet")]
Link = Annotated[
    str,
    Field(max_length=2048, pattern=r"^(/[^\s]*|https://[^\s]+)$", description="A path of the web app or an https URL"),
]

MAX_USER_IDS = 1000
MAX_GROUPS = 50
MAX_TITLE = 200
MAX_CONTENT = 10_000
MAX_VARIABLES_BYTES = 20_000


# -- channel configs -------------------------------------------------------------------------------------
def _has_letter(value: str) -> str:
    if not any(c.isalpha() for c in value):
        raise ValueError("a sender id needs a letter at least")
    return value


class InAppConfig(RequestModel):
    """The in-app channel has nothing to configure besides being on or off."""


class SmsConfig(RequestModel):
    sender_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,11}$"), AfterValidator(_has_letter)] | None = Field(
        default=None, description="Alphanumeric sender id (1 to 11 characters, one letter at least) where allowed"
    )
    origination_number: Annotated[str, Field(pattern=E164.pattern)] | None = Field(
        default=None, description="The E.164 number (long code, toll-free, 10DLC) messages go out from"
    )
    sms_type: Literal["Transactional", "Promotional"] = "Transactional"


class WebhookConfig(RequestModel):
    url: Url


class PutMessageConfigRequest(RequestModel):
    """A channel's config, created or replaced whole. `config` is the channel's own fields: email
    {from_email, from_name, reply_to} (a verified SES identity), sms {sender_id, origination_number,
    sms_type}, webhook {url}, in_app {}. `secret` (webhook only) is the signing secret: write-only,
    kept when omitted."""

    version: Version
    enabled: bool = True
    name: Annotated[str, Field(max_length=100)] | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    secret: Secret | None = None


class MessageConfigResponse(StoredObject):
    channel: ChannelName
    name: str | None
    enabled: bool
    configured: bool = Field(description="Whether the tenant stored a config (false: the default)")
    usable: bool = Field(description="Whether a send may use the channel now")
    config: dict[str, Any]
    secret: str | None = Field(default=None, description="`******` when a signing secret is set: never the secret")
    secret_updated_at: str | None = None


class MessageConfigListResponse(ResponseModel):
    items: list[MessageConfigResponse]


class MessageConfigTestRequest(RequestModel):
    to: Annotated[str, Field(min_length=1, max_length=254)] | None = Field(
        default=None, description="email: an address (default: yours); sms: an E.164 number (required)"
    )


class MessageConfigTestResponse(ResponseModel):
    channel: ChannelName
    ok: bool
    detail: str
    reference: str | None = Field(default=None, description="Mail delivery, SNS message or inbox message id")
    status: int | None = Field(default=None, description="The webhook's HTTP status")
    latency_ms: float | None = None


# -- templates --------------------------------------------------------------------------------------------
def _not_builtin(value: str) -> str:
    if value.split(".", 1)[0] == "recipient":
        raise ValueError("recipient is built in: recipient.id, recipient.name, recipient.email")
    return value


VariableKey = Annotated[
    str,
    AfterValidator(_not_builtin),
    Field(
        pattern=r"^[A-Za-z][A-Za-z0-9_]{0,49}(\.[A-Za-z][A-Za-z0-9_]{0,49}){0,3}$",
        description="`{{key}}` in the bodies; dotted for a field (order.id) or a list item's field (items.title); "
        "`recipient` is built in",
    ),
]


class MessageVariable(RequestModel):
    key: VariableKey
    label: Annotated[str, Field(max_length=100)] | None = None
    required: bool = False
    example: Any = None


class InAppMessageBody(RequestModel):
    title: Annotated[str, Field(min_length=1, max_length=1000)]
    content: Annotated[str, Field(max_length=40_000)] = ""


class EmailMessageBody(RequestModel):
    subject: Annotated[str, Field(min_length=1, max_length=1000)]
    html: Annotated[str, Field(min_length=1, max_length=100_000)]
    text: Annotated[str, Field(max_length=50_000)] = ""


class SmsMessageBody(RequestModel):
    text: Annotated[str, Field(min_length=1, max_length=4000)]


def _small_json(value: Any) -> Any:
    if len(json.dumps(value, ensure_ascii=False)) > 50_000:
        raise ValueError("the JSON body may be at most 50,000 characters")
    return value


class WebhookMessageBody(RequestModel):
    """JSON (every string in `payload` is a template, so the result stays valid JSON) or text."""

    format: Literal["json", "text"] = "json"
    payload: Annotated[Any, AfterValidator(_small_json)] = None
    text: Annotated[str, Field(max_length=50_000)] | None = None

    @model_validator(mode="after")
    def _matches_format(self) -> WebhookMessageBody:
        if self.format == "json" and self.payload is None:
            raise ValueError("a json body needs its payload")
        if self.format == "text" and not self.text:
            raise ValueError("a text body needs its text")
        return self


class MessageBodies(RequestModel):
    in_app: InAppMessageBody | None = None
    email: EmailMessageBody | None = None
    sms: SmsMessageBody | None = None
    webhook: WebhookMessageBody | None = None

    @model_validator(mode="after")
    def _one_at_least(self) -> MessageBodies:
        if not any((self.in_app, self.email, self.sms, self.webhook)):
            raise ValueError("a template needs a body for one channel at least")
        return self


Code = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$", description="Unique in the organisation")]
Variables = Annotated[list[MessageVariable], Field(max_length=50)]


def _unique_keys(value: list[MessageVariable] | None) -> list[MessageVariable] | None:
    if value is not None:
        keys = [v.key for v in value]
        if len(set(keys)) != len(keys):
            raise ValueError("variable keys must be unique")
    return value


class CreateMessageTemplateRequest(RequestModel):
    name: Name
    code: Code
    type: MessageType = "notice"
    description: Annotated[str, Field(max_length=500)] | None = None
    bodies: MessageBodies
    variables: Annotated[Variables, AfterValidator(_unique_keys)] = Field(default_factory=list)
    enabled: bool = True


class UpdateMessageTemplateRequest(RequestModel):
    version: Version
    name: Name | None = None
    code: Code | None = None
    type: MessageType | None = None
    description: Annotated[str, Field(max_length=500)] | None = None
    bodies: MessageBodies | None = None
    variables: Annotated[Variables | None, AfterValidator(_unique_keys)] = None
    enabled: bool | None = None


class MessageTemplateResponse(StoredObject):
    name: str
    code: str
    type: str
    description: str | None
    channels: list[ChannelName]
    bodies: dict[str, Any]
    variables: list[dict[str, Any]]
    enabled: bool
    created_by: str | None = None


class MessageTemplateListResponse(ResponseModel):
    items: list[MessageTemplateResponse]
    next_cursor: str | None = None


class MessagePreviewRequest(RequestModel):
    variables: dict[str, Any] = Field(default_factory=dict)
    recipient: dict[str, str] | None = Field(default=None, description="{id, name, email} to render with")


class MessagePreviewResponse(ResponseModel):
    in_app: dict[str, str] | None = None
    email: dict[str, str] | None = None
    sms: dict[str, str] | None = None
    webhook: dict[str, str] | None = None


# -- sends ------------------------------------------------------------------------------------------------
class MessageRecipients(RequestModel):
    user_ids: Annotated[list[Ulid], Field(max_length=MAX_USER_IDS)] = Field(
        default_factory=list,
        description=f"At most {MAX_USER_IDS:,}: reach more people through roles, departments or everyone",
    )
    role_ids: Annotated[list[Ulid], Field(max_length=MAX_GROUPS)] = Field(default_factory=list)
    department_ids: Annotated[list[Ulid], Field(max_length=MAX_GROUPS)] = Field(default_factory=list)
    include_children: bool = Field(default=True, description="The departments' sub-departments too")
    everyone: bool = False

    @model_validator(mode="after")
    def _someone(self) -> MessageRecipients:
        if not (self.everyone or self.user_ids or self.role_ids or self.department_ids):
            raise ValueError("name users, roles or departments, or everyone")
        return self


def _json_size(value: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(value, ensure_ascii=False, default=str)) > MAX_VARIABLES_BYTES:
        raise ValueError(f"the variables may be at most {MAX_VARIABLES_BYTES:,} characters of JSON")
    return value


def _unique_channels(value: list[ChannelName] | None) -> list[ChannelName] | None:
    if value is not None and len(set(value)) != len(value):
        raise ValueError("each channel once")
    return value


class SendMessageRequest(RequestModel):
    """A push: `title` and `content`, or a message template and its variables; to users, roles, departments
    or everyone; on the given channels, or (null) on each recipient's notification preferences; now or at
    `send_at`."""

    title: Annotated[str, Field(min_length=1, max_length=MAX_TITLE)] | None = None
    content: Annotated[str, Field(max_length=MAX_CONTENT)] | None = None
    type: MessageType | None = Field(default=None, description="Default: notice (or the template's type)")
    template_id: Ulid | None = None
    variables: Annotated[dict[str, Any], AfterValidator(_json_size)] = Field(default_factory=dict)
    link: Link | None = None
    recipients: MessageRecipients
    channels: Annotated[
        list[ChannelName] | None, Field(min_length=1, max_length=4), AfterValidator(_unique_channels)
    ] = None
    send_at: datetime | None = Field(default=None, description="RFC 3339; at least a minute ahead (null: now)")

    @field_validator("send_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone (Z or an offset)")
        return value

    @model_validator(mode="after")
    def _words(self) -> SendMessageRequest:
        if self.template_id is None and self.title is None:
            raise ValueError("a message needs a title, or a template_id")
        if self.template_id is not None and (self.title is not None or self.content is not None):
            raise ValueError("give a template_id or a title and content, not both")
        if self.template_id is None and self.variables:
            raise ValueError("variables go with a template_id")
        return self


class DeliveryCountsResponse(ResponseModel):
    queued: int
    delivered: int
    failed: int
    read: int


class MessageSendResponse(StoredObject):
    title: str
    content: str | None
    type: str
    template_id: str | None
    template_version: int | None
    variables: dict[str, Any]
    link: str | None
    recipients: dict[str, Any]
    channels: list[ChannelName] | None
    send_at: str | None
    status: Literal["scheduled", "queued", "sending", "sent", "cancelled", "failed"]
    error: str | None
    created_by: str
    started_at: str | None
    finished_at: str | None
    cancelled_at: str | None
    recipient_count: int = Field(description="People reached so far (each once, whatever their channels)")
    counts: dict[ChannelName, DeliveryCountsResponse]


class MessageSendListResponse(ResponseModel):
    items: list[MessageSendResponse]
    next_cursor: str | None = None


class MessageDeliveryResponse(ResponseModel):
    id: str
    send_id: str
    user_id: str
    channel: ChannelName
    status: Literal["queued", "delivered", "failed", "read"]
    address: str | None
    error: str | None
    attempts: int
    delivered_at: str | None
    read_at: str | None
    created_at: str
    updated_at: str


class MessageDeliveryListResponse(ResponseModel):
    items: list[MessageDeliveryResponse]
    next_cursor: str | None = None
