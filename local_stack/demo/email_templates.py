"""Demo global mail variables: the support address and a hotline of the organisation's own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from local_stack.demo import expect

if TYPE_CHECKING:
    from local_stack.stack import LocalStack

PATH = "/api/email-templates/global-variables"


def seed(stack: LocalStack, token: str) -> None:
    support = {"value": "support@acme.example", "version": 0}
    expect(stack.request("PUT", f"{PATH}/support_email", token=token, json_body=support), 200)
    hotline = {
        "key": "hotline",
        "label": "Support hotline",
        "value": "+86 400 800 1234",
        "description": "Phone support",
    }
    expect(stack.request("POST", PATH, token=token, json_body=hotline))
