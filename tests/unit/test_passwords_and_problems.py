"""Password hashing and policy; how validation errors become problem+json."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from riveredge import passwords
from riveredge.errors import ValidationError
from riveredge.http import problems


@pytest.fixture
def profile(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The hasher chosen afresh from the environment this test sets (and again after it)."""
    monkeypatch.delenv("PASSWORD_HASH_PROFILE", raising=False)
    passwords._hasher.cache_clear()
    yield monkeypatch
    passwords._hasher.cache_clear()


def test_passwords_hash_with_argon2id_and_verify(profile: pytest.MonkeyPatch) -> None:
    # Given no profile: OWASP's parameters
    hashed = passwords.hash_password("Correct-horse-42")
    assert hashed.startswith("$argon2id$")
    assert "m=19456,t=2,p=1" in hashed
    assert passwords.verify_password(hashed, "Correct-horse-42")
    assert not passwords.verify_password(hashed, "correct-horse-42")
    assert not passwords.verify_password(None, "Correct-horse-42")
    assert not passwords.verify_password("not-a-hash", "x")


def test_the_cheap_test_profile_is_only_for_the_local_stage(profile: pytest.MonkeyPatch) -> None:
    owasp = passwords.hash_password("Correct-horse-42")
    passwords._hasher.cache_clear()
    # Given the test profile in a deployed stage, the hasher refuses to start
    profile.setenv("PASSWORD_HASH_PROFILE", "test")
    profile.setenv("STAGE", "prod")
    with pytest.raises(ValueError, match="STAGE=local"):
        passwords.hash_password("Correct-horse-42")
    # In the local stage it hashes cheaply, and verifies what OWASP's parameters hashed
    profile.setenv("STAGE", "local")
    passwords._hasher.cache_clear()
    assert "m=8,t=1,p=1" in passwords.hash_password("Correct-horse-42")
    assert passwords.verify_password(owasp, "Correct-horse-42")


def test_an_unknown_profile_is_refused(profile: pytest.MonkeyPatch) -> None:
    profile.setenv("PASSWORD_HASH_PROFILE", "fastest")
    with pytest.raises(ValueError, match="PASSWORD_HASH_PROFILE"):
        passwords.hash_password("Correct-horse-42")


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
