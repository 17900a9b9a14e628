"""Sign-in: tokens, identical refusals, throttling, sessions."""

from __future__ import annotations

from local_stack.stack import LocalStack
from tests.integration.conftest import OPERATOR, TenantFixture, login
from tests.support import PASSWORD, claims_of, dynamodb_calls, problem_without_request_id


def test_login_answers_bearer_tokens_with_pinned_claims(stack: LocalStack, acme: TenantFixture) -> None:
    # When the admin signs in
    reply = login(stack, "acme", acme.admin_email)
    # Then the answer is a bearer token pair whose claims name the tenant and the session
    assert reply.status == 200
    body = reply.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    claims = claims_of(body["access_token"])
    assert claims["ten"] == acme.id
    assert {"iss", "aud", "exp", "iat", "jti", "sub", "sid"} <= claims.keys()
    assert body["refresh_token"].startswith(f"rt1.{acme.id}.{claims['sid']}.")


def test_unknown_user_and_wrong_password_get_the_same_answer(stack: LocalStack, acme: TenantFixture) -> None:
    wrong_password = login(stack, "acme", acme.admin_email, "Not-the-password-1")
    unknown_user = login(stack, "acme", "nobody@acme.example", "Not-the-password-1")
    unknown_tenant = login(stack, "no-such-org", acme.admin_email, "Not-the-password-1")
    assert wrong_password.status == unknown_user.status == unknown_tenant.status == 401
    bodies = [problem_without_request_id(r.json()) for r in (wrong_password, unknown_user, unknown_tenant)]
    assert bodies[0] == bodies[1] == bodies[2]
    assert wrong_password.content_type == "application/problem+json"


def test_login_makes_at_most_three_dynamodb_calls(stack: LocalStack, acme: TenantFixture) -> None:
    with dynamodb_calls() as calls:
        reply = login(stack, "acme", acme.admin_email)
    assert reply.status == 200
    assert sum(calls.values()) <= 3, calls


def test_platform_operator_signs_in_with_the_reserved_code(stack: LocalStack) -> None:
    reply = login(stack, "platform", OPERATOR)
    assert reply.status == 200
    assert claims_of(reply.json()["access_token"])["ten"] == "platform"


def test_me_answers_the_caller_and_their_tenant(stack: LocalStack, acme: TenantFixture) -> None:
    reply = stack.request("GET", "/api/auth/me", token=acme.admin_token)
    assert reply.status == 200
    body = reply.json()
    assert body["user"]["email"] == acme.admin_email
    assert body["tenant"] == {**body["tenant"], "id": acme.id, "code": "acme", "status": "active"}
    assert PASSWORD not in reply.body.decode()
