"""Contract recipes of the dataset routes (an API dataset on an http data source: nothing to connect to)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.integration.test_route_contracts import Call, World


def _source(world: World) -> dict[str, Any]:
    return world.post(
        "/api/datasources",
        {"name": world.code("src"), "config": {"type": "http", "base_url": "https://api.example.com"}},
    )


def _body(world: World) -> dict[str, Any]:
    return {"name": world.code("ds"), "datasource_id": _source(world)["id"], "kind": "api", "api": {"extract": "@"}}


def _dataset(world: World) -> dict[str, Any]:
    return world.post("/api/datasets", _body(world))


def creating(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    def export() -> Call:
        made = _dataset(world)
        path = f"/api/datasets/{made['id']}/export"
        return Call("POST", path, world.token, {"format": "csv"}, variant={"format": "xlsx"})

    return {
        ("POST", "/api/datasets"): lambda: Call("POST", "/api/datasets", world.token, _body(world)),
        ("POST", "/api/datasets/{dataset_id}/export"): export,
    }


def versioned(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    def dataset(method: str) -> Callable[[], Call]:
        def make() -> Call:
            made = _dataset(world)
            path = f"/api/datasets/{made['id']}"
            body = {"name": "Renamed", "version": made["version"]} if method == "PUT" else None
            return Call(method, path, world.token, body, made["version"], lambda: world.get(path))

        return make

    return {
        ("PUT", "/api/datasets/{dataset_id}"): dataset("PUT"),
        ("DELETE", "/api/datasets/{dataset_id}"): dataset("DELETE"),
    }
