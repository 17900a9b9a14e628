"""Lambda entry point of the onboarding function.

Three sources: the onboarding state machine's tasks (dispatched by name), the
bus events that start a tenant's workflow (``tenant.created`` and
``tenant.onboarding_retried``, from the tenants function's outbox), and the
direct invocation that bootstraps the first platform operator.
"""

from __future__ import annotations

from typing import Any

from riveredge.consumers import Delivery, bus, tasks

from onboarding import service
from onboarding.models import BootstrapOperator, MarkFailedTask, OnboardingRequested, TenantTask, WelcomeTask

steps = tasks.Dispatcher()
requests = bus.Consumer()


@steps.task("seed_defaults", TenantTask)
def seed_defaults(task: TenantTask, delivery: Delivery) -> dict[str, Any]:
    return service.seed_defaults(task.tenant_id)


@steps.task("create_admin", TenantTask)
def create_admin(task: TenantTask, delivery: Delivery) -> dict[str, Any]:
    return service.create_admin(task.tenant_id)


@steps.task("activate", TenantTask)
def activate(task: TenantTask, delivery: Delivery) -> dict[str, Any]:
    return service.activate(task.tenant_id)


@steps.task("send_welcome", WelcomeTask)
def send_welcome(task: WelcomeTask, delivery: Delivery) -> dict[str, Any]:
    return service.welcome_mail(task.tenant_id, task.admin.model_dump())


@steps.task("mark_failed", MarkFailedTask)
def mark_failed(task: MarkFailedTask, delivery: Delivery) -> dict[str, Any]:
    return service.mark_failed(task.tenant_id, str((task.error or {}).get("Cause", "")))


@steps.task("bootstrap_operator", BootstrapOperator, direct=True)
def bootstrap_operator(task: BootstrapOperator, delivery: Delivery) -> dict[str, Any]:
    return service.bootstrap_operator(task.email, task.name, task.password)


@requests.on("tenant.created", OnboardingRequested)
@requests.on("tenant.onboarding_retried", OnboardingRequested)
def start(request: OnboardingRequested, delivery: Delivery) -> dict[str, Any]:
    return service.start(delivery.tenant_id, request.attempt, delivery.correlation_id)


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    """A bus event, or a task of the state machine (or the operator bootstrap)."""
    if "detail-type" in event:
        return requests(event, context)
    return steps(event, context)
