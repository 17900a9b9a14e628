"""DynamoDB calls per request on the in-process local stack, split into authorizer and route.

Every botocore request goes through `BaseClient._make_api_call`; while a request
is recorded, a wrapper there notes each DynamoDB operation with the phase it ran
in. The phase is set by wrapping `invoke` of every LocalFunction: the gateway's
authorizer is "authorizer", every other function "route". Only calls made on the
main thread count (moto's Step Functions executions run on threads of their own).
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from local_stack.stack import DEMO_ADMIN_EMAIL, DEMO_TENANT, OPERATOR_EMAIL, LocalStack, Reply, prepare_environment

PASSWORD = "Bench-password-2026"
LATENCY_REQUESTS = 20
AUTHORIZER, ROUTE, OTHER = "authorizer", "route", "other"


@dataclass
class Calls:
    """The DynamoDB operations of one request, by phase."""

    by_phase: dict[str, Counter[str]] = field(
        default_factory=lambda: {AUTHORIZER: Counter(), ROUTE: Counter(), OTHER: Counter()}
    )

    def count(self, phase: str) -> int:
        return sum(self.by_phase[phase].values())

    @property
    def total(self) -> int:
        return sum(self.count(p) for p in self.by_phase)

    def describe(self, phase: str) -> str:
        ops = self.by_phase[phase]
        return ", ".join(f"{op} x{n}" if n > 1 else op for op, n in sorted(ops.items())) or "-"


@dataclass
class Scenario:
    name: str
    method: str
    path: str
    first_label: str
    first: Calls
    warm: Calls
    latency_ms: list[float]
    authorized: bool

    @property
    def latency_median(self) -> float:
        return statistics.median(self.latency_ms)


class Recorder:
    """Counts DynamoDB operations by phase while `recording()` is open."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.phase = OTHER
        self.current: Calls | None = None
        self.main_thread = threading.get_ident()
        self._original: Any = None
        self._wrapped: list[Any] = []

    def install(self) -> None:
        import botocore.client

        client_class: Any = botocore.client.BaseClient
        original = client_class._make_api_call
        recorder = self

        def counting(client: Any, operation_name: str, api_params: Any) -> Any:
            if (
                recorder.current is not None
                and threading.get_ident() == recorder.main_thread
                and client.meta.service_model.service_name == "dynamodb"
            ):
                recorder.current.by_phase[recorder.phase][operation_name] += 1
            return original(client, operation_name, api_params)

        self._original = original
        client_class._make_api_call = counting
        authorizer = self.stack.gateway.authorizer
        for function in self.stack.registry.all():
            phase = AUTHORIZER if function is authorizer else ROUTE
            vars(function)["invoke"] = self._phased(function.invoke, phase)  # shadows the method on this instance
            self._wrapped.append(function)

    def _phased(self, invoke: Callable[[Any], Any], phase: str) -> Callable[[Any], Any]:
        def run(event: Any) -> Any:
            outer, self.phase = self.phase, phase
            try:
                return invoke(event)
            finally:
                self.phase = outer

        return run

    def uninstall(self) -> None:
        import botocore.client

        if self._original is not None:
            client_class: Any = botocore.client.BaseClient
            client_class._make_api_call = self._original
        for function in self._wrapped:
            vars(function).pop("invoke", None)  # back to the class's method
        self._wrapped.clear()

    @contextmanager
    def recording(self) -> Iterator[Calls]:
        calls = Calls()
        self.current, self.phase = calls, OTHER
        try:
            yield calls
        finally:
            self.current = None


def _expect(reply: Reply, status: int, what: str) -> Reply:
    if reply.status != status:
        raise RuntimeError(f"{what}: expected {status}, got {reply.status} {reply.body[:300]!r}")
    return reply


def measure(latency_requests: int = LATENCY_REQUESTS) -> tuple[list[Scenario], list[str]]:
    """Start the stack, seed the operator and tenant `acme`, then count and time each request."""
    notes: list[str] = []
    prepare_environment()  # before anything imports riveredge or a function
    stack = LocalStack().start()
    # Modules of the functions are imported on first invoke, after this: keep request logs out of the report.
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    recorder = Recorder(stack)
    recorder.install()
    try:
        stack.bootstrap_operator(PASSWORD)
        operator_token = stack.login("platform", OPERATOR_EMAIL, PASSWORD)["access_token"]
        tenant = stack.create_tenant(operator_token, DEMO_TENANT, DEMO_ADMIN_EMAIL, PASSWORD)

        from riveredge.db import identity  # imported by the functions already; prepare_environment ran

        code_cache = getattr(identity, "_code_cache", None)
        if isinstance(code_cache, dict) and code_cache.pop(DEMO_TENANT, None) is not None:
            notes.append(f"the tenant-code cache held {DEMO_TENANT!r} after seeding; emptied before the first login")

        state: dict[str, str] = {}
        login_body = {"tenant": DEMO_TENANT, "email": DEMO_ADMIN_EMAIL, "password": PASSWORD}

        def login() -> Reply:
            reply = _expect(stack.request("POST", "/api/auth/login", json_body=login_body), 200, "login")
            tokens = reply.json()
            state["access"], state["refresh"] = tokens["access_token"], tokens["refresh_token"]
            return reply

        def refresh() -> Reply:
            reply = _expect(
                stack.request("POST", "/api/auth/refresh", json_body={"refresh_token": state["refresh"]}),
                200,
                "refresh",
            )
            state["refresh"] = reply.json()["refresh_token"]
            return reply

        def me() -> Reply:
            return _expect(stack.request("GET", "/api/auth/me", token=state["access"]), 200, "me")

        def get_tenant() -> Reply:
            return _expect(
                stack.request("GET", f"/api/tenants/{tenant['id']}", token=operator_token), 200, "get-tenant"
            )

        plan: list[tuple[str, str, str, str, bool, Callable[[], Reply]]] = [
            ("login", "POST", "/api/auth/login", "first after start", False, login),
            ("refresh", "POST", "/api/auth/refresh", "first", False, refresh),
            ("me", "GET", "/api/auth/me", "first", True, me),
            ("get-tenant", "GET", "/api/tenants/{id}", "first", True, get_tenant),
        ]
        scenarios: list[Scenario] = []
        for name, method, path, first_label, authorized, send in plan:
            with recorder.recording() as first:
                send()
            with recorder.recording() as warm:
                send()
            latency: list[float] = []
            for _ in range(latency_requests):
                start = time.perf_counter()
                send()
                latency.append((time.perf_counter() - start) * 1000)
            scenarios.append(Scenario(name, method, path, first_label, first, warm, latency, authorized))
        return scenarios, notes
    finally:
        recorder.uninstall()
        stack.stop()
