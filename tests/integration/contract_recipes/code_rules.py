"""Contract recipes of the code rule routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.integration.test_route_contracts import Call, World


def _body(world: World) -> dict[str, Any]:
    return {"code": world.code("CR"), "name": "Rule", "pattern": "R-{SEQ:4}"}


def creating(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    return {("POST", "/api/code-rules"): lambda: Call("POST", "/api/code-rules", world.token, _body(world))}


def versioned(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    def rule(method: str) -> Callable[[], Call]:
        def make() -> Call:
            made = world.post("/api/code-rules", _body(world))
            path = f"/api/code-rules/{made['id']}"
            body = {"name": "Renamed", "version": made["version"]} if method == "PUT" else None
            return Call(method, path, world.token, body, made["version"], lambda: world.get(path))

        return make

    return {("PUT", "/api/code-rules/{rule_id}"): rule("PUT"), ("DELETE", "/api/code-rules/{rule_id}"): rule("DELETE")}
