"""Lambda functions of the template, run in-process.

moto runs Lambda code only in Docker. `LambdaFunction._invoke_lambda` is the
seam every moto caller goes through (Step Functions tasks, S3 notifications,
`lambda:Invoke`), so the stack replaces it with a call of the real handler.
"""

from __future__ import annotations

import importlib
import json
import sys
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_stack.template import ROOT

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LambdaContext:
    """What the Lambda runtime hands a handler, as far as our code reads it."""

    function_name: str
    memory_limit_in_mb: int = 1024
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = "local"
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass
class LocalFunction:
    logical_id: str
    name: str
    arn: str
    handler_path: str
    code_dir: Path
    memory: int
    _handler: Handler | None = None

    @property
    def handler(self) -> Handler:
        if self._handler is None:
            module_name, _, attribute = self.handler_path.rpartition(".")
            code = str(self.code_dir)
            if code not in sys.path:
                sys.path.insert(0, code)
            module = importlib.import_module(module_name)
            self._handler = getattr(module, attribute)
        return self._handler

    def invoke(self, event: Any) -> Any:
        context = LambdaContext(self.name, self.memory, invoked_function_arn=self.arn)
        return self.handler(event, context)


class FunctionRegistry:
    """Every function of the template, by logical id, name and ARN."""

    def __init__(self) -> None:
        self._functions: dict[str, LocalFunction] = {}
        self.lock = threading.Lock()

    def add(self, function: LocalFunction) -> None:
        for key in (function.logical_id, function.name, function.arn):
            self._functions[key] = function

    def get(self, name_or_arn: str) -> LocalFunction:
        key = name_or_arn
        if key.startswith("arn:") and key.count(":") > 6:
            key = key.rsplit(":", 1)[0] if not key.endswith(":$LATEST") else key[: -len(":$LATEST")]
        if key not in self._functions:
            raise KeyError(f"no local function {name_or_arn}")
        return self._functions[key]

    def all(self) -> list[LocalFunction]:
        return list({id(f): f for f in self._functions.values()}.values())

    @staticmethod
    def code_dir(code_uri: str) -> Path:
        return (ROOT / code_uri).resolve()


_registry: FunctionRegistry | None = None


def install_moto_seam(registry: FunctionRegistry) -> None:
    """Make moto call our handlers whenever something invokes a Lambda function."""
    global _registry
    _registry = registry
    from moto.awslambda.models import LambdaFunction

    if getattr(LambdaFunction._invoke_lambda, "_riveredge", False):
        return

    def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        assert _registry is not None
        payload = json.loads(event) if isinstance(event, str | bytes) else (event or {})
        function = _registry.get(self.function_name)
        try:
            result = function.invoke(payload)
        except Exception as error:  # the function failed: report it as Lambda does
            body = {
                "errorMessage": str(error),
                "errorType": type(error).__name__,
                "stackTrace": traceback.format_exception(error)[-5:],
            }
            return json.dumps(body), True, ""
        return json.dumps(result, default=str), False, ""

    _invoke_lambda._riveredge = True  # type: ignore[attr-defined]
    LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]
