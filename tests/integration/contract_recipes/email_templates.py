"""Contract recipes of the email-template routes (global variables; the metadata is read-only)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from tests.integration.test_route_contracts import Call, World

PATH = "/api/email-templates/global-variables"


def _body() -> dict[str, Any]:
    return {"key": f"v_{uuid.uuid4().hex[:10]}", "label": "Variable", "value": "one"}


def creating(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    return {("POST", PATH): lambda: Call("POST", PATH, world.token, _body(), variant={"value": "two"})}


def versioned(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    def variable(method: str) -> Callable[[], Call]:
        def make() -> Call:
            made = world.post(PATH, _body())
            path = f"{PATH}/{made['key']}"
            body = {"value": "changed", "version": made["version"]} if method == "PUT" else None

            def read() -> Any:
                listed = world.get(PATH)
                return next((v for v in listed["items"] if v["key"] == made["key"]), None)

            return Call(method, path, world.token, body, made["version"], read)

        return make

    return {(m, f"{PATH}/{{key}}"): variable(m) for m in ("PUT", "DELETE")}
