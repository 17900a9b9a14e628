"""Lambda entry point of the onboarding tasks (one handler, the state machine names the task)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from riveredge.observability import logger

from onboarding import service

TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "seed_defaults": lambda e: service.seed_defaults(e["tenant_id"]),
    "create_admin": lambda e: service.create_admin(e["tenant_id"]),
    "send_welcome": lambda e: service.welcome_mail(e["tenant_id"], e["admin"]),
    "activate": lambda e: service.activate(e["tenant_id"]),
    "mark_failed": lambda e: service.mark_failed(e["tenant_id"], str(e.get("error", {}).get("Cause", ""))),
    "bootstrap_operator": lambda e: service.bootstrap_operator(e["email"], e["name"], e["password"]),
}


@logger.inject_lambda_context(clear_state=True, log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = event.get("task")
    if task not in TASKS:
        raise ValueError(f"unknown onboarding task: {task!r}")
    logger.append_keys(task=task, tenant_id=event.get("tenant_id"))
    return TASKS[str(task)](event)
