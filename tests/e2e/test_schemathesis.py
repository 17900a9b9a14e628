"""Schemathesis against the merged OpenAPI of the running local stack: no 5xx, no answer the document does not allow.

The run happens once signed in as the platform operator and once as the demo tenant's admin. It uses the
schemathesis CLI (4.x) in a subprocess: its pytest integration for schemas that come from a fixture
(`schemathesis.pytest.from_fixture`) breaks on pytest 9.2, which no longer has `Node._nodeid`.
The CLI runs Hypothesis without a deadline.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from local_stack.stack import DEMO_ADMIN_EMAIL, DEMO_TENANT, OPERATOR_EMAIL

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = 15
RUN_TIMEOUT = 900  # a bound against a hung run, not a speed limit (the suites share the machine's cores)
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
CALLERS = {"acme-admin": (DEMO_TENANT, DEMO_ADMIN_EMAIL), "platform-operator": ("platform", OPERATOR_EMAIL)}
# What can end the caller's own session (schemathesis reuses ids it read, e.g. a session id from /api/online-users):
# run apart, with a session of its own, so that the main run's token stays valid to its last request
SESSION_ENDING = r"^/api/(auth/logout|sessions/\{session_id\}/revoke|users/\{user_id\}/sessions/revoke)$"
# The operator's run leaves the coverage phase (boundary values of every schema) to the admin's: the schemas are
# the same; what differs for the operator is who may call them, which generated input reaches as well
PHASES = {"acme-admin": "examples,coverage,fuzzing,stateful", "platform-operator": "examples,fuzzing,stateful"}


def schemathesis_run(
    base_url: str, token: str, workdir: Path, *filters: str, phases: str = PHASES["acme-admin"]
) -> subprocess.CompletedProcess[str]:
    """`schemathesis run` over the stack's OpenAPI, every request carrying `token`."""
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{base_url}/openapi.json",
        "--url",
        base_url,
        "--checks",
        CHECKS,
        "--header",
        f"Authorization: Bearer {token}",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        "--phases",
        phases,
        "--no-color",
        *filters,
    ]
    return subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)


@pytest.fixture(scope="module")
def sessions(sign_in_tokens: Callable[[str, str], dict[str, str]]) -> dict[str, dict[str, str]]:
    """The refresh token of every session the runs use, signed in before any run: the fuzzer's wrong passwords
    lock accounts out. Each run refreshes its session just before it starts, so no access token expires in a
    long suite."""
    return {
        name: {kind: sign_in_tokens(*who)["refresh_token"] for kind in ("run", "sign-out")}
        for name, who in CALLERS.items()
    }


@pytest.fixture
def tokens(sessions: dict[str, dict[str, str]], refresh: Callable[[str], dict[str, str]]) -> Callable[[str, str], str]:
    """A fresh access token of the caller's session of that kind."""

    def fresh(caller: str, kind: str) -> str:
        rotated = refresh(sessions[caller][kind])
        sessions[caller][kind] = rotated["refresh_token"]
        return str(rotated["access_token"])

    return fresh


# acme's run before the operator's: the operator's run may suspend acme (its tokens then stop).
@pytest.mark.parametrize("caller", list(CALLERS))
def test_api_answers_as_documented(
    caller: str, local_stack_url: str, tokens: Callable[[str, str], str], tmp_path: Path
) -> None:
    # Given a caller signed in
    token = tokens(caller, "run")

    # When schemathesis calls every operation but those that end sessions with generated input, valid and invalid
    run = schemathesis_run(
        local_stack_url, token, tmp_path, "--exclude-path-regex", SESSION_ENDING, phases=PHASES[caller]
    )

    # Then no answer is a server error or differs from what the OpenAPI document says
    assert run.returncode == 0, run.stdout + run.stderr
    # And the caller stayed signed in to the end: no operation was only ever refused for want of a session
    assert "401 Unauthorized (" not in run.stdout, run.stdout

    # When it then calls the sign-out and the session revocations, in a session of their own, which the first
    # sign-out (or a revocation of the caller's own sessions) ends
    ending = schemathesis_run(
        local_stack_url, tokens(caller, "sign-out"), tmp_path, "--include-path-regex", SESSION_ENDING
    )

    # Then these answer as documented too
    assert ending.returncode == 0, ending.stdout + ending.stderr
