"""Demo integrations: an ERP API, a webhook and an OAuth 2 client (their secrets kept in Secrets Manager)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from local_stack.demo import expect

if TYPE_CHECKING:
    from local_stack.stack import LocalStack

INTEGRATIONS = [
    {"name": "ERP", "config": {"type": "api", "base_url": "https://erp.example.com/api/v2"}, "secret": "demo-key"},
    {
        "name": "Chat notifications",
        "config": {"type": "webhook", "url": "https://hooks.example.com/riveredge", "events": ["user.created"]},
        "secret": "demo-signing-secret",
    },
    {
        "name": "Identity provider",
        "config": {
            "type": "oauth2",
            "client_id": "riveredge-demo",
            "authorization_url": "https://idp.example.com/oauth2/authorize",
            "token_url": "https://idp.example.com/oauth2/token",
            "scopes": ["openid", "profile"],
        },
        "secret": "demo-client-secret",
    },
]


def seed(stack: LocalStack, token: str) -> None:
    for body in INTEGRATIONS:
        expect(stack.request("POST", "/api/integrations", token=token, json_body=body))
