"""Schemathesis against the merged OpenAPI of the running local stack: no 5xx, no answer the document does not allow.

The run happens twice, signed in as the platform operator and as the demo tenant's admin.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from local_stack.stack import DEMO_ADMIN_EMAIL, DEMO_TENANT, OPERATOR_EMAIL

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CALLERS = {"platform-operator": ("platform", OPERATOR_EMAIL), "acme-admin": (DEMO_TENANT, DEMO_ADMIN_EMAIL)}
SESSION_ENDING = {("POST", "/api/auth/logout")}


@pytest.fixture(params=sorted(CALLERS))
def caller(request: pytest.FixtureRequest) -> tuple[str, str]:
    """Who the run is signed in as: (tenant code, email)."""
    return CALLERS[request.param]


@pytest.fixture
def bearer(caller: tuple[str, str], sign_in: Callable[[str, str], str]) -> str:
    """One token for the whole run of a caller."""
    return sign_in(*caller)


@pytest.fixture
def api_schema(local_stack_url: str, bearer: str) -> schemathesis.BaseSchema:
    """The merged OpenAPI of the running stack, called with the caller's token (one run per caller)."""
    schema = schemathesis.openapi.from_url(f"{local_stack_url}/openapi.json")
    schema.config.update(base_url=local_stack_url, request_timeout=30, headers={"Authorization": f"Bearer {bearer}"})
    schema.config.generation.update(max_examples=MAX_EXAMPLES)
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@settings(deadline=None, max_examples=MAX_EXAMPLES, suppress_health_check=list(HealthCheck), derandomize=True)
@schema.parametrize()
def test_api_answers_as_documented(
    case: schemathesis.Case,
    caller: tuple[str, str],
    bearer: str,
    sign_in: Callable[[str, str], str],
) -> None:
    # Given a caller signed in (a session-ending call gets a token of its own, so the run's token stays live)
    token = sign_in(*caller) if (case.method.upper(), case.path) in SESSION_ENDING else bearer

    # When schemathesis calls the operation with generated input
    # Then no answer is a server error or differs from what the OpenAPI document says
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
