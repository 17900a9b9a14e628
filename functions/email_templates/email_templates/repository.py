"""Global-variable persistence: the only code of this function that touches DynamoDB.

Every change bumps the ``mail_globals`` stamp in its own transaction (riveredge.config_cache).
"""

from __future__ import annotations

from typing import Any

from riveredge import config_cache, keys
from riveredge.actor import Actor
from riveredge.db.changes import change
from riveredge.db.config import MailGlobal
from riveredge.mail_templates.global_variables import KIND
from riveredge.scope import Scope


def find(scope: Scope, key: str) -> MailGlobal | None:
    return MailGlobal.find(keys.mail_global(scope, key))


def create(actor: Actor, item: MailGlobal) -> None:
    with change(actor, "template.global_variable.create", item) as c:
        c.create(item, conflict=f"the global variable '{item.key}' exists already")
        config_cache.bump(c, KIND)


def save(actor: Actor, item: MailGlobal, *, before: dict[str, Any] | None) -> None:
    """A new item (a built-in's first value) or a change of the version read."""
    with change(actor, "template.global_variable.update", item, before=before) as c:
        if before is None:
            c.create(item, conflict="the global variable was set meanwhile; read it again")
        else:
            c.save(item)
        config_cache.bump(c, KIND)


def delete(actor: Actor, item: MailGlobal) -> None:
    with change(actor, "template.global_variable.delete", item, before=item.snapshot()) as c:
        c.delete(item)
        config_cache.bump(c, KIND)
