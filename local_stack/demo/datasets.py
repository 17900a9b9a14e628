"""Demo datasets on the demo data sources: public holidays by year and country from the HTTP API (previewable
when the machine is online; the result cached an hour) and open orders from the warehouse (a SQL dataset with
typed parameters; its host does not exist here, so a preview answers 502 connect_failed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from local_stack.demo import expect
from local_stack.demo.datasources import HOLIDAYS, WAREHOUSE

if TYPE_CHECKING:
    from local_stack.stack import LocalStack

AFTER = ("datasources",)  # the data sources these datasets read


def seed(stack: LocalStack, token: str) -> None:
    sources = {s["name"]: s["id"] for s in expect(stack.request("GET", "/api/datasources", token=token), 200)["items"]}
    datasets = [
        {
            "name": "Public holidays",
            "description": "The public holidays of one country in one year",
            "datasource_id": sources[HOLIDAYS],
            "kind": "api",
            "api": {
                "path": "/PublicHolidays/{year}/{country}",
                "extract": "[].{date: date, name: localName, english: name, nationwide: global}",
            },
            "parameters": [
                {"name": "year", "type": "integer", "default": 2026, "label": "Year"},
                {"name": "country", "type": "string", "default": "CN", "label": "Country (ISO 3166 alpha-2)"},
            ],
            "cache_ttl_seconds": 3600,
        },
        {
            "name": "Open orders since",
            "description": "Orders not yet invoiced, newest first",
            "datasource_id": sources[WAREHOUSE],
            "kind": "sql",
            "sql": (
                "SELECT order_no, customer, placed_at, total FROM orders"
                " WHERE status = :status AND placed_at >= :since ORDER BY placed_at DESC"
            ),
            "parameters": [
                {"name": "status", "type": "string", "default": "open", "label": "Status"},
                {"name": "since", "type": "date", "required": True, "label": "Placed since"},
            ],
            "row_cap": 5000,
            "timeout_ms": 10_000,
        },
    ]
    for body in datasets:
        expect(stack.request("POST", "/api/datasets", token=token, json_body=body))
