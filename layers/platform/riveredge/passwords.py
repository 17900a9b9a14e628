"""Password hashing with argon2id, at OWASP's recommended minimum or above, and the password policy.

The policy (:data:`DEFAULT_POLICY`; a tenant's own is set through its site settings and copied onto its
tenant item, so that sign-in reads it for free) is checked here and nowhere else: :func:`check_policy`
for the rules of one password, :func:`set_password` for a credential's new password (rules, history,
bookkeeping of its age), :func:`expired` for sign-in.

`PASSWORD_HASH_PROFILE=test` selects the cheapest argon2id parameters, for the
test suite only: it is refused unless the stage is `local` (the local stack's),
so no deployment can weaken its hashes by configuration. A hash records its own
parameters, so either profile verifies hashes made by the other.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from riveredge.errors import FieldProblem, ValidationError

if TYPE_CHECKING:  # no import of the models at run time: this module stays light
    from riveredge.db.models import LoginIdentity

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


# -- the policy ----------------------------------------------------------------------------------
# A tenant's policy is this shape; one stored in an older shape ({min_length, require_letter,
# require_digit}) reads with the defaults of the fields it lacks. The classes are ASCII ones: upper
# (A-Z), lower (a-z), digit (0-9) and symbol (anything else, spaces and non-ASCII characters included);
# a letter is upper or lower.
DEFAULT_POLICY: dict[str, Any] = {
    "min_length": 10,
    "require_letter": True,
    "require_upper": False,
    "require_lower": False,
    "require_digit": True,
    "require_symbol": False,
    "min_classes": 0,  # at least this many of the four classes (0..4)
    "history": 0,  # the last n passwords (the current one included) may not be used again (0..24)
    "expiry_days": 0,  # a password older than this must be changed at the next sign-in (0: never)
}
MIN_LENGTH_RANGE = (8, 128)
HISTORY_MAX = 24
EXPIRY_DAYS_MAX = 3650

_CLASSES = {
    "upper": (re.compile(r"[A-Z]"), "an upper-case letter"),
    "lower": (re.compile(r"[a-z]"), "a lower-case letter"),
    "digit": (re.compile(r"[0-9]"), "a digit"),
    "symbol": (re.compile(r"[^A-Za-z0-9]"), "a symbol"),
}
_LETTER = re.compile(r"[A-Za-z]")


def policy_of(stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """A stored policy (any shape it was ever stored in, or None) as the full current shape."""
    known = {k: v for k, v in (stored or {}).items() if k in DEFAULT_POLICY and v is not None}
    return {**DEFAULT_POLICY, **known}


def check_policy(password: str, field: str, policy: Mapping[str, Any] | None = None) -> None:
    """Raise ValidationError naming `field` when `password` breaks the policy's rules (not its history)."""
    rules = policy_of(policy)
    problems: list[str] = []
    min_length = int(rules["min_length"])
    if len(password) < min_length:
        problems.append(f"must be at least {min_length} characters")
    if rules["require_letter"] and not _LETTER.search(password):
        problems.append("must contain a letter")
    present = {name for name, (pattern, _) in _CLASSES.items() if pattern.search(password)}
    for name, (_, what) in _CLASSES.items():
        if rules[f"require_{name}"] and name not in present:
            problems.append(f"must contain {what}")
    min_classes = int(rules["min_classes"])
    if len(present) < min_classes:
        problems.append(f"must mix at least {min_classes} of: upper-case letters, lower-case letters, digits, symbols")
    if problems:
        raise ValidationError(
            "password does not meet the password policy",
            errors=[FieldProblem(field, "; ".join(problems))],
        )


def _reused(credential: LoginIdentity, password: str, history: int) -> bool:
    """Whether `password` is the credential's current one or one of the `history` - 1 before it."""
    earlier = list(credential.password_history or [])[: max(history - 1, 0)]
    candidates = [h for h in (credential.password_hash, *earlier) if h]
    return any(verify_password(h, password) for h in candidates)


def set_password(
    credential: LoginIdentity, password: str, *, field: str, policy: Mapping[str, Any] | None, now: datetime
) -> None:
    """Give `credential` the new `password` under the tenant's `policy`, or raise ValidationError naming `field`.

    The password must meet the policy's rules, differ from the current one and, with a `history` of n, from
    the n - 1 before it too. On success the credential holds the new hash, the time it was set (its age for
    ``expiry_days``) and the hashes of the previous ones the policy remembers (newest first); the caller
    saves it (one write: nothing is stored when this raises).
    """
    rules = policy_of(policy)
    check_policy(password, field, rules)
    history = int(rules["history"])
    if _reused(credential, password, max(history, 1)):
        message = (
            "must differ from the current password"
            if history <= 1
            else f"must differ from your last {history} passwords"
        )
        raise ValidationError("the password was used before", errors=[FieldProblem(field, message)])
    previous = [h for h in (credential.password_hash, *(credential.password_history or [])) if h]
    credential.password_history = previous[: max(history - 1, 0)] or None
    credential.password_hash = hash_password(password)
    credential.password_changed_at = now


def expired(
    changed_at: datetime | None, created_at: datetime | None, policy: Mapping[str, Any] | None, now: datetime
) -> bool:
    """Whether a password set at `changed_at` is past the policy's ``expiry_days`` at `now` (never with 0).

    A credential from before passwords were dated (no `changed_at`) counts from its creation: its password
    can only be younger than that, so the answer errs towards asking for a new one.
    """
    days = int(policy_of(policy)["expiry_days"])
    since = changed_at or created_at
    return days > 0 and since is not None and since + timedelta(days=days) <= now
