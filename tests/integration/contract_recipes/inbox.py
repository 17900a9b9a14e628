"""Contract recipes of my messages: nothing is created through them (the fan-out delivers messages); deleting
one takes the version read."""

from __future__ import annotations

from collections.abc import Callable

from riveredge import inbox
from riveredge.clock import new_id
from riveredge.db.changes import System, change
from riveredge.db.models import InboxMessage
from riveredge.scope import Scope, use_scope

from tests.integration.test_route_contracts import Call, World
from tests.support import claims_of


def creating(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    return {}


def versioned(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    def delete() -> Call:
        scope, user_id = Scope(world.tenant.id), str(claims_of(world.token)["sub"])
        message = InboxMessage.new(scope, user_id, new_id(), type="notice", title="Contract", content="check")
        with use_scope(scope), change(System(scope), "message.deliver") as c:
            inbox.deliver(c, message)  # as the fan-out delivers one
        path = f"/api/me/messages/{message.message_id}"
        current = world.get(path)
        return Call("DELETE", path, world.token, None, current["version"], lambda: world.get(path))

    return {("DELETE", "/api/me/messages/{message_id}"): delete}
