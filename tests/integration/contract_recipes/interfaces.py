"""Contract recipes of the API registry's routes: interfaces, and their test calls (each records a run)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable
from typing import Any

from tests.integration.test_route_contracts import Call, World

PATH = "/api/interfaces"


def _body() -> dict[str, Any]:
    """An interface of its own path each time (one interface per method and path)."""
    return {
        "name": "Orders",
        "method": "GET",
        "path": f"https://api.example.com/ct/{uuid.uuid4().hex[:10]}/orders",
        "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The orders", "schema": {"type": "array"}}},
    }


def _closed_port() -> int:
    """A loopback port nothing listens on: a test call to it is refused at once (a failed run, recorded)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _allow_loopback(world: World) -> None:
    path = f"/api/tenants/{world.tenant.id}/outbound-allow-list"
    current = world.get(path, world.operator.token)
    hosts = sorted({*current["hosts"], "127.0.0.1/32"})
    reply = world.stack.request(
        "PUT", path, token=world.operator.token, json_body={"hosts": hosts, "version": current["version"]}
    )
    assert reply.status == 200, reply.body


def creating(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    def test_call() -> Call:
        _allow_loopback(world)
        body = {**_body(), "path": f"http://127.0.0.1:{_closed_port()}/ct/{uuid.uuid4().hex[:10]}"}
        made = world.post(PATH, body)
        return Call(
            "POST",
            f"{PATH}/{made['id']}/test",
            world.token,
            {"query": {"q": "a"}},
            variant={"query": {"q": "b"}},
        )

    return {
        ("POST", PATH): lambda: Call("POST", PATH, world.token, _body()),
        ("POST", f"{PATH}/{{interface_id}}/test"): test_call,
    }


def versioned(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    def interface(method: str) -> Callable[[], Call]:
        def make() -> Call:
            made = world.post(PATH, _body())
            path = f"{PATH}/{made['id']}"
            body = {"name": "Renamed", "version": made["version"]} if method == "PUT" else None
            return Call(method, path, world.token, body, made["version"], lambda: world.get(path))

        return make

    return {
        ("PUT", f"{PATH}/{{interface_id}}"): interface("PUT"),
        ("DELETE", f"{PATH}/{{interface_id}}"): interface("DELETE"),
    }
