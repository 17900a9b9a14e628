"""One in-process local stack for the integration tests: moto, resources from template.yaml, real handlers."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest
from riveredge import passwords

from local_stack.stack import LocalStack, Reply
from tests.dbservers import mariadb_server, postgres_server  # noqa: F401  (session fixtures: real servers, on use)
from tests.support import PASSWORD, TEST_FUNCTION_ENVIRONMENT, claims_of

OPERATOR = "operator@riveredge.local"


# An access token is signed in again once it has less than this left: no test depends on how fast the suite runs.
RENEW_MARGIN_SECONDS = 120


class Account:
    """A signed-in account whose access token is renewed (a new sign-in) before it expires."""

    def __init__(self, stack: LocalStack, tenant: str, email: str, password: str = PASSWORD) -> None:
        self.stack, self.tenant, self.email, self.password = stack, tenant, email, password
        self._sign_in()

    def _sign_in(self) -> None:
        tokens = self.stack.login(self.tenant, self.email, self.password)
        self.access_token: str = tokens["access_token"]
        self.refresh_token: str = tokens["refresh_token"]
        self._expires = float(claims_of(self.access_token)["exp"])

    @property
    def token(self) -> str:
        if self._expires - time.time() < RENEW_MARGIN_SECONDS:
            self._sign_in()
        return self.access_token


@dataclass
class TenantFixture:
    id: str
    code: str
    admin_email: str
    admin: Account

    @property
    def admin_token(self) -> str:
        return self.admin.token

    @property
    def admin_refresh(self) -> str:
        return self.admin.refresh_token


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    log = tmp_path_factory.mktemp("functions") / "functions.log"
    running = LocalStack(function_environment=TEST_FUNCTION_ENVIRONMENT, function_log=str(log)).start()
    os.environ.update(TEST_FUNCTION_ENVIRONMENT)  # for a function a test runs in its own process, too
    passwords._hasher.cache_clear()
    running.bootstrap_operator(PASSWORD, OPERATOR)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def operator(stack: LocalStack) -> Account:
    return Account(stack, "platform", OPERATOR)


@pytest.fixture
def operator_token(operator: Account) -> str:
    return operator.token


InProcess = Callable[[str], Any]


@pytest.fixture
def in_process(stack: LocalStack) -> Iterator[InProcess]:
    """Run a function in the test's own process for this test (one event at a time), so the test can patch
    its modules: fault injection. Every other function keeps running in its own environments."""
    with ExitStack() as functions:
        yield lambda logical_id: functions.enter_context(stack.registry.get(logical_id).in_process())


def make_tenant(stack: LocalStack, operator: Account, code: str) -> TenantFixture:
    email = f"admin@{code}.example"
    tenant = stack.create_tenant(operator.token, code, email, PASSWORD)
    return TenantFixture(tenant["id"], code, email, Account(stack, code, email))


@pytest.fixture(scope="session")
def acme(stack: LocalStack, operator: Account) -> TenantFixture:
    return make_tenant(stack, operator, "acme")


@pytest.fixture(scope="session")
def globex(stack: LocalStack, operator: Account) -> TenantFixture:
    return make_tenant(stack, operator, "globex")


@pytest.fixture
def fresh_tenant(stack: LocalStack, operator: Account, request: pytest.FixtureRequest) -> TenantFixture:
    """A tenant of its own, for tests that change a tenant's state."""
    import re
    import uuid

    stem = re.sub(r"[^a-z0-9]", "-", request.node.name.lower())[:20].strip("-")
    code = f"{stem}-{uuid.uuid4().hex[:6]}"  # unique even when two tests' names start alike
    return make_tenant(stack, operator, code)


def login(
    stack: LocalStack, tenant: str, email: str, password: str = PASSWORD, *, ip: str | None = None, **headers: str
) -> Any:
    """Sign in through the gateway; `ip` is the client's address as API Gateway sees it (127.0.0.1 if not given)."""
    body = {"tenant": tenant, "email": email, "password": password}
    if ip is None:
        return stack.request("POST", "/api/auth/login", json_body=body, headers=headers or None)
    sent = {"User-Agent": "riveredge-tests", "Content-Type": "application/json", **headers}
    answer = stack.gateway.handle("POST", "/api/auth/login", "", sent, json.dumps(body).encode(), source_ip=ip)
    return Reply(answer.status, answer.headers, answer.body)
