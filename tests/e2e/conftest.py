"""The local stack started as a real server (`python -m local_stack`), for HTTP tests from the outside."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from local_stack.stack import DEMO_ADMIN_EMAIL, DEMO_TENANT, OPERATOR_EMAIL

ROOT = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "E2e-demo-password-2026"
STARTUP_TIMEOUT = 90.0
STOP_TIMEOUT = 15.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _port_is_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _output_of(log: Path) -> str:
    text = log.read_text(errors="replace")
    return text[-20_000:]  # the end says why it stopped; moto logs a lot before it


def _wait_until_healthy(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the local stack exited with {process.returncode} before it was up:\n{_output_of(log)}")
        try:
            if requests.get(f"{base_url}/_local/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.25)
    pytest.fail(
        f"the local stack did not answer {base_url}/_local/health within {STARTUP_TIMEOUT:.0f}s:\n{_output_of(log)}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the whole process group (the API and the moto server it runs), forcibly if it lingers."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=STOP_TIMEOUT if sig != signal.SIGKILL else None)
        except subprocess.TimeoutExpired:
            continue
    # Children that outlived the leader (none expected) go with the group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def demo_password() -> str:
    return DEMO_PASSWORD


@pytest.fixture(scope="session")
def local_stack_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of `python -m local_stack`, started on free ports for this session."""
    port, moto_port = _free_port(), _free_port()
    while moto_port == port:
        moto_port = _free_port()
    env = {**os.environ, "PORT": str(port), "MOTO_PORT": str(moto_port), "DEMO_PASSWORD": DEMO_PASSWORD}
    log = tmp_path_factory.mktemp("local-stack") / "output.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "local_stack"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so it can be stopped as a whole
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(process, base_url, log)
        yield base_url
    finally:
        _stop(process)
        deadline = time.monotonic() + 5
        while (_port_is_open(moto_port) or _port_is_open(port)) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _port_is_open(moto_port):
            pytest.fail(f"a moto server still listens on port {moto_port} after the local stack was stopped")


def _login(base_url: str, tenant: str, email: str, password: str) -> requests.Response:
    return requests.post(
        f"{base_url}/api/auth/login", json={"tenant": tenant, "email": email, "password": password}, timeout=30
    )


@pytest.fixture(scope="session")
def sign_in(local_stack_url: str, demo_password: str) -> Callable[[str, str], str]:
    """Sign in through HTTP and return a fresh access token."""

    def sign(tenant: str, email: str) -> str:
        answer = _login(local_stack_url, tenant, email, demo_password)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    return sign


@pytest.fixture(scope="session")
def operator_token(sign_in: Callable[[str, str], str]) -> str:
    return sign_in("platform", OPERATOR_EMAIL)


@pytest.fixture(scope="session")
def acme_admin_token(sign_in: Callable[[str, str], str]) -> str:
    return sign_in(DEMO_TENANT, DEMO_ADMIN_EMAIL)
