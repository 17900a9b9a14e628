"""Sessions: refresh rotation and reuse detection, logout, throttling, the login log."""

from __future__ import annotations

from riveredge import keys
from riveredge.db.models import LoginLogEntry
from riveredge.scope import Scope, use_scope

from local_stack.stack import LocalStack
from tests.integration.conftest import TenantFixture, login
from tests.support import PASSWORD, dynamodb_calls, problem_without_request_id


def _refresh(stack: LocalStack, token: str):
    return stack.request("POST", "/api/auth/refresh", json_body={"refresh_token": token})


def test_refresh_rotates_the_refresh_token(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    # When the client refreshes
    first = _refresh(stack, fresh_tenant.admin_refresh)
    # Then it gets a new pair, and the new access token works
    assert first.status == 200
    rotated = first.json()
    assert rotated["refresh_token"] != fresh_tenant.admin_refresh
    assert stack.request("GET", "/api/auth/me", token=rotated["access_token"]).status == 200
    # And the new refresh token rotates again
    assert _refresh(stack, rotated["refresh_token"]).status == 200


def test_reusing_an_old_refresh_token_revokes_the_session(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    # Given a refresh token that has been rotated once
    rotated = _refresh(stack, fresh_tenant.admin_refresh).json()
    # When the old one is presented again (as a thief would)
    reuse = _refresh(stack, fresh_tenant.admin_refresh)
    # Then it is refused, and the whole session is revoked: new tokens stop working too
    assert reuse.status == 401
    assert stack.request("GET", "/api/auth/me", token=rotated["access_token"]).status == 401
    assert _refresh(stack, rotated["refresh_token"]).status == 401


def test_refresh_refuses_garbage_and_foreign_tokens(
    stack: LocalStack, acme: TenantFixture, globex: TenantFixture
) -> None:
    _, acme_tenant, session, secret = acme.admin_refresh.split(".")
    foreign = f"rt1.{globex.id}.{session}.{secret}"  # acme's session presented as globex's
    for token in ("nonsense", "rt1.platform.x.y", foreign, f"rt1.{acme_tenant}.{session}.wrong-secret"):
        reply = _refresh(stack, token)
        assert reply.status == 401, token
        assert reply.content_type == "application/problem+json"


def test_refresh_makes_two_dynamodb_calls(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    with dynamodb_calls() as calls:
        assert _refresh(stack, fresh_tenant.admin_refresh).status == 200
    assert calls == {"BatchGetItem": 1, "UpdateItem": 1}


def test_logout_ends_the_session_on_the_next_request(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    reply = stack.request("POST", "/api/auth/logout", token=fresh_tenant.admin_token)
    assert reply.status == 204
    assert stack.request("GET", "/api/auth/me", token=fresh_tenant.admin_token).status == 401
    assert _refresh(stack, fresh_tenant.admin_refresh).status == 401


def test_me_costs_one_dynamodb_call_in_the_route_and_one_in_the_authorizer(
    stack: LocalStack, acme: TenantFixture
) -> None:
    authorizer = stack.gateway.authorizer
    assert authorizer is not None
    original = authorizer.invoke
    seen: dict[str, int] = {}

    def counted(event):
        with dynamodb_calls() as calls:
            answer = original(event)
        seen["authorizer"] = sum(calls.values())
        return answer

    authorizer.invoke = counted  # type: ignore[method-assign]
    try:
        with dynamodb_calls() as total:
            assert stack.request("GET", "/api/auth/me", token=acme.admin_token).status == 200
    finally:
        authorizer.invoke = original  # type: ignore[method-assign]
    assert seen["authorizer"] == 1
    assert sum(total.values()) - seen["authorizer"] == 1


def test_repeated_failures_throttle_known_and_unknown_emails_alike(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    code = fresh_tenant.code
    answers = {}
    for email in (fresh_tenant.admin_email, f"ghost@{code}.example"):
        # Given five failed attempts
        for _ in range(5):
            assert login(stack, code, email, "Wrong-password-1").status == 401
        # When a sixth comes, even with the right password
        answers[email] = login(stack, code, email, PASSWORD)
    # Then both answer 429 with Retry-After, with the same body
    known, unknown = answers.values()
    assert known.status == unknown.status == 429
    assert int(known.headers["Retry-After"]) > 0
    assert problem_without_request_id(known.json()) == problem_without_request_id(unknown.json())


def test_the_login_log_records_successes_and_failures(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    login(stack, fresh_tenant.code, fresh_tenant.admin_email, "Wrong-password-1", **{"User-Agent": "probe/1.0"})
    scope = Scope(fresh_tenant.id)
    with use_scope(scope):
        entries = list(LoginLogEntry.query(keys.collection(scope, "LOGINLOG")))
    outcomes = [(e.email, e.success, e.reason) for e in entries]
    assert (fresh_tenant.admin_email, True, None) in outcomes
    assert (fresh_tenant.admin_email, False, "bad_credentials") in outcomes
    assert any(e.user_agent == "probe/1.0" for e in entries)
