"""API registry persistence: the only code of this function that touches DynamoDB (secrets: riveredge.integrations)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pynamodb.expressions.condition import Condition
from riveredge import keys
from riveredge.actor import Actor
from riveredge.clock import utcnow
from riveredge.db.changes import Change, change
from riveredge.db.config import Integration
from riveredge.db.interfaces import Interface, InterfaceRoute, InterfaceTestRun
from riveredge.scope import Scope

SOURCE = "interfaces"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_STALE = "the interface has changed since it was read; read it again"


def find(scope: Scope, interface_id: str) -> Interface | None:
    return Interface.find(keys.interface(scope, interface_id))


def page(
    scope: Scope, wanted: Condition | None, limit: int, start: dict[str, Any] | None
) -> tuple[list[Interface], dict[str, Any] | None]:
    """A page of the tenant's interfaces, oldest first (one Query, filtered: a page may hold fewer)."""
    found = Interface.query(
        keys.interfaces(scope), filter_condition=wanted, limit=limit, page_size=limit, last_evaluated_key=start
    )
    items = [i for i in found if isinstance(i, Interface)]
    return items, found.last_evaluated_key


def every(scope: Scope, wanted: Condition | None) -> Iterator[Interface]:
    """Every interface of the tenant that `wanted` admits, oldest first (one Query, paged by DynamoDB)."""
    for item in Interface.query(keys.interfaces(scope), filter_condition=wanted):
        if isinstance(item, Interface):
            yield item


def integration(scope: Scope, integration_id: str) -> Integration | None:
    return Integration.find(keys.integration(scope, integration_id))


def integrations_of(scope: Scope) -> dict[str, Integration]:
    """Every integration of the tenant by id (one Query of their partition)."""
    found = Integration.query(keys.integrations(scope))
    return {i.integration_id: i for i in found if isinstance(i, Integration)}


def holders(scope: Scope, route: str, other_than: str) -> list[Interface]:
    """The interfaces (other than `other_than`) holding `route` with another method: two BatchGets."""
    wanted = [keys.interface_route(scope, method, route) for method in METHODS]
    claims = InterfaceRoute.batch_get([(k.pk, k.sk) for k in wanted])
    ids = {c.interface_id for c in claims if isinstance(c, InterfaceRoute) and c.interface_id != other_than}
    if not ids:
        return []
    found = Interface.batch_get([tuple(keys.interface(scope, i)) for i in sorted(ids)])
    return [i for i in found if isinstance(i, Interface)]


def _taken(item: Interface) -> str:
    return (
        f"another interface describes {item.method} {item.path} already "
        "(paths that differ only in their parameters' names are one path)"
    )


def _claim(scope: Scope, item: Interface, method: str, route: str) -> InterfaceRoute:
    return InterfaceRoute.new(scope, method, route, item.interface_id)


def _release(c: Change, claim: InterfaceRoute) -> None:
    """Delete a route claim, provided it is still this interface's."""
    c.delete(
        claim,
        condition=InterfaceRoute.interface_id == claim.interface_id,
        versioned=False,
        conflict="the interface's route changed hands meanwhile; read it again",
    )


def create(actor: Actor, item: Interface) -> None:
    """Claim the method and path and store the interface, in one change."""
    with change(actor, "interface.create", item) as c:
        c.create(_claim(actor.scope, item, item.method, item.route), conflict=_taken(item))
        c.create(item, conflict="the interface exists already")
        c.publish("interface.created", {"interface_id": item.interface_id}, source=SOURCE)


def save(actor: Actor, item: Interface, *, before: dict[str, Any], old_method: str, old_route: str) -> None:
    """Save a changed interface on the version read; a new method or path is claimed and the old one released."""
    with change(actor, "interface.update", item, before=before) as c:
        c.save(item, stale=_STALE)
        if (old_method, old_route) != (item.method, item.route):
            c.create(_claim(actor.scope, item, item.method, item.route), conflict=_taken(item))
            _release(c, _claim(actor.scope, item, old_method, old_route))
        c.publish("interface.updated", {"interface_id": item.interface_id}, source=SOURCE)


def delete(actor: Actor, item: Interface) -> None:
    """Delete the interface and release its route (one change), then its test runs (nothing reads them
    without it; they would expire anyway)."""
    with change(actor, "interface.delete", item, before=item.snapshot()) as c:
        c.delete(item, stale=_STALE)
        _release(c, _claim(actor.scope, item, item.method, item.route))
        c.publish("interface.deleted", {"interface_id": item.interface_id}, source=SOURCE)
    runs = InterfaceTestRun.query(keys.interface_tests(actor.scope, item.interface_id), attributes_to_get=["pk", "sk"])
    with InterfaceTestRun.batch_write() as batch:
        for run in runs:
            batch.delete(run)


def record_test(actor: Actor, run: InterfaceTestRun) -> None:
    """Store one test run (its operation-log entry says who called what, and how it went)."""
    with change(actor, "interface.test", run) as c:
        c.create(run, conflict="the test run exists already")


def runs_page(
    scope: Scope, interface_id: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[InterfaceTestRun], dict[str, Any] | None]:
    """A page of an interface's test runs, newest first, without the expired ones DynamoDB has not removed yet."""
    found = InterfaceTestRun.query(
        keys.interface_tests(scope, interface_id),
        filter_condition=InterfaceTestRun.ttl > utcnow(),
        scan_index_forward=False,
        limit=limit,
        page_size=limit,
        last_evaluated_key=start,
    )
    items = [r for r in found if isinstance(r, InterfaceTestRun)]
    return items, found.last_evaluated_key


def run_of(scope: Scope, interface_id: str, test_id: str) -> InterfaceTestRun | None:
    found = InterfaceTestRun.find(keys.interface_test(scope, interface_id, test_id))
    if found is None or (found.ttl is not None and found.ttl <= utcnow()):
        return None
    return found
