"""The password policy: character classes, the shape older tenants stored, history and expiry (no network)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from riveredge import passwords
from riveredge.db.models import LoginIdentity
from riveredge.errors import ValidationError

NOW = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PASSWORD_HASH_PROFILE", "test")
    monkeypatch.setenv("STAGE", "local")
    passwords._hasher.cache_clear()
    yield
    passwords._hasher.cache_clear()


def _message(password: str, policy: dict[str, object] | None) -> str:
    with pytest.raises(ValidationError) as raised:
        passwords.check_policy(password, "password", policy)
    [problem] = raised.value.errors
    assert problem.field == "password"
    return problem.message


def test_an_old_shape_reads_with_the_defaults_of_what_it_lacks() -> None:
    old = {"min_length": 12, "require_letter": True, "require_digit": False}
    assert passwords.policy_of(old) == {**passwords.DEFAULT_POLICY, **old}
    assert passwords.policy_of(None) == passwords.DEFAULT_POLICY
    assert passwords.policy_of({"unknown": 1, "history": None}) == passwords.DEFAULT_POLICY
    passwords.check_policy("onlyletters!", "password", old)  # no digit needed any more


@pytest.mark.parametrize(
    ("password", "policy", "expected"),
    [
        ("lowercase-only-1", {"require_upper": True}, "an upper-case letter"),
        ("UPPERCASE-ONLY-1", {"require_lower": True}, "a lower-case letter"),
        ("NoSymbolsHere12", {"require_symbol": True}, "a symbol"),
        ("lowercase12345", {"min_classes": 3}, "at least 3 of"),
        ("Short-1", {"min_length": 8}, "at least 8 characters"),
    ],
)
def test_each_class_rule_names_what_is_missing(password: str, policy: dict[str, object], expected: str) -> None:
    assert expected in _message(password, policy)


def test_a_symbol_is_anything_but_ascii_letters_and_digits() -> None:
    for password in ("Passwort mit 1", "Pässwort1234", "Password1234!"):
        passwords.check_policy(password, "password", {"require_symbol": True, "min_classes": 4})


def test_set_password_keeps_the_history_the_policy_asks_for() -> None:
    credential = LoginIdentity("pk", "sk", password_hash=passwords.hash_password("First-password-1"))
    policy = {"history": 3}
    for n, password in enumerate(("Second-password-2", "Third-password-3", "Fourth-password-4"), start=1):
        passwords.set_password(credential, password, field="new_password", policy=policy, now=NOW)
        assert len(credential.password_history or []) == min(n, 2)
    assert credential.password_changed_at == NOW
    assert passwords.verify_password(credential.password_hash, "Fourth-password-4")
    # The last three (the current one included) are refused, the one before them is free again
    for reused in ("Fourth-password-4", "Third-password-3", "Second-password-2"):
        with pytest.raises(ValidationError, match="used before"):
            passwords.set_password(credential, reused, field="new_password", policy=policy, now=NOW)
    passwords.set_password(credential, "First-password-1", field="new_password", policy=policy, now=NOW)


def test_the_current_password_is_refused_even_without_history() -> None:
    credential = LoginIdentity("pk", "sk", password_hash=passwords.hash_password("First-password-1"))
    with pytest.raises(ValidationError) as raised:
        passwords.set_password(credential, "First-password-1", field="new_password", policy=None, now=NOW)
    assert raised.value.errors[0].message == "must differ from the current password"
    # And a first password (an invited account's) has nothing to differ from
    fresh = LoginIdentity("pk", "sk")
    passwords.set_password(fresh, "First-password-1", field="password", policy=None, now=NOW)
    assert fresh.password_history is None


def test_a_password_expires_after_the_policys_days_only() -> None:
    policy = {"expiry_days": 30}
    assert not passwords.expired(NOW - timedelta(days=29), None, policy, NOW)
    assert passwords.expired(NOW - timedelta(days=30), None, policy, NOW)
    assert not passwords.expired(NOW - timedelta(days=3000), None, None, NOW)  # 0: never
    # A credential from before passwords were dated counts from its creation
    assert passwords.expired(None, NOW - timedelta(days=31), policy, NOW)
    assert not passwords.expired(None, None, policy, NOW)
