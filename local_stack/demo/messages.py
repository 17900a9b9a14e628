"""Demo messages: an SMS sender and a webhook channel, a message template, a push to everyone that goes out
now (the demo admin finds it in their inbox) and one scheduled for tomorrow morning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from local_stack.demo import expect

if TYPE_CHECKING:
    from local_stack.stack import LocalStack

CHANNELS: dict[str, dict[str, Any]] = {
    "sms": {"name": "Acme SMS", "config": {"sender_id": "Acme", "sms_type": "Transactional"}},
    "webhook": {
        "name": "Chat bridge",
        "config": {"url": "https://hooks.example.com/riveredge/messages"},
        "secret": "demo-message-signing-secret",
    },
}

TEMPLATE = {
    "name": "Maintenance window",
    "code": "maintenance.window",
    "type": "system",
    "description": "Tells people when the system will be down",
    "variables": [
        {"key": "starts_at", "label": "Starts at", "required": True, "example": "2026-12-05 22:00"},
        {"key": "hours", "label": "Hours", "required": True, "example": 2},
    ],
    "bodies": {
        "in_app": {
            "title": "Maintenance on {{starts_at}}",
            "content": "Hello {{recipient.name}}, the system is down for {{hours}} hours from {{starts_at}}.",
        },
        "email": {
            "subject": "Maintenance on {{starts_at}}",
            "html": "<p>Hello {{recipient.name}},</p><p>The system is down for {{hours}} hours from {{starts_at}}.</p>",
            "text": "Hello {{recipient.name}}, the system is down for {{hours}} hours from {{starts_at}}.",
        },
        "sms": {"text": "Acme: maintenance {{starts_at}}, {{hours}} h"},
    },
}


def seed(stack: LocalStack, token: str) -> None:
    for channel, body in CHANNELS.items():
        current = expect(stack.request("GET", f"/api/message-configs/{channel}", token=token), 200)
        path = f"/api/message-configs/{channel}"
        expect(stack.request("PUT", path, token=token, json_body={**body, "version": current["version"]}), 200)
    template = expect(stack.request("POST", "/api/message-templates", token=token, json_body=TEMPLATE))
    welcome = {
        "title": "Welcome to RiverEdge",
        "content": "Messages to you land here, and on the channels you choose in your preferences.",
        "type": "notice",
        "recipients": {"everyone": True},
        "channels": ["in_app"],
    }
    expect(stack.request("POST", "/api/messages/send", token=token, json_body=welcome), 202)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(hour=1, minute=0, second=0, microsecond=0)
    later = {
        "template_id": template["id"],
        "variables": {"starts_at": "tomorrow 22:00", "hours": 2},
        "recipients": {"everyone": True},
        "channels": ["in_app"],
        "send_at": tomorrow.isoformat(),
    }
    expect(stack.request("POST", "/api/messages/send", token=token, json_body=later), 202)
