"""Demo messages: a few in-app messages sent to the demo admin (through POST /api/messages/send and the fan-out,
as any send), the oldest of them read, so that my messages and its unread count show something."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING

from local_stack.demo import expect

if TYPE_CHECKING:
    from local_stack.stack import LocalStack

MESSAGES = [
    ("system", "Welcome to RiverEdge", "Your organisation is ready. Start with Configuration > Site settings."),
    ("notice", "Quarterly maintenance window", "The platform is maintained on Saturday from 02:00 to 04:00 UTC."),
    ("task", "Review the new password policy", "Security asked every administrator to review the policy by Friday."),
]


def _user_id(token: str) -> str:
    payload = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"])


def seed(stack: LocalStack, token: str) -> None:
    me = _user_id(token)
    for kind, title, content in MESSAGES:
        body = {
            "title": title,
            "content": content,
            "type": kind,
            "recipients": {"user_ids": [me]},
            "channels": ["in_app"],
        }
        expect(stack.request("POST", "/api/messages/send", token=token, json_body=body), 202)
    stack.settle()  # the fan-out has delivered them
    items = expect(stack.request("GET", "/api/me/messages?limit=50", token=token), 200)["items"]
    ours = [m for m in items if m["title"] in {t for _, t, _ in MESSAGES}]
    if len(ours) < len(MESSAGES):
        raise RuntimeError(f"{len(MESSAGES)} demo messages were sent, {len(ours)} arrived")
    oldest = ours[-1]
    expect(stack.request("POST", f"/api/me/messages/{oldest['id']}/read", token=token), 200)
