"""The outbox: a tenant saved is a tenant onboarded, whatever happens to the process after the write."""

from __future__ import annotations

from typing import Any

import pytest
from riveredge import keys
from riveredge.db.models import OutboxEvent, Tenant
from riveredge.scope import Scope, use_scope

from local_stack.stack import LocalStack
from tests.integration.conftest import Account, InProcess, login


def _body(code: str) -> dict[str, Any]:
    return {
        "code": code,
        "name": code.title(),
        "tier": "standard",
        "admin": {"email": f"boss@{code}.example", "name": "Boss", "password": "Correct-horse-42"},
    }


def _tenant_by_code(stack: LocalStack, operator_token: str, code: str) -> dict[str, Any]:
    reply = stack.request("GET", "/api/tenants?limit=200", token=operator_token)
    return next(t for t in reply.json()["items"] if t["code"] == code)


class ProcessDied(Exception):
    """Stands for the process ending right after the tenant's transaction: nothing after it runs."""


def test_a_process_that_dies_after_the_tenant_write_still_onboards_it(
    stack: LocalStack, operator_token: str, in_process: InProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = in_process("TenantsFunction")
    from tenants import repository

    original = repository.create

    def create_then_die(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        raise ProcessDied

    monkeypatch.setattr(repository, "create", create_then_die)
    assert module is not None
    # When the tenants function dies right after writing the tenant (the caller sees a 500)
    reply = stack.request("POST", "/api/tenants", token=operator_token, json_body=_body("phoenix"))
    assert reply.status == 500
    # Then the tenant.created event written with it still starts the workflow, which runs to the end
    tenant = _tenant_by_code(stack, operator_token, "phoenix")
    execution = stack.wait_for_execution(stack.onboarding_execution_arn(tenant["id"]))
    assert execution["status"] == "SUCCEEDED"
    assert stack.request("GET", f"/api/tenants/{tenant['id']}", token=operator_token).json()["status"] == "active"
    assert login(stack, "phoenix", "boss@phoenix.example").status == 200
    # And the event is an outbox item under the tenant's own keys
    scope = Scope(tenant["id"])
    with use_scope(scope):
        events = [e for e in OutboxEvent.query(keys.collection(scope, "OUTBOX")) if isinstance(e, OutboxEvent)]
    assert [e.detail_type for e in events] == ["tenant.created", "tenant.activated"]


def test_a_failed_onboarding_can_be_retried_to_success(
    stack: LocalStack, operator_token: str, in_process: InProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_process("OnboardingFunction")
    from onboarding import service
    from riveredge.consumers.tasks import InvalidTaskInput

    original = service.create_admin

    def broken(tenant_id: str) -> dict[str, Any]:
        raise InvalidTaskInput("the admin cannot be created (injected)")  # a permanent error: no retries

    monkeypatch.setattr(service, "create_admin", broken)
    # Given a tenant whose onboarding fails
    reply = stack.request("POST", "/api/tenants", token=operator_token, json_body=_body("retryco"))
    tenant_id = reply.json()["id"]
    first = stack.wait_for_execution(stack.onboarding_execution_arn(tenant_id, 1))
    assert first["status"] == "FAILED"
    failed = stack.request("GET", f"/api/tenants/{tenant_id}", token=operator_token).json()
    assert failed["status"] == "failed"
    refused = login(stack, "retryco", "boss@retryco.example")  # the admin's password, the account not made yet
    assert (refused.status, refused.json()["detail"]) == (403, "this organisation is not active")
    # When the operator retries it, with the fault gone
    monkeypatch.setattr(service, "create_admin", original)
    retried = stack.request(
        "POST",
        f"/api/tenants/{tenant_id}/retry-onboarding",
        token=operator_token,
        headers={"If-Match": str(failed["version"])},
    )
    assert retried.status == 200, retried.body
    assert retried.json()["status"] == "provisioning"
    # Then a second workflow run onboards it, and its admin can sign in
    second = stack.wait_for_execution(stack.onboarding_execution_arn(tenant_id, 2))
    assert second["status"] == "SUCCEEDED", second.get("cause")
    assert stack.request("GET", f"/api/tenants/{tenant_id}", token=operator_token).json()["status"] == "active"
    assert login(stack, "retryco", "boss@retryco.example").status == 200
    # And an onboarded tenant cannot be retried again
    again = stack.request("POST", f"/api/tenants/{tenant_id}/retry-onboarding", token=operator_token)
    assert again.status == 409 and again.json()["type"] == "/problems/conflict"


def test_retry_onboarding_is_for_platform_operators_and_unknown_tenants_are_404(
    stack: LocalStack, operator_token: str, acme: Any
) -> None:
    # A tenant admin may not retry anyone's onboarding, not even their own tenant's
    own = stack.request("POST", f"/api/tenants/{acme.id}/retry-onboarding", token=acme.admin_token)
    assert own.status == 403
    # An operator naming no tenant gets 404
    missing = stack.request("POST", "/api/tenants/01ARZ3NDEKTSV4RRFFQ69G5FAV/retry-onboarding", token=operator_token)
    assert missing.status == 404
    # A stale version is 412 and changes nothing
    stale = stack.request(
        "POST", f"/api/tenants/{acme.id}/retry-onboarding", token=operator_token, headers={"If-Match": "999"}
    )
    assert stale.status == 412
    with use_scope(Scope(acme.id)):
        key = keys.tenant(acme.id)
        assert Tenant.get(key.pk, key.sk).status == "active"


def test_onboarding_started_twice_for_one_event_runs_one_workflow(stack: LocalStack, operator: Account) -> None:
    # The same tenant.created delivered twice (EventBridge delivers at least once) starts one execution
    reply = stack.request("POST", "/api/tenants", token=operator.token, json_body=_body("twice"))
    tenant_id = reply.json()["id"]
    assert stack.wait_for_execution(stack.onboarding_execution_arn(tenant_id))["status"] == "SUCCEEDED"
    scope = Scope(tenant_id)
    with use_scope(scope):
        created = next(
            e
            for e in OutboxEvent.query(keys.collection(scope, "OUTBOX"))
            if isinstance(e, OutboxEvent) and e.detail_type == "tenant.created"
        )
    event = {
        "version": "0",
        "id": "redelivered",
        "detail-type": "tenant.created",
        "source": "riveredge.tenants",
        "detail": {**(created.detail or {}), "tenant_id": tenant_id, "event_id": created.event_id},
    }
    answers = [stack.invoke("OnboardingFunction", event) for _ in range(2)]
    assert answers[0] == answers[1]
    import boto3

    machine = stack.resolver.refs["OnboardingStateMachine"]
    runs = boto3.client("stepfunctions").list_executions(stateMachineArn=machine)["executions"]
    assert [r["name"] for r in runs if tenant_id in r["name"]] == [f"onboard-{tenant_id}-1"]
