"""Lambda execution environments, locally: a pool of warm worker processes per function.

Lambda runs one event at a time in an execution environment and gives
concurrent invocations separate environments, so a handler's module state
(Powertools' current event, log keys, caches) is never shared by two events in
flight. The local stack does the same with processes (docs/decisions/0006):
an invocation takes an idle environment of its function (the most recently
used first, as Lambda reuses warm ones) or starts a new one (a cold start,
logged with its init time), up to the function's concurrency; past that it
waits for one to come free. Each environment talks to the moto server over
HTTP, like a deployed function talks to AWS.

An invocation that runs past the function's ``Timeout`` is stopped (its
process is killed) and reported as Lambda reports it (``Sandbox.Timedout``);
an environment whose runtime exits (``sys.exit``, a crash) is discarded and
the invocation fails with ``Runtime.ExitError``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from typing import Any

from local_stack.worker import FunctionSpec, main

log = logging.getLogger("local_stack.lambda")

# Imported once by the fork server, so a new environment starts from them instead of importing them again.
# Third-party only: the layer and the functions read their environment at import, which differs per function.
PRELOAD = [
    "json",
    "botocore.session",
    "botocore.client",
    "botocore.config",
    "pydantic",
    "aws_lambda_powertools",
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics",
    "pynamodb.models",
    "argon2",
    "jwt",
    "local_stack.worker",
]
DEFAULT_CONCURRENCY = 4
_context: ForkServerContext | None = None
_context_lock = threading.Lock()


# glibc returns a freed block of 128 KB or more to the system at once (a fixed mmap threshold): argon2id's
# 19 MiB per hash would otherwise stay resident in every environment that ever hashed a password.
MALLOC_ENVIRONMENT = {"MALLOC_MMAP_THRESHOLD_": "131072"}


def _fork_server() -> ForkServerContext:
    """The fork server environments start from: a single-threaded process, so forking it is safe."""
    global _context
    with _context_lock:
        if _context is None:
            from multiprocessing import forkserver

            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            saved = {key: os.environ.get(key) for key in MALLOC_ENVIRONMENT}
            os.environ.update(MALLOC_ENVIRONMENT)  # read by glibc when the fork server's process starts
            try:
                forkserver.ensure_running()
            finally:
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
            _context = context
        return _context


class FunctionError(Exception):
    """The function failed, as Lambda reports it: the handler raised, timed out or its runtime exited."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(str(payload.get("errorMessage", "")))
        self.payload = payload

    @property
    def error_type(self) -> str:
        return str(self.payload.get("errorType", ""))


@dataclass(frozen=True)
class Invocation:
    """One invocation as Lambda's REPORT line tells it."""

    function: str
    environment: int
    request_id: str
    started: float
    ended: float
    duration_ms: float
    init_ms: float | None
    max_memory_mb: int
    status: str  # "ok", "error", "timeout", "exit"


class Environment:
    """One worker process of one function."""

    def __init__(self, spec: FunctionSpec, number: int) -> None:
        self.spec = spec
        self.number = number
        parent, child = multiprocessing.Pipe()
        self.connection: Connection = parent
        self.process: BaseProcess = _fork_server().Process(
            target=main, args=(child, spec), name=f"{spec.logical_id}-{number}", daemon=True
        )
        started = time.perf_counter()
        self.process.start()
        child.close()
        self.init_ms: float | None = None
        self.init_error: dict[str, Any] | None = None
        if not self.connection.poll(max(spec.timeout_seconds, 60.0)):
            self.kill()
            raise FunctionError(
                {"errorType": "Runtime.InitTimeout", "errorMessage": f"{spec.name} did not initialise in time"}
            )
        try:
            kind, value = self.connection.recv()
        except EOFError as error:
            self.kill()
            raise FunctionError(
                {"errorType": "Runtime.ExitError", "errorMessage": f"{spec.name} exited during init"}
            ) from error
        if kind == "init_error":
            self.kill()
            raise FunctionError(value)
        self.init_ms = float(value)
        log.info(
            "INIT %s environment %d: cold start, init %.0f ms (%.0f ms with the process)",
            spec.name,
            number,
            self.init_ms,
            (time.perf_counter() - started) * 1000,
        )

    def invoke(self, event: Any, cold: bool) -> tuple[str, bool, Invocation]:
        request_id = str(uuid.uuid4())
        timeout = self.spec.timeout_seconds
        began = time.time()
        deadline_ms = int((began + timeout) * 1000)
        self.connection.send(("invoke", request_id, json.dumps(event), deadline_ms))
        init_ms = self.init_ms if cold else None

        def report(status: str, duration_ms: float, memory: int) -> Invocation:
            return Invocation(
                self.spec.name, self.number, request_id, began, time.time(), duration_ms, init_ms, memory, status
            )

        if not self.connection.poll(timeout):
            self.kill()
            invocation = report("timeout", timeout * 1000, 0)
            message = f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds"
            log.warning("%s %s", self.spec.name, message)
            return json.dumps({"errorType": "Sandbox.Timedout", "errorMessage": message}), True, invocation
        try:
            _, body, is_error, duration_ms, memory = self.connection.recv()
        except (EOFError, OSError):
            self.kill()
            code = self.process.exitcode
            message = f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}"
            log.warning("%s %s", self.spec.name, message)
            invocation = report("exit", (time.time() - began) * 1000, 0)
            return json.dumps({"errorType": "Runtime.ExitError", "errorMessage": message}), True, invocation
        return body, is_error, report("error" if is_error else "ok", duration_ms, memory)

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # already gone
            self.connection.send(("stop",))
        self.process.join(timeout=2)
        self.kill()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        self.connection.close()


class FunctionPool:
    """The environments of one function: warm ones reused, new ones started up to its concurrency."""

    def __init__(self, spec: FunctionSpec, concurrency: int, record: Callable[[Invocation], None]) -> None:
        self.spec = spec
        self.concurrency = max(1, concurrency)
        self._record = record
        self._idle: list[Environment] = []
        self._all: set[Environment] = set()
        self._starting = 0
        self._numbers = 0
        self._condition = threading.Condition()
        self._stopped = False

    def _acquire(self) -> tuple[Environment, bool]:
        with self._condition:
            while True:
                if self._stopped:
                    raise FunctionError({"errorType": "ServiceException", "errorMessage": "the stack has stopped"})
                if self._idle:
                    return self._idle.pop(), False
                if len(self._all) + self._starting < self.concurrency:
                    self._starting += 1
                    self._numbers += 1
                    number = self._numbers
                    break
                self._condition.wait()
        try:
            environment = Environment(self.spec, number)
        except BaseException:
            with self._condition:
                self._starting -= 1
                self._condition.notify()
            raise
        with self._condition:
            self._starting -= 1
            self._all.add(environment)
        return environment, True

    def _release(self, environment: Environment) -> None:
        with self._condition:
            if environment.alive and not self._stopped:
                self._idle.append(environment)
            else:
                self._all.discard(environment)
            self._condition.notify()

    def invoke(self, event: Any) -> tuple[str, bool]:
        """Run one event in an environment of its own: the JSON answer, and whether it is an error payload."""
        environment, cold = self._acquire()
        try:
            body, is_error, invocation = environment.invoke(event, cold)
        finally:
            self._release(environment)
        self._record(invocation)
        log.debug(
            "REPORT %s RequestId: %s Environment: %d Duration: %.2f ms Max Memory Used: %d MB%s Status: %s",
            invocation.function,
            invocation.request_id,
            invocation.environment,
            invocation.duration_ms,
            invocation.max_memory_mb,
            f" Init Duration: {invocation.init_ms:.2f} ms" if invocation.init_ms is not None else "",
            invocation.status,
        )
        return body, is_error

    @property
    def size(self) -> int:
        with self._condition:
            return len(self._all)

    def pids(self) -> list[int]:
        with self._condition:
            return [e.process.pid for e in self._all if e.process.pid is not None]

    def retire(self) -> None:
        """Stop the idle environments (the next invocation starts cold); busy ones finish first."""
        with self._condition:
            idle, self._idle = self._idle, []
            for environment in idle:
                self._all.discard(environment)
        for environment in idle:
            environment.stop()

    def stop(self) -> None:
        with self._condition:
            self._stopped = True
            environments = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._condition.notify_all()
        for environment in environments:
            environment.stop()


class LambdaRuntime:
    """Every function's pool, and the log of invocations (the REPORT lines) for tests and benchmarks."""

    def __init__(self, log_path: str | None = None, concurrency: int | None = None, history: int = 20_000) -> None:
        self.log_path = log_path
        self.concurrency = concurrency or int(os.environ.get("LOCAL_LAMBDA_CONCURRENCY", DEFAULT_CONCURRENCY))
        self.invocations: deque[Invocation] = deque(maxlen=history)
        self.count = 0
        self._pools: dict[str, FunctionPool] = {}
        self._lock = threading.Lock()

    def _record(self, invocation: Invocation) -> None:
        self.invocations.append(invocation)
        self.count += 1

    def pool(self, spec: FunctionSpec, reserved: int | None = None) -> FunctionPool:
        with self._lock:
            if spec.logical_id not in self._pools:
                concurrency = min(self.concurrency, reserved) if reserved else self.concurrency
                self._pools[spec.logical_id] = FunctionPool(spec, concurrency, self._record)
            return self._pools[spec.logical_id]

    def pids(self) -> list[int]:
        with self._lock:
            pools = list(self._pools.values())
        return [pid for pool in pools for pid in pool.pids()]

    def named_pids(self) -> dict[int, str]:
        """The process id of every environment, with its function's name."""
        with self._lock:
            pools = list(self._pools.values())
        return {pid: pool.spec.name for pool in pools for pid in pool.pids()}

    def sizes(self) -> dict[str, int]:
        """How many environments each function has (those that have run)."""
        with self._lock:
            return {pool.spec.name: pool.size for pool in self._pools.values()}

    def stop(self) -> None:
        with self._lock:
            pools = list(self._pools.values())
        for pool in pools:
            pool.stop()
