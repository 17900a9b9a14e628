"""Demo site settings: the demo organisation's branding and login page, a stricter password policy, an 8-hour
session (the demo admin's password meets the policy, so signing in to the demo keeps working)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from local_stack.demo import expect

if TYPE_CHECKING:
    from local_stack.stack import LocalStack

SETTINGS = {
    "system_name": "Acme Back Office",
    "primary_color": "#0a7f3f",
    "login_title": "Welcome to Acme",
    "login_subtitle": "Sign in with your work email",
    "login_footer": "Acme Corp - internal use only",
    "time_zone": "Asia/Shanghai",
    "password_policy": {"min_length": 12, "min_classes": 3, "history": 5, "expiry_days": 180},
    "session_seconds": 8 * 3600,
}


def seed(stack: LocalStack, token: str) -> None:
    current = expect(stack.request("GET", "/api/site-settings", token=token), 200)
    body = {**SETTINGS, "version": current["version"]}
    expect(stack.request("PUT", "/api/site-settings", token=token, json_body=body), 200)
