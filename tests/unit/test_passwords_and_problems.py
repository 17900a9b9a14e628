"""Password hashing and policy; how validation errors become problem+json."""

from __future__ import annotations

import json

import pytest
from riveredge import passwords
from riveredge.errors import ValidationError
from riveredge.http import problems


def test_passwords_hash_with_argon2id_and_verify() -> None:
    hashed = passwords.hash_password("Correct-horse-42")
    assert hashed.startswith("$argon2id$")
    assert "m=19456,t=2,p=1" in hashed
    assert passwords.verify_password(hashed, "Correct-horse-42")
    assert not passwords.verify_password(hashed, "correct-horse-42")
    assert not passwords.verify_password(None, "Correct-horse-42")
    assert not passwords.verify_password("not-a-hash", "x")


@pytest.mark.parametrize(
    ("password", "message"), [("short1", "at least 10"), ("no-digits-here", "digit"), ("1234567890", "letter")]
)
def test_the_policy_names_the_field_and_the_rule(password: str, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        passwords.check_policy(password, "admin.password")
    assert raised.value.errors[0].field == "admin.password"
    assert message in raised.value.errors[0].message


def _body(response: problems.Response) -> dict:  # type: ignore[type-arg]
    return json.loads(response.body)


def test_broken_json_is_400() -> None:
    response = problems.from_validation_errors([{"type": "json_invalid", "loc": ("body", 3), "msg": "x"}], "r1")
    assert response.status_code == 400
    assert _body(response)["errors"] == [{"field": "body", "message": "not valid JSON"}]


def test_body_errors_are_422_with_dotted_field_names() -> None:
    response = problems.from_validation_errors(
        [
            {"type": "extra_forbidden", "loc": ("body", "role"), "msg": "Extra inputs are not permitted"},
            {"type": "missing", "loc": ("body", "admin", "email"), "msg": "Field required"},
        ],
        "r1",
    )
    assert response.status_code == 422
    body = _body(response)
    assert body["errors"] == [
        {"field": "role", "message": "unknown field"},
        {"field": "admin.email", "message": "field required"},
    ]
    assert body["detail"] == "2 fields are not valid" and body["request_id"] == "r1"


def test_query_errors_are_400() -> None:
    response = problems.from_validation_errors([{"type": "int_parsing", "loc": ("query", "limit"), "msg": "bad"}], None)
    assert response.status_code == 400
    assert _body(response)["errors"][0]["field"] == "limit"
