"""Contract recipes of the dictionaries and parameters routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.integration.test_route_contracts import Call, World


def _dictionary(world: World) -> dict[str, Any]:
    return world.post("/api/dictionaries", {"code": world.code("d"), "name": "Dictionary"})


def _item(world: World) -> tuple[str, dict[str, Any]]:
    kind = _dictionary(world)["code"]
    return kind, world.post(f"/api/dictionaries/{kind}/items", {"code": world.code("i"), "label": "Item"})


def _parameter(world: World) -> dict[str, Any]:
    return world.post("/api/parameters", {"key": world.code("p"), "type": "number", "value": 1})


def creating(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    def item() -> Call:
        kind = _dictionary(world)["code"]
        body = {"code": world.code("i"), "label": "Item"}
        return Call("POST", f"/api/dictionaries/{kind}/items", world.token, body, variant={"label": "Other"})

    return {
        ("POST", "/api/dictionaries"): lambda: Call(
            "POST", "/api/dictionaries", world.token, {"code": world.code("d"), "name": "Dictionary"}
        ),
        ("POST", "/api/dictionaries/{type_code}/items"): item,
        ("POST", "/api/parameters"): lambda: Call(
            "POST",
            "/api/parameters",
            world.token,
            {"key": world.code("p"), "type": "number", "value": 1},
            variant={"value": 2},
        ),
    }


def versioned(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    def dictionary(method: str) -> Callable[[], Call]:
        def make() -> Call:
            made = _dictionary(world)
            path = f"/api/dictionaries/{made['code']}"
            body = {"name": "Renamed", "version": made["version"]} if method == "PUT" else None
            return Call(method, path, world.token, body, made["version"], lambda: world.get(path))

        return make

    def item(method: str) -> Callable[[], Call]:
        def make() -> Call:
            kind, made = _item(world)
            path = f"/api/dictionaries/{kind}/items/{made['code']}"
            body = {"label": "Renamed", "version": made["version"]} if method == "PUT" else None

            def read() -> Any:
                items = world.get(f"/api/dictionaries/{kind}/items?include_disabled=true")["items"]
                return next((i for i in items if i["code"] == made["code"]), None)

            return Call(method, path, world.token, body, made["version"], read)

        return make

    def parameter(method: str) -> Callable[[], Call]:
        def make() -> Call:
            made = _parameter(world)
            path = f"/api/parameters/{made['key']}"
            body = {"value": 5, "version": made["version"]} if method == "PUT" else None
            return Call(method, path, world.token, body, made["version"], lambda: world.get(path))

        return make

    return {
        ("PUT", "/api/dictionaries/{type_code}"): dictionary("PUT"),
        ("DELETE", "/api/dictionaries/{type_code}"): dictionary("DELETE"),
        ("PUT", "/api/dictionaries/{type_code}/items/{item_code}"): item("PUT"),
        ("DELETE", "/api/dictionaries/{type_code}/items/{item_code}"): item("DELETE"),
        ("PUT", "/api/parameters/{key}"): parameter("PUT"),
        ("DELETE", "/api/parameters/{key}"): parameter("DELETE"),
    }
