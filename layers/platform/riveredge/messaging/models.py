"""The items of message management: templates, sends, their delivery records and fan-out page markers.

(Channel configs are :class:`riveredge.db.config.MessageConfig`; inbox items are H4's
:class:`riveredge.db.models.InboxMessage`.) Keys come from :mod:`riveredge.keys`: a send's delivery records
and its page markers live in partitions of their own (one per send), so a push to a big tenant never makes
one hot key of its configuration partition.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from riveredge import keys
from riveredge.db.base import TableModel
from riveredge.scope import Scope

CHANNELS: tuple[str, ...] = ("in_app", "email", "sms", "webhook")
STATUSES: tuple[str, ...] = ("queued", "delivered", "failed", "read")


def zero_counts() -> dict[str, int]:
    """A send's counters before anything went out: ``<channel>_<status>`` for every channel and status."""
    return {f"{channel}_{status}": 0 for channel in CHANNELS for status in STATUSES}


class MessageTemplate(TableModel, discriminator="message_template"):
    """A tenant's message template: one body per channel it can go out on, and its declared variables.

    ``bodies`` maps a channel to its parts: ``in_app`` {title, content}, ``email`` {subject, html, text},
    ``sms`` {text}, ``webhook`` {format: "json", payload: <any JSON, its strings templates>} or {format: "text",
    text}. ``variables`` is a list of {key, label, required, example}. Rendered by :mod:`riveredge.rendering`.
    """

    template_id = UnicodeAttribute()
    name = UnicodeAttribute()
    code = UnicodeAttribute()
    type = UnicodeAttribute()  # the message type its sends get: notice | system | task | approval | ...
    description = UnicodeAttribute(null=True)
    bodies = JSONAttribute(null=True)
    variables = JSONAttribute(null=True)
    enabled = BooleanAttribute(default=True)
    created_by = UnicodeAttribute(null=True)

    noun: ClassVar[str] = "message template"
    id_attribute: ClassVar[str] = "template_id"

    def snapshot(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "code": self.code,
            "type": self.type,
            "description": self.description,
            "channels": sorted((self.bodies or {}).keys()),
            "variables": [v.get("key") for v in (self.variables or [])],
            "enabled": self.enabled,
        }

    @classmethod
    def new(cls, scope: Scope, template_id: str, **attributes: Any) -> MessageTemplate:
        key = keys.message_template(scope, template_id)
        return cls(key.pk, key.sk, template_id=template_id, **attributes)


class MessageTemplateCode(TableModel, discriminator="message_template_code"):
    """Claims a message-template code within a tenant (written in the template's transaction)."""

    template_id = UnicodeAttribute()

    @classmethod
    def new(cls, scope: Scope, code: str, template_id: str) -> MessageTemplateCode:
        key = keys.message_template_code(scope, code)
        return cls(key.pk, key.sk, template_id=template_id)


class MessageSend(TableModel, discriminator="message_send"):
    """One push: what it says, to whom, on which channels, when; how far its fan-out got; its counters.

    ``status``: scheduled (waiting for ``send_at``) | queued (waiting for the fan-out) | sending (pages being
    written) | sent (every recipient has its delivery records) | cancelled | failed (the fan-out gave up:
    ``error``). ``recipients`` is the request's recipient spec with the departments' paths resolved;
    ``template`` the template as it was when the send was made (later edits do not change a send).
    ``counts`` holds ``<channel>_<status>`` counters, changed only by the transactions that change the
    delivery records they count.
    """

    send_id = UnicodeAttribute()
    title = UnicodeAttribute()
    content = UnicodeAttribute(null=True)
    type = UnicodeAttribute()
    template_id = UnicodeAttribute(null=True)
    template_version = NumberAttribute(null=True)
    template = JSONAttribute(null=True)  # {"bodies": ..., "variables": ...} of the template used
    variables = JSONAttribute(null=True)
    link = UnicodeAttribute(null=True)
    recipients = JSONAttribute()
    channels = JSONAttribute(null=True)  # a list of channels, or null: each recipient's preferences
    send_at = UTCDateTimeAttribute(null=True)
    status = UnicodeAttribute()
    created_by = UnicodeAttribute()
    dispatch_id = UnicodeAttribute(null=True)  # minted when it starts going out: its inbox messages' id
    started_at = UTCDateTimeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)
    cancelled_at = UTCDateTimeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    schedule_name = UnicodeAttribute(null=True)
    recipient_count = NumberAttribute(default=0)
    pages = NumberAttribute(default=0)
    counts: MapAttribute[str, Any] = MapAttribute(null=True)

    noun: ClassVar[str] = "message"
    id_attribute: ClassVar[str] = "send_id"

    def snapshot(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "type": self.type,
            "template_id": self.template_id,
            "channels": self.channels,
            "send_at": self.send_at.isoformat() if self.send_at else None,
            "status": self.status,
        }

    @classmethod
    def new(cls, scope: Scope, send_id: str, **attributes: Any) -> MessageSend:
        key = keys.message_send(scope, send_id)
        return cls(key.pk, key.sk, send_id=send_id, counts=zero_counts(), **attributes)


class MessageDelivery(TableModel, discriminator="message_delivery"):
    """One recipient's delivery of one send on one channel.

    ``status``: queued | delivered | failed | read (in-app, once its inbox message is read). Its key is the
    send, the user and the channel, so a retried fan-out page writes the same record. ``claimed_at`` is set
    by the worker that is delivering it (an external channel): a retry finds it claimed and never delivers
    it again. ``provider_id``: the mail delivery id, SNS message id or the webhook's HTTP status.
    """

    send_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    channel = UnicodeAttribute()
    status = UnicodeAttribute()
    address = UnicodeAttribute(null=True)  # the email address or phone number it goes to
    error = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    claimed_at = UTCDateTimeAttribute(null=True)
    delivered_at = UTCDateTimeAttribute(null=True)
    read_at = UTCDateTimeAttribute(null=True)
    provider_id = UnicodeAttribute(null=True)

    noun: ClassVar[str] = "delivery"
    id_attribute: ClassVar[str] = "sk"

    @property
    def delivery_id(self) -> str:
        return f"{self.user_id}.{self.channel}"

    @classmethod
    def new(cls, scope: Scope, send_id: str, user_id: str, channel: str, **attributes: Any) -> MessageDelivery:
        key = keys.message_delivery(scope, send_id, user_id, channel)
        return cls(key.pk, key.sk, send_id=send_id, user_id=user_id, channel=channel, **attributes)


class FanoutPage(TableModel, discriminator="message_page"):
    """The marker of one written fan-out page: saved with the page's records, on condition that it is new.

    ``following`` is where the next page starts (None after the last); ``external`` the delivery keys
    (``<user id>#<channel>``) of the page that go out through the delivery queue, re-queued when the page is
    seen again (a delivery already claimed is skipped by the worker).
    """

    send_id = UnicodeAttribute()
    page = NumberAttribute()
    following = JSONAttribute(null=True)
    external = JSONAttribute(null=True)
    recipients = NumberAttribute(default=0)

    @classmethod
    def new(cls, scope: Scope, send_id: str, page: int, **attributes: Any) -> FanoutPage:
        key = keys.message_page(scope, send_id, page)
        return cls(key.pk, key.sk, send_id=send_id, page=page, **attributes)
