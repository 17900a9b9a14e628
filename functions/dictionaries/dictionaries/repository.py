"""Dictionary and parameter persistence: the only code of this function that touches DynamoDB.

Every change bumps its kind's configuration stamp in its own transaction, so every container serves the
new value from the very next request (riveredge.config_cache).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from riveredge import config_cache, keys
from riveredge.actor import Actor
from riveredge.db.changes import change
from riveredge.db.config import DictionaryItem, DictionaryType, Parameter
from riveredge.dictionaries import KIND as DICTIONARIES
from riveredge.parameters import KIND as PARAMETERS
from riveredge.scope import Scope

SOURCE = "config"


# -- dictionaries -----------------------------------------------------------------------
def find_type(scope: Scope, code: str) -> DictionaryType | None:
    return DictionaryType.find(keys.dictionary_type(scope, code))


def find_item(scope: Scope, type_code: str, code: str) -> DictionaryItem | None:
    return DictionaryItem.find(keys.dictionary_item(scope, type_code, code))


def has_items(scope: Scope, type_code: str) -> bool:
    found = DictionaryItem.query(keys.dictionary_items(scope, type_code), limit=1)
    return any(True for _ in found)


def create_type(actor: Actor, kind: DictionaryType) -> None:
    with change(actor, "dictionary.create", kind) as c:
        c.create(kind, conflict=f"dictionary '{kind.code}' already exists")
        config_cache.bump(c, DICTIONARIES)
        c.publish("dictionary.created", {"type": kind.code}, source=SOURCE)


def save_type(actor: Actor, kind: DictionaryType, *, before: dict[str, Any]) -> None:
    with change(actor, "dictionary.update", kind, before=before) as c:
        c.save(kind)
        config_cache.bump(c, DICTIONARIES)
        c.publish("dictionary.updated", {"type": kind.code}, source=SOURCE)


def delete_type(actor: Actor, kind: DictionaryType) -> None:
    """Delete an empty type; an item added meanwhile makes its delete fail, not orphaned."""
    with change(actor, "dictionary.delete", kind, before=kind.snapshot()) as c:
        c.delete(kind)
        config_cache.bump(c, DICTIONARIES)
        c.publish("dictionary.deleted", {"type": kind.code}, source=SOURCE)


def create_item(actor: Actor, item: DictionaryItem) -> None:
    """Store an item of a type that still exists (and under a parent that still exists)."""
    scope = actor.scope
    with change(actor, "dictionary.item.create", item) as c:
        c.create(item, conflict=f"item '{item.code}' already exists in dictionary '{item.type_code}'")
        c.check(
            DictionaryType,
            keys.dictionary_type(scope, item.type_code),
            DictionaryType.pk.exists(),
            missing=f"dictionary '{item.type_code}' was deleted meanwhile",
        )
        if item.parent:
            c.check(
                DictionaryItem,
                keys.dictionary_item(scope, item.type_code, item.parent),
                DictionaryItem.pk.exists(),
                conflict=f"parent item '{item.parent}' was deleted meanwhile",
            )
        config_cache.bump(c, DICTIONARIES)


def save_item(actor: Actor, item: DictionaryItem, *, before: dict[str, Any]) -> None:
    with change(actor, "dictionary.item.update", item, before=before) as c:
        c.save(item)
        if item.parent:
            c.check(
                DictionaryItem,
                keys.dictionary_item(actor.scope, item.type_code, item.parent),
                DictionaryItem.pk.exists(),
                conflict=f"parent item '{item.parent}' was deleted meanwhile",
            )
        config_cache.bump(c, DICTIONARIES)


def delete_item(actor: Actor, item: DictionaryItem) -> None:
    with change(actor, "dictionary.item.delete", item, before=item.snapshot()) as c:
        c.delete(item)
        config_cache.bump(c, DICTIONARIES)


# -- parameters -------------------------------------------------------------------------
def all_parameters(scope: Scope) -> list[Parameter]:
    return sorted((p for p in Parameter.query(keys.parameters(scope)) if isinstance(p, Parameter)), key=lambda p: p.key)


def find_parameter(scope: Scope, key: str) -> Parameter | None:
    return Parameter.find(keys.parameter(scope, key))


def create_parameter(actor: Actor, parameter: Parameter) -> None:
    with change(actor, "parameter.create", parameter) as c:
        c.create(parameter, conflict=f"parameter '{parameter.key}' already exists")
        config_cache.bump(c, PARAMETERS)


def save_parameter(actor: Actor, parameter: Parameter, *, before: dict[str, Any]) -> None:
    with change(actor, "parameter.update", parameter, before=before) as c:
        c.save(parameter)
        config_cache.bump(c, PARAMETERS)


def delete_parameter(actor: Actor, parameter: Parameter) -> None:
    with change(actor, "parameter.delete", parameter, before=parameter.snapshot()) as c:
        c.delete(parameter)
        config_cache.bump(c, PARAMETERS)


def save_parameters(
    actor: Actor,
    action: str,
    created: Sequence[Parameter],
    changed: Sequence[tuple[Parameter, dict[str, Any]]],
) -> None:
    """Several parameters in one transaction (all or none), each with its own log entry."""
    with change(actor, action) as c:
        for parameter in created:
            c.create(parameter, conflict=f"parameter '{parameter.key}' was created meanwhile")
            c.log(action, Parameter.noun, parameter.key, before=None, after=parameter.snapshot())
        for parameter, before in changed:
            c.save(parameter, stale=f"parameter '{parameter.key}' has changed since it was read")
            c.log(action, Parameter.noun, parameter.key, before=before, after=parameter.snapshot())
        config_cache.bump(c, PARAMETERS)
