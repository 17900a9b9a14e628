"""Demo dictionaries (a cascading region list, ticket priorities) and typed system parameters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from local_stack.demo import expect

if TYPE_CHECKING:
    from local_stack.stack import LocalStack

REGIONS = [
    ("east", "East China", "华东", None),
    ("shanghai", "Shanghai", "上海", "east"),
    ("hangzhou", "Hangzhou", "杭州", "east"),
    ("north", "North China", "华北", None),
    ("beijing", "Beijing", "北京", "north"),
]
PRIORITIES = [("low", "Low", "低"), ("normal", "Normal", "普通"), ("high", "High", "高"), ("urgent", "Urgent", "紧急")]
PARAMETERS = [
    {"key": "upload.max_mb", "type": "number", "value": 50, "description": "Largest file an upload may be (MB)"},
    {"key": "mail.footer", "type": "string", "value": "Sent by RiverEdge Demo", "description": "Mail footer"},
    {"key": "registration.open", "type": "boolean", "value": True, "description": "Whether people may sign up"},
    {
        "key": "approval.limits",
        "type": "json",
        "value": {"manager": 10000, "director": 100000},
        "description": "Amounts each level may approve",
        "json_schema": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
    },
    {"key": "erp.api_token", "type": "string", "value": "demo-token-123", "secret": True, "description": "ERP token"},
    {"key": "tenant.region", "type": "string", "value": "east", "editable": False, "description": "Home region"},
]


def seed(stack: LocalStack, token: str) -> None:
    def post(path: str, body: object) -> None:
        expect(stack.request("POST", path, token=token, json_body=body))

    post("/api/dictionaries", {"code": "region", "name": "Region", "description": "Regions and their cities"})
    for order, (code, label, zh, parent) in enumerate(REGIONS):
        body = {"code": code, "label": label, "order": order, "translations": {"zh-CN": zh}, "parent": parent}
        post("/api/dictionaries/region/items", body)
    post("/api/dictionaries", {"code": "priority", "name": "Ticket priority"})
    for order, (code, label, zh) in enumerate(PRIORITIES):
        post(
            "/api/dictionaries/priority/items",
            {"code": code, "label": label, "order": order, "translations": {"zh-CN": zh}},
        )
    for parameter in PARAMETERS:
        post("/api/parameters", parameter)
