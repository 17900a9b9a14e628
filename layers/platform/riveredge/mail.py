"""Outbound mail leaves through a queue: :func:`send` records a delivery and enqueues the message.

No request or job talks to SES. Each message gets a delivery record in its
tenant (``queued``; the mailer function makes it ``sent`` with SES's message
id, ``failed`` with the error, or ``suppressed``; SES's bounce, complaint and
delivery events move it on), and goes to the mail queue with its tenant and the
correlation id of the request that caused it. The mailer sends at the account's
SES rate and retries throttling (functions/mailer).

The few messages the platform writes itself (welcome, activation) are built
here as plain text and escaped HTML; mail that people compose from templates is
the mail module's business.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from riveredge import aws
from riveredge.clock import new_id
from riveredge.db.models import MailDelivery
from riveredge.observability import correlation_id
from riveredge.scope import Scope
from riveredge.settings import get_settings

MAX_MESSAGE_BYTES = 240_000  # SQS takes 256 KiB a message (and a batch), attributes included
BATCH = 10  # SQS's SendMessageBatch limit


@dataclass(frozen=True)
class Message:
    """One message to send: who to, what it says, what sent it."""

    to: tuple[str, ...]
    subject: str
    text: str
    html: str
    kind: str  # activation | password_reset | welcome | ... (what sent it; listed in the delivery log)

    def body(self, delivery_id: str) -> str:
        payload = {
            "delivery_id": delivery_id,
            "to": list(self.to),
            "subject": self.subject,
            "text": self.text,
            "html": self.html,
            "kind": self.kind,
        }
        encoded = json.dumps(payload, ensure_ascii=False)
        if len(encoded.encode()) > MAX_MESSAGE_BYTES:
            raise ValueError(f"a {self.kind} message is larger than {MAX_MESSAGE_BYTES} bytes")
        return encoded


def send(scope: Scope, message: Message) -> str:
    """Queue one message for `scope`'s tenant; answers its delivery id."""
    return send_many(scope, [message])[0]


def send_many(scope: Scope, messages: Sequence[Message]) -> list[str]:
    """Queue messages for `scope`'s tenant (delivery records in batches of 25, messages in batches of 10).

    A message SQS does not take is marked failed, with the error, before this raises.
    """
    tenant = Scope(scope.tenant_id)  # records live in the tenant's own partition, even when an operator sends
    correlation = correlation_id()
    ids = [new_id() for _ in messages]
    bodies = [m.body(i) for m, i in zip(messages, ids, strict=True)]
    records = [
        MailDelivery.new(
            tenant,
            delivery_id,
            kind=m.kind,
            recipients=set(m.to),
            subject=m.subject[:500],
            status="queued",
            correlation_id=correlation,
        )
        for m, delivery_id in zip(messages, ids, strict=True)
    ]
    with MailDelivery.batch_write() as batch:
        for record in records:
            record.stamp()
            batch.save(record)
    attributes = {"tenant_id": {"DataType": "String", "StringValue": tenant.tenant_id}}
    if correlation:
        attributes["correlation_id"] = {"DataType": "String", "StringValue": correlation}
    queue = get_settings().mail_queue_url
    for start in range(0, len(messages), BATCH):
        entries: list[dict[str, Any]] = [
            {"Id": str(n), "MessageBody": bodies[n], "MessageAttributes": attributes}
            for n in range(start, min(start + BATCH, len(messages)))
        ]
        failed = _enqueue(queue, entries)
        if failed:
            _mark_unqueued([records[int(f["Id"])] for f in failed], str(failed[0].get("Message", "")))
            raise RuntimeError(f"{len(failed)} message(s) could not be queued: {failed[0]}")
    return ids


def _enqueue(queue: str, entries: list[dict[str, Any]]) -> list[dict[str, str]]:
    try:
        response = aws.sqs().send_message_batch(QueueUrl=queue, Entries=entries)  # type: ignore[arg-type]
    except Exception as error:
        return [{"Id": str(e["Id"]), "Message": str(error)} for e in entries]
    return [{"Id": str(f["Id"]), "Message": str(f.get("Message", f["Code"]))} for f in response.get("Failed", [])]


def _mark_unqueued(records: list[MailDelivery], error: str) -> None:
    for record in records:
        record.update(actions=[MailDelivery.status.set("failed"), MailDelivery.error.set(f"not queued: {error}"[:500])])


def activation_link(tenant_code: str, token: str) -> str:
    """Where an invited account sets its password (the front end posts to /api/public/activate)."""
    query = urlencode({"tenant": tenant_code, "token": token})
    return f"{get_settings().app_base_url.rstrip('/')}/activate?{query}"


def activation(to: str, name: str, tenant_code: str, token: str, *, reset: bool = False) -> Message:
    """The set-password (or reset-password) link of an account."""
    link = activation_link(tenant_code, token)
    action = "reset your password" if reset else "set your password and activate your account"
    subject = "Reset your RiverEdge password" if reset else "Your RiverEdge account is ready"
    text = f"Hello {name},\n\nOpen this link to {action} (valid for 7 days):\n{link}\n"
    body_html = (
        f"<p>Hello {html.escape(name)},</p><p>Open this link to {html.escape(action)} (valid for 7 days):</p>"
        f'<p><a href="{html.escape(link)}">{html.escape(link)}</a></p>'
    )
    return Message((to,), subject, text, body_html, "password_reset" if reset else "activation")


def welcome(to: str, name: str, tenant_name: str, tenant_code: str) -> Message:
    """The first admin's welcome to a new organisation."""
    subject = f"Welcome to RiverEdge, {tenant_name}"
    text = (
        f"Hello {name},\n\nYour organisation {tenant_name} is ready on RiverEdge.\n"
        f"Sign in with the organisation code '{tenant_code}' and your email {to}.\n"
    )
    body_html = (
        f"<p>Hello {html.escape(name)},</p><p>Your organisation <strong>{html.escape(tenant_name)}</strong> is ready"
        f" on RiverEdge.</p><p>Sign in with the organisation code <code>{html.escape(tenant_code)}</code> and your"
        f" email {html.escape(to)}.</p>"
    )
    return Message((to,), subject, text, body_html, "welcome")


def login_alert(to: str, tenant_name: str, tenant_code: str, failures: int, window_minutes: int) -> Message:
    """Tell an account's owner that sign-ins to it are slowed down after failed attempts from several places."""
    subject = "Failed sign-in attempts on your RiverEdge account"
    text = (
        f"Hello,\n\nThere were {failures} failed attempts to sign in to your account {to} at {tenant_name}"
        f" (organisation code '{tenant_code}') in the last {window_minutes} minutes.\n"
        "Sign-ins to this account are slowed down for a while: if you wait a minute, your password still works.\n"
        "If these attempts were not yours: they all failed; choose a new password if you use this one anywhere"
        " else.\n"
    )
    body_html = (
        f"<p>Hello,</p><p>There were {failures} failed attempts to sign in to your account {html.escape(to)} at"
        f" <strong>{html.escape(tenant_name)}</strong> (organisation code <code>{html.escape(tenant_code)}</code>)"
        f" in the last {window_minutes} minutes.</p><p>Sign-ins to this account are slowed down for a while: if"
        " you wait a minute, your password still works.</p><p>If these attempts were not yours: they all failed;"
        " choose a new password if you use this one anywhere else.</p>"
    )
    return Message((to,), subject, text, body_html, "login_alert")
