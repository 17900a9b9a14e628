"""Contract recipes of the custom-field routes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from tests.integration.test_route_contracts import Call, World


def _body(world: World) -> dict[str, Any]:
    return {"entity": "department", "key": f"f_{uuid.uuid4().hex[:10]}", "label": "Field", "type": "text"}


def creating(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    def field() -> Call:
        return Call("POST", "/api/custom-fields", world.token, _body(world), variant={"label": "Another"})

    return {("POST", "/api/custom-fields"): field}


def versioned(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    def field(method: str) -> Callable[[], Call]:
        def make() -> Call:
            made = world.post("/api/custom-fields", _body(world))
            path = f"/api/custom-fields/{made['id']}"
            body = {"label": "Renamed", "version": made["version"]} if method == "PUT" else None
            return Call(method, path, world.token, body, made["version"], lambda: world.get(path))

        return make

    return {
        ("PUT", "/api/custom-fields/{field_id}"): field("PUT"),
        ("DELETE", "/api/custom-fields/{field_id}"): field("DELETE"),
    }
