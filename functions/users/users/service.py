"""Account rules."""

from __future__ import annotations

import re

from riveredge.auth.principal import Principal
from riveredge.db.models import User
from riveredge.errors import NotFoundError

from users import repository

_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def get(principal: Principal, user_id: str) -> User:
    if not _ID.match(user_id):
        raise NotFoundError("no such user")
    return repository.get(principal.scope, user_id)
