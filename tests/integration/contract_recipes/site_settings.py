"""Contract recipes of the site-settings routes (one document per organisation: an update, no create)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from tests.integration.test_route_contracts import Call, World

PATH = "/api/site-settings"


def creating(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    return {}  # the upload form is a 200 that stores nothing; the settings exist from the start


def versioned(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    def update() -> Call:
        version = int(world.get(PATH)["version"])
        body = {"system_name": f"Portal {uuid.uuid4().hex[:6]}", "session_seconds": 86_400, "version": version}
        return Call("PUT", PATH, world.token, body, version, lambda: world.get(PATH))

    return {("PUT", PATH): update}
