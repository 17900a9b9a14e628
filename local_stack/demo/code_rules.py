"""Demo code rules: monthly sales invoices and purchase orders per department, with one invoice code issued."""

from __future__ import annotations

from typing import TYPE_CHECKING

from local_stack.demo import expect

if TYPE_CHECKING:
    from local_stack.stack import LocalStack

RULES = (
    {"code": "INV", "name": "Sales invoices", "pattern": "INV-{YYYY}{MM}-{SEQ:5}", "reset": "month"},
    {
        "code": "PO",
        "name": "Purchase orders",
        "pattern": "PO-{CTX}-{YY}-{SEQ:4}",
        "reset": "year",
        "context_description": "The ordering department's code",
    },
)


def seed(stack: LocalStack, token: str) -> None:
    made = [expect(stack.request("POST", "/api/code-rules", token=token, json_body=rule)) for rule in RULES]
    expect(stack.request("POST", f"/api/code-rules/{made[0]['id']}/next", token=token), 200)
