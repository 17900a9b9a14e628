"""Step Functions Lambda tasks: one function serves a state machine's tasks, dispatched by task name.

    from riveredge.consumers import Delivery, tasks

    onboarding = tasks.Dispatcher()

    @onboarding.task("seed_defaults", TenantTask)
    def seed_defaults(task: TenantTask, delivery: Delivery) -> dict[str, Any]: ...

    lambda_handler = onboarding

A Task state passes its task, the tenant and the context it runs in::

    "Parameters": {"task": "seed_defaults", "tenant_id.$": "$.tenant_id",
                   "execution.$": "$$.Execution.Id", "state.$": "$$.State.Name",
                   "retry.$": "$$.State.RetryCount", "correlation_id.$": "$.correlation_id"}

A task runs once per execution and state: a redelivered invocation answers the
first result (a failure stores nothing, so ``Retry`` runs it again). Failures
have names a state machine can match in ``Retry`` / ``Catch``:
:class:`InvalidTaskInput` and :class:`UnknownTenant` never succeed on a retry,
:class:`TaskBusy` is transient; a domain error keeps its own class name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from riveredge.consumers.delivery import Delivery, Refused, RetryLater, handle, parse, tenant_of
from riveredge.observability import logger
from riveredge.scope import use_scope

RESERVED = ("task", "execution", "state", "retry", "correlation_id")


class TaskError(Exception):
    """Base of the named errors of tasks (the Lambda error type is the class name)."""


class InvalidTaskInput(TaskError):
    """The input names no known task, or fails the task's model. Retrying cannot help."""


class UnknownTenant(TaskError):
    """The input names no tenant, or one that does not exist. Retrying cannot help."""


class TaskBusy(TaskError):
    """The same task of the same execution is running elsewhere, or a dependency is throttled: retry."""


PERMANENT_ERRORS = ("InvalidTaskInput", "UnknownTenant")


@dataclass(frozen=True)
class Task:
    model: type[BaseModel]
    handler: Callable[[Any, Delivery], Any]
    direct: bool


class Dispatcher:
    """The Lambda handler of a state machine's tasks."""

    def __init__(self) -> None:
        self.tasks: dict[str, Task] = {}
        self._entry = logger.inject_lambda_context(clear_state=True)(self._handle)

    def task(
        self, name: str, model: type[BaseModel], *, direct: bool = False
    ) -> Callable[[Callable[[Any, Delivery], Any]], Callable[[Any, Delivery], Any]]:
        """Register a task. `direct` tasks are invoked outside any execution (no execution id to dedupe by):
        the task itself must be safe to run twice."""

        def register(handler: Callable[[Any, Delivery], Any]) -> Callable[[Any, Delivery], Any]:
            self.tasks[name] = Task(model, handler, direct)
            return handler

        return register

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        return self._entry(event, context)

    def _handle(self, event: dict[str, Any], context: Any) -> Any:
        name = str(event.get("task", ""))
        task = self.tasks.get(name)
        if task is None:
            raise InvalidTaskInput(f"unknown task {name!r}")
        logger.append_keys(task=name)
        try:
            tenant_id = tenant_of(event.get("tenant_id", "platform" if task.direct else None))
        except Refused as refusal:
            raise UnknownTenant(refusal.reason) from refusal
        try:
            body = parse(task.model, {k: v for k, v in event.items() if k not in RESERVED}, what="input")
        except Refused as refusal:
            raise InvalidTaskInput(refusal.reason) from refusal
        execution, state = event.get("execution"), event.get("state")
        retry = event.get("retry")
        delivery = Delivery(
            "task",
            f"{execution}#{state}",
            tenant_id,
            str(event.get("correlation_id") or execution or "") or None,
            attempt=int(retry) + 1 if isinstance(retry, int) else 1,
            kind=name,
        )
        if not execution or not state:
            if not task.direct:
                raise InvalidTaskInput("the input carries no execution and state ($$.Execution.Id, $$.State.Name)")
            with use_scope(delivery.scope):
                return task.handler(body, delivery)
        try:
            return handle(delivery, lambda: task.handler(body, delivery), lambda_context=context)
        except RetryLater as later:
            raise TaskBusy(later.reason) from later
