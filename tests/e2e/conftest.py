"""The local stack started as a real server (`python -m local_stack`), for HTTP tests from the outside."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests

from local_stack.launcher import LaunchError, StackProcess
from local_stack.stack import DEMO_ADMIN_EMAIL, DEMO_TENANT, OPERATOR_EMAIL

DEMO_PASSWORD = "E2e-demo-password-2026"


@pytest.fixture(scope="session")
def demo_password() -> str:
    return DEMO_PASSWORD


@pytest.fixture(scope="session")
def local_stack_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """`python -m local_stack`, started on free ports for this session."""
    stack = StackProcess(tmp_path_factory.mktemp("local-stack") / "output.log", DEMO_PASSWORD)
    try:
        stack.start()
    except LaunchError as error:
        pytest.fail(str(error))
    try:
        yield stack
    finally:
        stack.stop()
        if stack.still_listening:
            pytest.fail(f"a moto server still listens on port {stack.moto_port} after the local stack was stopped")


@pytest.fixture(scope="session")
def local_stack_url(local_stack_process: StackProcess) -> str:
    """Base URL of the running local stack."""
    return local_stack_process.url


def _login(base_url: str, tenant: str, email: str, password: str) -> requests.Response:
    return requests.post(
        f"{base_url}/api/auth/login", json={"tenant": tenant, "email": email, "password": password}, timeout=30
    )


@pytest.fixture(scope="session")
def sign_in_tokens(local_stack_url: str, demo_password: str) -> Callable[[str, str], dict[str, str]]:
    """Sign in through HTTP and return the fresh access and refresh tokens."""

    def sign(tenant: str, email: str) -> dict[str, str]:
        answer = _login(local_stack_url, tenant, email, demo_password)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    return sign


@pytest.fixture(scope="session")
def sign_in(sign_in_tokens: Callable[[str, str], dict[str, str]]) -> Callable[[str, str], str]:
    """Sign in through HTTP and return a fresh access token."""
    return lambda tenant, email: str(sign_in_tokens(tenant, email)["access_token"])


@pytest.fixture(scope="session")
def refresh(local_stack_url: str) -> Callable[[str], dict[str, str]]:
    """A fresh access token (and the rotated refresh token) for a refresh token."""

    def rotate(refresh_token: str) -> dict[str, str]:
        answer = requests.post(f"{local_stack_url}/api/auth/refresh", json={"refresh_token": refresh_token}, timeout=30)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    return rotate


# Signed in per test: a token taken once for the session would expire in a long run.
@pytest.fixture
def operator_token(sign_in: Callable[[str, str], str]) -> str:
    return sign_in("platform", OPERATOR_EMAIL)


@pytest.fixture
def acme_admin_token(sign_in: Callable[[str, str], str]) -> str:
    return sign_in(DEMO_TENANT, DEMO_ADMIN_EMAIL)
