"""One Lambda execution environment: a process that runs one function's handler, one event at a time.

The parent (``local_stack.environments``) starts it with the function's spec,
sends it events over a pipe and reads back what Lambda's runtime would report:
the handler's JSON result, or an error payload (``errorType``,
``errorMessage``, ``stackTrace``). The process imports nothing of the
function until it starts, gets the function's own environment variables
before that import, and keeps its module state between events, as a warm
Lambda environment does. Nothing else runs in it, so module-level state is
never shared between two events in flight.

Messages (parent -> worker): ``("invoke", request_id, event_json, deadline_epoch_ms)`` and ``("stop",)``.
Messages (worker -> parent): ``("ready", init_ms)`` or ``("init_error", payload)`` once, then per event
``("result", body_json, is_error, duration_ms, max_memory_mb)``.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import sys
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any


@dataclass(frozen=True)
class FunctionSpec:
    """What an environment needs to run one function (picklable: it crosses into the worker process)."""

    logical_id: str
    name: str
    arn: str
    handler: str
    code_dir: str
    memory_mb: int
    timeout_seconds: float
    environment: dict[str, str] = field(default_factory=dict)
    sys_path: tuple[str, ...] = ()
    log_path: str | None = None


@dataclass
class LambdaContext:
    """The context object Lambda hands a handler."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    deadline_ms: int
    log_group_name: str = ""
    log_stream_name: str = "local"
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))


def error_payload(error: BaseException, error_type: str | None = None) -> dict[str, Any]:
    """An exception as Lambda's runtime reports it."""
    return {
        "errorMessage": str(error),
        "errorType": error_type or type(error).__name__,
        "requestId": "",
        "stackTrace": traceback.format_exception(error)[-5:],
    }


def _redirect_output(log_path: str | None) -> None:
    if not log_path:
        return
    sink = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(sink, 1)
    os.dup2(sink, 2)
    os.close(sink)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)


def _max_memory_mb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


def _load(spec: FunctionSpec) -> Any:
    module_name, _, attribute = spec.handler.rpartition(".")
    for path in reversed((spec.code_dir, *spec.sys_path)):
        if path not in sys.path:
            sys.path.insert(0, path)
    module = importlib.import_module(module_name)
    return getattr(module, attribute)


def main(connection: Connection, spec: FunctionSpec) -> None:
    """The environment's life: init (the cold start), then one event at a time until told to stop."""
    _redirect_output(spec.log_path)
    os.environ.update(spec.environment)
    os.environ["AWS_LAMBDA_FUNCTION_NAME"] = spec.name
    os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = str(spec.memory_mb)
    os.environ["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST"
    started = time.perf_counter()
    try:
        handler = _load(spec)
    except BaseException as error:
        connection.send(("init_error", error_payload(error, "Runtime.ImportModuleError")))
        return
    connection.send(("ready", (time.perf_counter() - started) * 1000))
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message[0] != "invoke":
            return
        _, request_id, event_json, deadline_ms = message
        context = LambdaContext(spec.name, spec.memory_mb, spec.arn, request_id, deadline_ms)
        began = time.perf_counter()
        is_error = False
        try:
            result = handler(json.loads(event_json), context)
            try:
                body = json.dumps(result)
            except (TypeError, ValueError) as error:
                body, is_error = json.dumps(error_payload(error, "Runtime.MarshalError")), True
        except Exception as error:
            payload = error_payload(error)
            payload["requestId"] = request_id
            body, is_error = json.dumps(payload), True
        sys.stdout.flush()
        connection.send(("result", body, is_error, (time.perf_counter() - began) * 1000, _max_memory_mb()))
