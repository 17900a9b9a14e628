"""Lambda functions of the template, run in execution environments of their own.

moto runs Lambda code only in Docker. `LambdaFunction._invoke_lambda` is the
seam every moto caller goes through (Step Functions tasks, S3 notifications,
`lambda:Invoke`), so the stack replaces it with an invocation of the real
handler in one of the function's environments (local_stack.environments).

A test that must patch a handler's modules (fault injection) runs that
function in the test's own process for a while (`LocalFunction.in_process`):
one event at a time there too, behind a lock.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_stack.environments import FunctionError, FunctionPool, LambdaRuntime
from local_stack.template import ROOT
from local_stack.worker import FunctionSpec, LambdaContext, error_payload

Handler = Callable[[dict[str, Any], Any], Any]

__all__ = ["FunctionError", "FunctionRegistry", "LocalFunction", "install_moto_seam"]


@dataclass
class LocalFunction:
    """One function of the template and where its events run."""

    spec: FunctionSpec
    reserved_concurrency: int | None = None
    runtime: LambdaRuntime | None = None
    _in_process: Handler | None = None
    _in_process_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def logical_id(self) -> str:
        return self.spec.logical_id

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def arn(self) -> str:
        return self.spec.arn

    @property
    def code_dir(self) -> Path:
        return Path(self.spec.code_dir)

    @property
    def pool(self) -> FunctionPool:
        if self.runtime is None:
            raise RuntimeError(f"{self.logical_id} has no runtime: start the stack first")
        return self.runtime.pool(self.spec, self.reserved_concurrency)

    def invoke(self, event: Any) -> Any:
        """Invoke the function synchronously: its result, or FunctionError with Lambda's error payload."""
        handler = self._in_process
        if handler is not None:
            body, is_error = self._invoke_here(handler, event)
        else:
            body, is_error = self.pool.invoke(event)
        answer = json.loads(body)
        if is_error:
            raise FunctionError(answer)
        return answer

    def _invoke_here(self, handler: Handler, event: Any) -> tuple[str, bool]:
        request_id = str(uuid.uuid4())
        context = LambdaContext(
            self.name,
            self.spec.memory_mb,
            self.arn,
            request_id,
            int((time.time() + self.spec.timeout_seconds) * 1000),
        )
        with self._in_process_lock:  # one event at a time, as in an environment
            try:
                return json.dumps(handler(json.loads(json.dumps(event)), context)), False
            except Exception as error:
                return json.dumps(error_payload(error)), True

    def module(self) -> Any:
        """The handler's module, imported in this process (for tooling, such as building the OpenAPI)."""
        code = str(self.code_dir)
        if code not in sys.path:
            sys.path.insert(0, code)
        return importlib.import_module(self.spec.handler.rpartition(".")[0])

    @contextmanager
    def in_process(self) -> Iterator[Any]:
        """Run this function's events in this process for the block, so a test can patch its modules.

        Yields the handler's module. Warm environments are retired afterwards, so
        no environment outlives a patched block holding state from before it.
        """
        module = self.module()
        own = {k: v for k, v in self.spec.environment.items() if os.environ.get(k) != v}
        saved = {k: os.environ.get(k) for k in own}
        os.environ.update(own)  # the function's own variables (its settings), as in its environment
        _forget_settings()
        self._in_process = getattr(module, self.spec.handler.rpartition(".")[2])
        try:
            yield module
        finally:
            self._in_process = None
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            _forget_settings()
            if self.runtime is not None:
                self.pool.retire()


def _forget_settings() -> None:
    settings = sys.modules.get("riveredge.settings")
    if settings is not None:
        settings.get_settings.cache_clear()


class FunctionRegistry:
    """Every function of the template, by logical id, name and ARN."""

    def __init__(self) -> None:
        self._functions: dict[str, LocalFunction] = {}
        self.runtime: LambdaRuntime | None = None

    def add(self, function: LocalFunction) -> None:
        function.runtime = self.runtime
        for key in (function.logical_id, function.name, function.arn):
            self._functions[key] = function

    def use_runtime(self, runtime: LambdaRuntime) -> None:
        self.runtime = runtime
        for function in self.all():
            function.runtime = runtime

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
        try:
            result = _registry.get(self.function_name).invoke(payload)
        except FunctionError as error:  # the function failed: report it as Lambda does
            return json.dumps(error.payload), True, ""
        return json.dumps(result), False, ""

    _invoke_lambda._riveredge = True  # type: ignore[attr-defined]
    LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]

    # S3 invokes its notification targets asynchronously. moto calls them inside PutObject, under the moto
    # lock, where a function's own AWS calls (from its environment's process) would wait for that lock.
    from moto.s3 import notifications

    synchronous = notifications._invoke_awslambda

    def _invoke_awslambda(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
        threading.Thread(
            target=synchronous, args=(account_id, event_body, fn_arn, region_name), name="s3-notification", daemon=True
        ).start()

    notifications._invoke_awslambda = _invoke_awslambda

    # S3 names the object's version (in a versioned bucket) and a sequencer in every notification; moto names
    # neither, and consumers deduplicate by them and read that very version.
    describe = notifications._get_s3_event

    def _get_s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, Any]:
        body = describe(event_name, bucket, key, notification_id)
        found = body["Records"][0]["s3"]["object"]
        if getattr(bucket, "is_versioned", False) and getattr(key, "version_id", None):
            found["versionId"] = str(key.version_id)
        found["sequencer"] = f"{time.time_ns():024X}"
        return body

    notifications._get_s3_event = _get_s3_event
