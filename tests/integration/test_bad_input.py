"""Bad input: every mistake a client can make is a clear 4xx problem+json, never a 5xx."""

from __future__ import annotations

import pytest

from local_stack.stack import LocalStack
from tests.integration.conftest import TenantFixture


@pytest.mark.parametrize(
    ("raw", "status", "field"),
    [
        (b'{"tenant": "acme", "email": ', 400, "body"),
        (b"[1, 2]", 422, "body"),
        (b'"just a string"', 422, "body"),
        (b'{"tenant": "acme", "email": "admin@acme.example", "password": "x", "role": "admin"}', 422, "role"),
        (b'{"tenant": "acme", "email": "admin@acme.example"}', 422, "password"),
        (b'{"tenant": "ACME!", "email": "admin@acme.example", "password": "x"}', 422, "tenant"),
        (b'{"tenant": "acme", "email": "nope", "password": "x"}', 422, "email"),
        (b'{"tenant": "acme", "email": "admin@acme.example", "password": 12345}', 422, "password"),
    ],
)
def test_bad_login_bodies(stack: LocalStack, raw: bytes, status: int, field: str) -> None:
    reply = stack.request("POST", "/api/auth/login", raw_body=raw, headers={"Content-Type": "application/json"})
    assert reply.status == status, reply.body
    assert reply.content_type == "application/problem+json"
    assert field in [e["field"] for e in reply.json().get("errors", [])]


def test_an_oversized_body_is_413(stack: LocalStack) -> None:
    huge = b'{"tenant": "acme", "email": "a@b.example", "password": "' + b"x" * 1_100_000 + b'"}'
    reply = stack.request("POST", "/api/auth/login", raw_body=huge, headers={"Content-Type": "application/json"})
    assert reply.status == 413
    assert reply.json()["type"] == "/problems/payload-too-large"


def test_a_body_that_is_not_json_is_415(stack: LocalStack) -> None:
    reply = stack.request(
        "POST",
        "/api/auth/login",
        raw_body=b"tenant=acme",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert reply.status == 415
    assert reply.content_type == "application/problem+json"


def test_an_unknown_route_is_404(stack: LocalStack, acme: TenantFixture) -> None:
    reply = stack.request("GET", "/api/nothing-here", token=acme.admin_token)
    assert reply.status == 404
    assert reply.content_type == "application/problem+json"


def test_a_malformed_idempotency_key_is_400(stack: LocalStack, operator_token: str) -> None:
    reply = stack.request(
        "POST",
        "/api/tenants",
        token=operator_token,
        headers={"Idempotency-Key": "x" * 200},
        json_body={
            "code": "idem-bad",
            "name": "X",
            "admin": {"email": "a@idem-bad.example", "name": "A", "password": "Correct-horse-42"},
        },
    )
    assert reply.status == 400
