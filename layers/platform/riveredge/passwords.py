"""Password hashing with argon2id, at OWASP's recommended minimum or above.

`PASSWORD_HASH_PROFILE=test` selects the cheapest argon2id parameters, for the
test suite only: it is refused unless the stage is `local` (the local stack's),
so no deployment can weaken its hashes by configuration. A hash records its own
parameters, so either profile verifies hashes made by the other.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from riveredge.errors import FieldProblem, ValidationError

# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
_PROFILES = {
    "owasp": {"time_cost": 2, "memory_cost": 19_456, "parallelism": 1},
    "test": {"time_cost": 1, "memory_cost": 8, "parallelism": 1},
}


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    profile = os.environ.get("PASSWORD_HASH_PROFILE", "owasp")
    if profile not in _PROFILES:
        raise ValueError(f"PASSWORD_HASH_PROFILE must be one of {sorted(_PROFILES)}, not {profile!r}")
    if profile == "test" and os.environ.get("STAGE") != "local":
        raise ValueError("PASSWORD_HASH_PROFILE=test is for the local stack's tests only (STAGE=local)")
    chosen = _PROFILES[profile]
    return PasswordHasher(
        time_cost=chosen["time_cost"], memory_cost=chosen["memory_cost"], parallelism=chosen["parallelism"]
    )


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash("riveredge-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches. With no hash, still spends the same time."""
    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


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
