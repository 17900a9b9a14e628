"""Concurrent requests through the local gateway: each served in its caller's scope, and races decided by DynamoDB."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ulid import ULID

from local_stack.stack import LocalStack, Reply
from tests.integration.conftest import TenantFixture

REQUESTS = 500
CLIENTS = 32


def _create_role(stack: LocalStack, tenant: TenantFixture) -> dict[str, Any]:
    name = f"race_{uuid.uuid4().hex[:8]}"
    reply = stack.request(
        "POST",
        "/api/roles",
        token=tenant.admin_token,
        json_body={"name": name, "display_name": f"Race {name}", "data_scope": "self"},
    )
    assert reply.status == 201, reply.body
    return dict(reply.json())


def _request_id(reply: Reply) -> str:
    return next(v for k, v in reply.headers.items() if k.lower() == "x-amzn-requestid")


def test_500_concurrent_requests_from_two_tenants_are_each_served_in_the_callers_scope(
    stack: LocalStack, acme: TenantFixture, globex: TenantFixture
) -> None:
    # Given a role of each tenant's own, and each admin's token
    callers = {t.id: (t, _create_role(stack, t), t.admin_token) for t in (acme, globex)}
    plan = [(tenant_id, kind) for n in range(REQUESTS) for tenant_id in [list(callers)[n % 2]] for kind in [n % 3]]

    def call(step: tuple[str, int]) -> tuple[str, int, Reply]:
        tenant_id, kind = step
        _, role, token = callers[tenant_id]
        path = ["/api/auth/me", f"/api/roles/{role['id']}", f"/api/roles/{ULID()}"][kind]
        return tenant_id, kind, stack.request("GET", path, token=token)

    # When 500 requests alternate between the tenants, 32 at a time
    with ThreadPoolExecutor(max_workers=CLIENTS) as clients:
        answers = list(clients.map(call, plan))

    # Then every answer is the caller's own: its identity, its role, and a 404 for a role nobody has that
    # the handler answered for this very request
    for tenant_id, kind, reply in answers:
        body = reply.json()
        if kind == 0:
            assert reply.status == 200, reply.body
            assert body["tenant"]["id"] == tenant_id
            assert body["user"]["email"] == callers[tenant_id][0].admin_email
        elif kind == 1:
            assert reply.status == 200, reply.body
            assert body["id"] == callers[tenant_id][1]["id"]
        else:
            assert reply.status == 404, reply.body
            assert body["request_id"] == _request_id(reply)
    # And request ids are unique
    assert len({_request_id(reply) for _, _, reply in answers}) == REQUESTS
    # And the requests really ran concurrently: the functions served them from more than one environment
    served = {(i.function, i.environment) for i in list(stack.runtime.invocations)[-2 * REQUESTS :]}
    assert len({environment for function, environment in served if function.endswith("-access")}) > 1


def test_two_concurrent_conditional_writes_to_one_item_race_and_exactly_one_wins(
    stack: LocalStack, acme: TenantFixture
) -> None:
    overlapped = 0
    for _ in range(10):
        # Given a role both writers read at the same version
        role = _create_role(stack, acme)
        body = {"display_name": "Renamed", "data_scope": "self", "version": role["version"]}
        barrier, replies = threading.Barrier(2), list[tuple[str, Reply]]()

        def write(
            display_name: str,
            body: dict[str, Any] = body,
            role: dict[str, Any] = role,
            barrier: threading.Barrier = barrier,
            replies: list[tuple[str, Reply]] = replies,
        ) -> None:
            barrier.wait()
            reply = stack.request(
                "PUT",
                f"/api/roles/{role['id']}",
                token=acme.admin_token,
                json_body={**body, "display_name": display_name},
            )
            replies.append((display_name, reply))

        # When two writers send their update at the same instant
        writers = [threading.Thread(target=write, args=(name,)) for name in ("First", "Second")]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
        served = [i for i in list(stack.runtime.invocations)[-8:] if i.function.endswith("-access")][-2:]

        # Then exactly one wins and the other is told its version is stale; the stored role is the winner's
        statuses = sorted(reply.status for _, reply in replies)
        assert statuses == [200, 412], [r.body for _, r in replies]
        winner = next(name for name, reply in replies if reply.status == 200)
        stored = stack.request("GET", f"/api/roles/{role['id']}", token=acme.admin_token).json()
        assert stored["display_name"] == winner and stored["version"] == role["version"] + 1
        # (counted: the two updates were in flight together, in two environments of the function)
        if len({i.environment for i in served}) == 2 and max(i.started for i in served) < min(i.ended for i in served):
            overlapped += 1
    # And at least one pair really raced (not serialised by the stack)
    assert overlapped >= 1


def test_an_id_that_is_not_an_id_is_not_another_route(stack: LocalStack, acme: TenantFixture) -> None:
    # When a department is asked for by an id that is a newline (%0A on the wire)
    reply = stack.request("GET", "/api/departments/\n", token=acme.admin_token)
    # Then it is a 404, not the department list
    assert reply.status == 404
    assert reply.json()["type"] == "/problems/not-found"
