"""The Docker-free local stack: moto as AWS, resources from template.yaml, handlers in Lambda-like environments.

`LocalStack` provisions everything template.yaml declares into a moto server
running in this process, runs each function's handler in execution
environments of its own (worker processes, one event at a time) wherever AWS
would invoke it (API Gateway, Step Functions tasks, EventBridge rules, S3
notifications, schedules) and serves the API through a gateway that reads the
template's API events and runs the real authorizer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local_stack.stack import LocalStack

__all__ = ["LocalStack"]


def __getattr__(name: str) -> Any:
    # Lazy, so an execution environment that imports local_stack.worker loads nothing else of the stack.
    if name == "LocalStack":
        from local_stack.stack import LocalStack

        return LocalStack
    raise AttributeError(name)
