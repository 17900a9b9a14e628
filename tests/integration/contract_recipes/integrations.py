"""Contract recipes of the integration routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.integration.test_route_contracts import Call, World

WEBHOOK = {"name": "Hook", "config": {"type": "webhook", "url": "https://hooks.example.com/in"}, "secret": "s3cret"}


def _integration(world: World) -> dict[str, Any]:
    return world.post("/api/integrations", WEBHOOK)


def creating(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    return {("POST", "/api/integrations"): lambda: Call("POST", "/api/integrations", world.token, dict(WEBHOOK))}


def versioned(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    def integration(method: str) -> Callable[[], Call]:
        def make() -> Call:
            made = _integration(world)
            path = f"/api/integrations/{made['id']}"
            body = {"name": "Renamed", "version": made["version"]} if method == "PUT" else None
            return Call(method, path, world.token, body, made["version"], lambda: world.get(path))

        return make

    def allow_list() -> Call:
        path = f"/api/tenants/{world.tenant.id}/outbound-allow-list"
        current = world.get(path, world.operator.token)
        body = {"hosts": [f"{world.code('h')}.internal"], "version": current["version"]}
        return Call(
            "PUT", path, world.operator.token, body, current["version"], lambda: world.get(path, world.operator.token)
        )

    return {
        ("PUT", "/api/integrations/{integration_id}"): integration("PUT"),
        ("DELETE", "/api/integrations/{integration_id}"): integration("DELETE"),
        ("PUT", "/api/tenants/{tenant_id}/outbound-allow-list"): allow_list,
    }
