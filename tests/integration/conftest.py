"""One in-process local stack for the integration tests: moto, resources from template.yaml, real handlers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from local_stack.stack import LocalStack
from tests.support import PASSWORD

OPERATOR = "operator@riveredge.local"


@dataclass
class TenantFixture:
    id: str
    code: str
    admin_email: str
    admin_token: str
    admin_refresh: str


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    running = LocalStack().start()
    running.bootstrap_operator(PASSWORD, OPERATOR)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def operator_token(stack: LocalStack) -> str:
    return str(stack.login("platform", OPERATOR, PASSWORD)["access_token"])


def make_tenant(stack: LocalStack, operator_token: str, code: str) -> TenantFixture:
    email = f"admin@{code}.example"
    tenant = stack.create_tenant(operator_token, code, email, PASSWORD)
    tokens = stack.login(code, email, PASSWORD)
    return TenantFixture(tenant["id"], code, email, tokens["access_token"], tokens["refresh_token"])


@pytest.fixture(scope="session")
def acme(stack: LocalStack, operator_token: str) -> TenantFixture:
    return make_tenant(stack, operator_token, "acme")


@pytest.fixture(scope="session")
def globex(stack: LocalStack, operator_token: str) -> TenantFixture:
    return make_tenant(stack, operator_token, "globex")


@pytest.fixture
def fresh_tenant(stack: LocalStack, operator_token: str, request: pytest.FixtureRequest) -> TenantFixture:
    """A tenant of its own, for tests that change a tenant's state."""
    import re
    import uuid

    stem = re.sub(r"[^a-z0-9]", "-", request.node.name.lower())[:20].strip("-")
    code = f"{stem}-{uuid.uuid4().hex[:6]}"  # unique even when two tests' names start alike
    return make_tenant(stack, operator_token, code)


def login(stack: LocalStack, tenant: str, email: str, password: str = PASSWORD, **headers: str) -> Any:
    return stack.request(
        "POST",
        "/api/auth/login",
        json_body={"tenant": tenant, "email": email, "password": password},
        headers=headers or None,
    )
