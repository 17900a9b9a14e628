"""Transactional mail the platform sends itself (welcome, activation), through SES v2.

Mail that people compose from templates is the mail module's business (issue 4);
these few messages are plain text and escaped HTML built here.
"""

from __future__ import annotations

import html
from urllib.parse import urlencode

from riveredge import aws
from riveredge.settings import get_settings


def activation_link(tenant_code: str, token: str) -> str:
    """Where an invited account sets its password (the front end posts to /api/public/activate)."""
    query = urlencode({"tenant": tenant_code, "token": token})
    return f"{get_settings().app_base_url.rstrip('/')}/activate?{query}"


def send(to: str, subject: str, text: str, body_html: str) -> str:
    """Send one message; answers SES's message id."""
    response = aws.sesv2().send_email(
        FromEmailAddress=get_settings().mail_from,
        Destination={"ToAddresses": [to]},
        Content={
            "Simple": {
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": text, "Charset": "UTF-8"}, "Html": {"Data": body_html, "Charset": "UTF-8"}},
            }
        },
    )
    return str(response.get("MessageId", ""))


def send_activation(to: str, name: str, tenant_code: str, token: str, *, reset: bool = False) -> str:
    """The set-password (or reset-password) link of an account."""
    link = activation_link(tenant_code, token)
    action = "reset your password" if reset else "set your password and activate your account"
    subject = "Reset your RiverEdge password" if reset else "Your RiverEdge account is ready"
    text = f"Hello {name},\n\nOpen this link to {action} (valid for 7 days):\n{link}\n"
    body_html = (
        f"<p>Hello {html.escape(name)},</p><p>Open this link to {html.escape(action)} (valid for 7 days):</p>"
        f'<p><a href="{html.escape(link)}">{html.escape(link)}</a></p>'
    )
    return send(to, subject, text, body_html)
