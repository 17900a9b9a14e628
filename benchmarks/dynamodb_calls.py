"""DynamoDB calls per request on the local stack, split into authorizer and route.

Counted where they arrive: the stack's moto server notes every request with the
function that sent it (local_stack.calls). The first login of the demo tenant
finds the auth function's tenant-code cache empty: no login of that tenant came
before it (the seeding signs in the operator only).
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from local_stack import calls
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
    """Counts DynamoDB operations by phase while `recording()` is open.

    The functions run in environments of their own; the moto server, in this process, sees their requests and
    names the function that sent each one (local_stack.calls): the authorizer's are "authorizer", every other
    function's "route", and this process's own (none expected) "other".
    """

    def __init__(self, stack: LocalStack) -> None:
        self.authorizer = stack.gateway.authorizer.logical_id if stack.gateway.authorizer else None

    def _phase(self, caller: str | None) -> str:
        if caller is None:
            return OTHER
        return AUTHORIZER if caller == self.authorizer else ROUTE

    @contextmanager
    def recording(self) -> Iterator[Calls]:
        found = Calls()
        with calls.recording() as recorded:
            yield found
        for call in recorded.calls:
            if call.service == "dynamodb":
                found.by_phase[self._phase(call.caller)][call.operation] += 1


def _expect(reply: Reply, status: int, what: str) -> Reply:
    if reply.status != status:
        raise RuntimeError(f"{what}: expected {status}, got {reply.status} {reply.body[:300]!r}")
    return reply


def measure(latency_requests: int = LATENCY_REQUESTS) -> tuple[list[Scenario], list[str]]:
    """Start the stack, seed the operator and tenant `acme`, then count and time each request."""
    notes: list[str] = []
    prepare_environment()  # before anything imports riveredge or a function
    # Keep the functions' request logs out of the report.
    stack = LocalStack(function_environment={"POWERTOOLS_LOG_LEVEL": "WARNING"}).start()
    recorder = Recorder(stack)
    try:
        stack.bootstrap_operator(PASSWORD)
        operator_token = stack.login("platform", OPERATOR_EMAIL, PASSWORD)["access_token"]
        tenant = stack.create_tenant(operator_token, DEMO_TENANT, DEMO_ADMIN_EMAIL, PASSWORD)

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
        stack.stop()
