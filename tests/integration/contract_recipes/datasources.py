"""Contract recipes of the data source routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.integration.test_route_contracts import Call, World

SOURCE = {
    "name": "Warehouse",
    "config": {"type": "postgresql", "host": "db.example.com", "database": "warehouse", "username": "reports"},
    "secret": "s3cret",
}


def _source(world: World) -> dict[str, Any]:
    return world.post("/api/datasources", SOURCE)


def creating(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    return {("POST", "/api/datasources"): lambda: Call("POST", "/api/datasources", world.token, dict(SOURCE))}


def versioned(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    def source(method: str) -> Callable[[], Call]:
        def make() -> Call:
            made = _source(world)
            path = f"/api/datasources/{made['id']}"
            body = {"name": "Renamed", "version": made["version"]} if method == "PUT" else None
            return Call(method, path, world.token, body, made["version"], lambda: world.get(path))

        return make

    return {
        ("PUT", "/api/datasources/{datasource_id}"): source("PUT"),
        ("DELETE", "/api/datasources/{datasource_id}"): source("DELETE"),
    }
