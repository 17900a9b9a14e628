"""Demo mail log: an invited colleague's set-password mail (a system template), a test of the welcome mail
in Chinese, the colleague's one-click unsubscribe from notifications, and the next notification to her
suppressed, so /api/mail-logs shows sent and suppressed deliveries with their status history."""

from __future__ import annotations

import uuid
from email import message_from_string, policy
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from local_stack.demo import expect

if TYPE_CHECKING:
    from local_stack.stack import LocalStack

WELCOME_TEST = "/api/email-templates/metadata/welcome_email/test"


def _unsubscribe_path(stack: LocalStack, address: str) -> str:
    """The List-Unsubscribe link of the latest mail to `address` (what her mail client's button posts to)."""
    for sent in reversed(stack.sent_mail()):
        if address in sent["to"] and sent.get("raw"):
            link = str(message_from_string(str(sent["raw"]), policy=policy.default)["List-Unsubscribe"]).strip("<>")
            parts = urlsplit(link)
            return f"{parts.path}?{parts.query}"
    raise RuntimeError(f"no mail with an unsubscribe link reached {address}")


def seed(stack: LocalStack, token: str) -> None:
    colleague = f"li.na-{uuid.uuid4().hex[:6]}@acme.example"
    invited = {"email": colleague, "name": "Li Na"}
    expect(stack.request("POST", "/api/users", token=token, json_body=invited))  # account_activation
    expect(stack.request("POST", WELCOME_TEST, token=token, json_body={"language": "zh-CN"}), 202)
    notice = {"to": colleague, "language": "en-US", "variables": {"user_name": "Li Na", "user_email": colleague}}
    expect(stack.request("POST", WELCOME_TEST, token=token, json_body=notice), 202)
    stack.settle()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    one_click = b"List-Unsubscribe=One-Click"
    path = _unsubscribe_path(stack, colleague)
    expect(stack.request("POST", path, raw_body=one_click, headers=form), 200)
    expect(stack.request("POST", WELCOME_TEST, token=token, json_body=notice), 202)  # suppressed
    stack.settle()
    expect(stack.request("GET", "/api/mail-logs?limit=10", token=token), 200)
