"""Demo data sources: a public HTTP API (no credentials: `make run` can test and call it when the machine is
online) and a PostgreSQL warehouse as an organisation would configure it (its host does not exist here, so its
connection test reports connect_failed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from local_stack.demo import expect

if TYPE_CHECKING:
    from local_stack.stack import LocalStack

HOLIDAYS = "Public holidays API"
WAREHOUSE = "Warehouse"

DATASOURCES = [
    {
        "name": HOLIDAYS,
        "description": "Nager.Date: public holidays by year and country, e.g. GET /PublicHolidays/2026/CN",
        "config": {"type": "http", "base_url": "https://date.nager.at/api/v3", "headers": {"Accept-Language": "en"}},
    },
    {
        "name": WAREHOUSE,
        "description": "Orders and invoices, read through a SELECT-only account",
        "config": {
            "type": "postgresql",
            "host": "warehouse.example.com",
            "port": 5432,
            "database": "warehouse",
            "username": "reports",
            "ssl": True,
        },
        "secret": "demo-password",
    },
]


def seed(stack: LocalStack, token: str) -> None:
    for body in DATASOURCES:
        expect(stack.request("POST", "/api/datasources", token=token, json_body=body))
