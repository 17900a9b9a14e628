"""Demo API registry: a few interfaces of the demo ERP integration (its base URL and key), and one public API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from local_stack.demo import expect

if TYPE_CHECKING:
    from local_stack.stack import LocalStack

AFTER = ("integrations",)  # the ERP integration whose base URL and key the ERP interfaces use

ORDER = {
    "type": "object",
    "required": ["id", "status"],
    "properties": {
        "id": {"type": "string"},
        "status": {"enum": ["open", "shipped", "cancelled"]},
        "total": {"type": "number", "minimum": 0},
    },
}


def _interfaces(erp_id: str) -> list[dict[str, Any]]:
    on_erp = {"group": "ERP", "integration_id": erp_id, "auth_type": "integration"}
    return [
        {
            **on_erp,
            "name": "List orders",
            "method": "GET",
            "path": "/orders",
            "tags": ["orders"],
            "parameters": [
                {"name": "status", "in": "query", "schema": {"enum": ["open", "shipped", "cancelled"]}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
            ],
            "responses": {"200": {"description": "A page of orders", "schema": {"type": "array", "items": ORDER}}},
        },
        {
            **on_erp,
            "name": "Get an order",
            "method": "GET",
            "path": "/orders/{order_id}",
            "tags": ["orders"],
            "parameters": [{"name": "order_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "The order", "schema": ORDER},
                "404": {"description": "No such order"},
            },
        },
        {
            **on_erp,
            "name": "Create an order",
            "method": "POST",
            "path": "/orders",
            "tags": ["orders"],
            "request_body": {
                "type": "object",
                "required": ["customer_id", "lines"],
                "properties": {
                    "customer_id": {"type": "string"},
                    "lines": {"type": "array", "minItems": 1, "items": {"type": "object"}},
                },
            },
            "responses": {"201": {"description": "The order made", "schema": ORDER}},
        },
        {
            "name": "Public holidays",
            "group": "Public data",
            "method": "GET",
            "path": "https://date.nager.example/api/v3/PublicHolidays/{year}/{country}",
            "tags": ["calendar"],
            "parameters": [
                {"name": "year", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1900}},
                {"name": "country", "in": "path", "required": True, "schema": {"pattern": "^[A-Z]{2}$"}},
            ],
            "responses": {"200": {"description": "The holidays of that year", "schema": {"type": "array"}}},
        },
    ]


def seed(stack: LocalStack, token: str) -> None:
    found = expect(stack.request("GET", "/api/integrations", token=token), 200)
    erp = next(i for i in found["items"] if i["name"] == "ERP")
    for body in _interfaces(erp["id"]):
        expect(stack.request("POST", "/api/interfaces", token=token, json_body=body))
