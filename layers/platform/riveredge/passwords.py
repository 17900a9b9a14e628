"""Password hashing with argon2id, at OWASP's recommended minimum or above."""

from __future__ import annotations

import re
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from riveredge.errors import FieldProblem, ValidationError

# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _HASHER.hash("riveredge-timing-equaliser")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches. With no hash, still spends the same time."""
    try:
        return _HASHER.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)


DEFAULT_POLICY = {"min_length": 10, "require_letter": True, "require_digit": True}


def check_policy(password: str, field: str, policy: dict[str, object] | None = None) -> None:
    """Raise ValidationError naming `field` when `password` breaks the policy."""
    rules = {**DEFAULT_POLICY, **(policy or {})}
    problems: list[str] = []
    min_length = int(str(rules["min_length"]))
    if len(password) < min_length:
        problems.append(f"must be at least {min_length} characters")
    if rules["require_letter"] and not re.search(r"[A-Za-z]", password):
        problems.append("must contain a letter")
    if rules["require_digit"] and not re.search(r"\d", password):
        problems.append("must contain a digit")
    if problems:
        raise ValidationError(
            "password does not meet the password policy",
            errors=[FieldProblem(field, "; ".join(problems))],
        )
