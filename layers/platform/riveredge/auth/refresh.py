"""Refresh tokens: opaque, random, stored only as a SHA-256 digest on the session."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import NamedTuple

from riveredge.errors import UnauthorizedError
from riveredge.scope import PLATFORM, Scope

_PREFIX = "rt1"


class RefreshToken(NamedTuple):
    tenant_id: str
    session_id: str
    secret: str

    def __str__(self) -> str:
        return f"{_PREFIX}.{self.tenant_id}.{self.session_id}.{self.secret}"

    @property
    def digest(self) -> str:
        return digest(self.secret)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_refresh_token(tenant_id: str, session_id: str) -> RefreshToken:
    return RefreshToken(tenant_id, session_id, secrets.token_urlsafe(32))


def parse(token: str) -> RefreshToken:
    """Split a refresh token; UnauthorizedError for anything that is not one of ours."""
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != _PREFIX or not parts[3]:
        raise UnauthorizedError("refresh token is not valid")
    try:
        Scope(parts[1]) if parts[1] != PLATFORM else None
    except ValueError as error:
        raise UnauthorizedError("refresh token is not valid") from error
    return RefreshToken(parts[1], parts[2], parts[3])


def matches(stored_digest: str | None, presented: RefreshToken) -> bool:
    return bool(stored_digest) and hmac.compare_digest(str(stored_digest), presented.digest)
