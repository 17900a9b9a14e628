"""The channels a message goes out on, and what each needs: a tenant's channel configs, SMS through SNS,
webhooks signed with HMAC-SHA256 and sent through the SSRF guard.

Without a stored config, ``in_app`` and ``email`` are on (email through the platform's sender) and ``sms``
and ``webhook`` are off: they need a sender or a URL and a signing secret first.

A webhook request carries ``X-RiverEdge-Timestamp`` (Unix seconds), ``X-RiverEdge-Signature``
(``sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the channel's secret>``), ``X-RiverEdge-Delivery``
(the delivery id, the same on a retry: receivers deduplicate by it) and ``X-RiverEdge-Event``. A receiver
checks the signature and refuses a timestamp older than a few minutes (replay).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from riveredge import aws, integrations, keys
from riveredge.db.config import MessageConfig
from riveredge.messaging.models import CHANNELS
from riveredge.outbound import Response
from riveredge.scope import Scope

WEBHOOK_SECRET_ID = "message-webhook"  # its Secrets Manager name: riveredge.integrations.secret_name(scope, this)
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_PHONE_PUNCTUATION = re.compile(r"[\s().-]")
SMS_MAX_CHARACTERS = 1600
SIGNATURE_HEADER = "X-RiverEdge-Signature"
TIMESTAMP_HEADER = "X-RiverEdge-Timestamp"
DELIVERY_HEADER = "X-RiverEdge-Delivery"
EVENT_HEADER = "X-RiverEdge-Event"
ON_WITHOUT_CONFIG = frozenset({"in_app", "email"})


@dataclass(frozen=True)
class Channel:
    """A channel as a tenant has it: stored (or the default) and whether a send may use it."""

    name: str
    stored: MessageConfig | None

    @property
    def config(self) -> dict[str, Any]:
        return dict(self.stored.config or {}) if self.stored is not None else {}

    @property
    def enabled(self) -> bool:
        if self.stored is None:
            return self.name in ON_WITHOUT_CONFIG
        return bool(self.stored.enabled)

    @property
    def usable(self) -> bool:
        """Whether a send may go out on it now (a webhook also needs its URL and its secret)."""
        if not self.enabled:
            return False
        if self.name == "webhook":
            return bool(self.config.get("url")) and bool(self.stored and self.stored.secret_arn)
        return True

    @property
    def why_not(self) -> str:
        if self.stored is None and self.name not in ON_WITHOUT_CONFIG:
            return f"the {self.name} channel is not configured"
        if not self.enabled:
            return f"the {self.name} channel is switched off"
        return f"the {self.name} channel has no URL or signing secret"


def channels(scope: Scope) -> dict[str, Channel]:
    """Every channel of the tenant, stored or default (one Query of the configs' partition)."""
    stored = {c.channel: c for c in MessageConfig.query(keys.message_configs(scope)) if isinstance(c, MessageConfig)}
    return {name: Channel(name, stored.get(name)) for name in CHANNELS}


def channel(scope: Scope, name: str) -> Channel:
    return Channel(name, MessageConfig.find(keys.message_config(scope, name)))


# -- SMS ---------------------------------------------------------------------------------------------
def phone_number(value: str | None) -> str | None:
    """`value` as an E.164 number (spaces, dots, dashes and brackets dropped), or None when it is not one."""
    if not value:
        return None
    number = _PHONE_PUNCTUATION.sub("", value)
    return number if E164.match(number) else None


def send_sms(config: Mapping[str, Any], phone: str, text: str) -> str:
    """Publish one SMS through SNS to `phone` (E.164) with the channel's sender settings; answers its id."""
    attributes: dict[str, Any] = {
        "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": str(config.get("sms_type") or "Transactional")}
    }
    if config.get("sender_id"):
        attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": str(config["sender_id"])}
    if config.get("origination_number"):
        number = str(config["origination_number"])
        attributes["AWS.MM.SMS.OriginationNumber"] = {"DataType": "String", "StringValue": number}
    answer = aws.sns().publish(PhoneNumber=phone, Message=text[:SMS_MAX_CHARACTERS], MessageAttributes=attributes)
    return str(answer["MessageId"])


# -- webhooks -----------------------------------------------------------------------------------------
def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of ``<timestamp>.<body>`` with `secret`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_headers(
    secret: str, body: bytes, *, delivery_id: str, event: str, content_type: str, timestamp: int | None = None
) -> dict[str, str]:
    """The headers of a signed webhook request."""
    moment = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": content_type,
        TIMESTAMP_HEADER: str(moment),
        SIGNATURE_HEADER: signature(secret, moment, body),
        DELIVERY_HEADER: delivery_id,
        EVENT_HEADER: event,
    }


def webhook_secret(stored: MessageConfig) -> str:
    if not stored.secret_arn:
        raise ValueError("the webhook channel has no signing secret")
    return integrations.read_secret(stored.secret_arn)


def post_webhook(
    scope: Scope,
    stored: MessageConfig,
    body: bytes,
    *,
    delivery_id: str,
    event: str = "message.delivery",
    content_type: str = "application/json",
    secret: str | None = None,
) -> Response:
    """POST `body` to the tenant's webhook URL, signed, through the SSRF guard (riveredge.integrations.call)."""
    key = secret if secret is not None else webhook_secret(stored)
    headers = signed_headers(key, body, delivery_id=delivery_id, event=event, content_type=content_type)
    url = str((stored.config or {}).get("url") or "")
    return integrations.call(scope, "POST", url, headers=headers, body=body, field="config.url")
