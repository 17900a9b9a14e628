"""Contract recipes of the language routes."""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from typing import Any

from tests.integration.test_route_contracts import Call, World


def _code() -> str:
    return "x" + "".join(random.choices(string.ascii_lowercase, k=2)) + "-" + "".join(random.choices("ABCDEFGH", k=2))


def _language(world: World) -> dict[str, Any]:
    return world.post("/api/languages", {"code": _code(), "name": "Language"})


def creating(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    return {
        ("POST", "/api/languages"): lambda: Call("POST", "/api/languages", world.token, {"code": _code(), "name": "L"}),
    }


def versioned(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    def language(method: str) -> Callable[[], Call]:
        def make() -> Call:
            made = _language(world)
            path = f"/api/languages/{made['code']}"
            body = {"name": "Renamed", "version": made["version"]} if method == "PUT" else None
            return Call(method, path, world.token, body, made["version"], lambda: world.get(path))

        return make

    def translations() -> Call:
        made = _language(world)
        path = f"/api/languages/{made['code']}/translations"
        world.stack.request("PUT", path, token=world.token, json_body={"translations": {"a": "A"}, "version": 0})
        current = world.get(path)
        body = {"translations": {"a": "B"}, "version": current["version"]}
        return Call("PUT", path, world.token, body, current["version"], lambda: world.get(path))

    return {
        ("PUT", "/api/languages/{code}"): language("PUT"),
        ("DELETE", "/api/languages/{code}"): language("DELETE"),
        ("PUT", "/api/languages/{code}/translations"): translations,
    }
