"""User persistence: the only code of this function that touches DynamoDB."""

from __future__ import annotations

from riveredge import keys
from riveredge.db.models import User
from riveredge.errors import NotFoundError
from riveredge.scope import Scope


def get(scope: Scope, user_id: str) -> User:
    """The user `user_id` of `scope`; another tenant's user is simply not there (404)."""
    key = keys.user(scope, user_id)
    try:
        return User.get(key.pk, key.sk)
    except User.DoesNotExist as error:
        raise NotFoundError("no such user") from error
