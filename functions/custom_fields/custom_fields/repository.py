"""Custom-field persistence: the only code of this function that touches DynamoDB.

Every change bumps the ``custom_fields`` stamp in its own transaction, so every container validates
against the new definitions from the very next request (riveredge.config_cache).
"""

from __future__ import annotations

from typing import Any

from riveredge import config_cache, keys
from riveredge.actor import Actor
from riveredge.custom_fields import KIND
from riveredge.db.changes import change
from riveredge.db.config import CustomField
from riveredge.scope import Scope

SOURCE = "config"


def find(scope: Scope, entity: str, key: str) -> CustomField | None:
    return CustomField.find(keys.custom_field(scope, entity, key))


def create(actor: Actor, item: CustomField) -> None:
    with change(actor, "custom_field.create", item) as c:
        c.create(item, conflict=f"the {item.entity_type} entity already has a custom field '{item.key}'")
        config_cache.bump(c, KIND)
        c.publish("custom_field.created", {"entity": item.entity_type, "key": item.key}, source=SOURCE)


def save(actor: Actor, item: CustomField, *, before: dict[str, Any]) -> None:
    with change(actor, "custom_field.update", item, before=before) as c:
        c.save(item)
        config_cache.bump(c, KIND)
        c.publish("custom_field.updated", {"entity": item.entity_type, "key": item.key}, source=SOURCE)


def delete(actor: Actor, item: CustomField) -> None:
    """The definition only: values stored on entities stay, unread (riveredge.custom_fields.present)."""
    with change(actor, "custom_field.delete", item, before=item.snapshot()) as c:
        c.delete(item)
        config_cache.bump(c, KIND)
        c.publish("custom_field.deleted", {"entity": item.entity_type, "key": item.key}, source=SOURCE)
