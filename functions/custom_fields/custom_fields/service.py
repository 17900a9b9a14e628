"""Custom-field rules: what a definition may say, checked before it is stored.

A definition's entity, key and type never change (values already stored keep their meaning); its label,
rules, default, options' dictionary, order and switch may. Changed rules apply to values written from
then on; stored values are not rewritten.
"""

from __future__ import annotations

import re
from typing import Any

from riveredge import custom_fields, dictionaries
from riveredge.actor import Actor
from riveredge.custom_fields import ENTITIES, MAX_FIELDS, OPTION_TYPES, RULES, Definition, definition_of
from riveredge.db.changes import expect_version
from riveredge.db.config import CustomField
from riveredge.errors import ConflictError, FieldProblem, NotFoundError, ValidationError
from riveredge.scope import Scope

from custom_fields import repository
from custom_fields.models import CreateCustomFieldRequest, UpdateCustomFieldRequest

LENGTH_CAP = {"text": 1000, "long_text": 10_000}
_PAIRS = (("min_length", "max_length"), ("minimum", "maximum"), ("min_items", "max_items"))


def _entity(entity: str, field: str = "entity") -> str:
    if entity not in ENTITIES:
        raise ValidationError(
            "no such entity type",
            errors=[FieldProblem(field, f"no such entity type; one of: {', '.join(ENTITIES)}")],
        )
    return entity


def _tidy(rules: dict[str, Any], kind: str) -> dict[str, Any]:
    """Whole numbers as integers (10, not 10.0); a number field's allowed values as integers."""

    def whole(value: Any) -> Any:
        return int(value) if isinstance(value, float) and value.is_integer() else value

    tidy = {name: whole(value) for name, value in rules.items()}
    if "allowed" in tidy:
        tidy["allowed"] = [whole(v) for v in tidy["allowed"]]
    return tidy


def _allowed_problem(kind: str, allowed: list[Any]) -> str | None:
    if kind == "text" and not all(isinstance(v, str) for v in allowed):
        return "the allowed values of a text field are texts"
    if kind == "number" and not all(isinstance(v, int) and not isinstance(v, bool) for v in allowed):
        return "the allowed values of a number field are whole numbers"
    if kind == "decimal" and not all(isinstance(v, int | float) and not isinstance(v, bool) for v in allowed):
        return "the allowed values of a decimal field are numbers"
    if len(set(map(str, allowed))) != len(allowed):
        return "an allowed value is repeated"
    return None


def _rule_problems(definition: Definition) -> list[FieldProblem]:
    kind, rules = definition.type, definition.validation
    problems = [
        FieldProblem(f"validation.{rule}", f"does not apply to {kind} fields")
        for rule in rules
        if rule not in RULES[kind]
    ]
    for low, high in _PAIRS:
        if low in rules and high in rules and rules[low] > rules[high]:
            problems.append(FieldProblem(f"validation.{low}", f"must not be more than {high} ({rules[high]})"))
    if "max_length" in rules and kind in LENGTH_CAP and rules["max_length"] > LENGTH_CAP[kind]:
        problems.append(FieldProblem("validation.max_length", f"must be at most {LENGTH_CAP[kind]} for {kind}"))
    if "pattern" in rules:
        try:
            re.compile(str(rules["pattern"]))
        except re.error as error:
            problems.append(FieldProblem("validation.pattern", f"is not a valid regular expression: {error}"))
    if "allowed" in rules and kind in RULES and "allowed" in RULES[kind]:
        problem = _allowed_problem(kind, list(rules["allowed"]))
        if problem:
            problems.append(FieldProblem("validation.allowed", problem))
    return problems


def _check(scope: Scope, definition: Definition) -> None:
    """Refuse (422, naming the setting) a definition whose rules, options or default do not hold together."""
    problems = _rule_problems(definition)
    if definition.type in OPTION_TYPES:
        if definition.dictionary is None:
            problems.append(
                FieldProblem("dictionary", f"a {definition.type} field takes its options from a dictionary")
            )
        elif dictionaries.kind(scope, definition.dictionary) is None:
            problems.append(FieldProblem("dictionary", f"no dictionary '{definition.dictionary}'"))
    elif definition.dictionary is not None:
        problems.append(FieldProblem("dictionary", "only select and multi_select fields take a dictionary"))
    if not problems and definition.has_default:
        problem = custom_fields.value_problem(scope, definition, definition.default)
        if problem:
            problems.append(FieldProblem("default", problem))
    if problems:
        raise ValidationError("the custom field is not valid", errors=problems)


def _split(field_id: str) -> tuple[str, str]:
    entity, _, key = field_id.partition(".")
    return entity, key


def _find(scope: Scope, field_id: str) -> CustomField:
    entity, key = _split(field_id)
    found = repository.find(scope, entity, key) if entity in ENTITIES and key else None
    if found is None:
        raise NotFoundError(f"no custom field '{field_id}'")
    return found


def list_fields(actor: Actor, entity: str | None) -> list[Definition]:
    wanted = [_entity(entity)] if entity else list(ENTITIES)
    return [d for e in wanted for d in custom_fields.definitions(actor.scope, e)]


def get(actor: Actor, field_id: str) -> Definition:
    return definition_of(_find(actor.scope, field_id))


def create(actor: Actor, body: CreateCustomFieldRequest) -> Definition:
    scope = actor.scope
    entity = _entity(body.entity)
    if len(custom_fields.definitions(scope, entity)) >= MAX_FIELDS:
        raise ConflictError(f"the {entity} entity has {MAX_FIELDS} custom fields already (the most it may have)")
    rules = _tidy(body.validation.rules(), body.type) if body.validation else {}
    item = CustomField.new(
        scope,
        entity,
        body.key,
        label=body.label,
        type=body.type,
        required=body.required,
        default={"value": body.default} if body.default is not None else None,
        validation=rules or None,
        dictionary=body.dictionary,
        order=body.order,
        enabled=body.enabled,
        description=body.description,
    )
    _check(scope, definition_of(item))
    repository.create(actor, item)
    return definition_of(item)


def update(actor: Actor, field_id: str, body: UpdateCustomFieldRequest) -> Definition:
    scope = actor.scope
    item = _find(scope, field_id)
    expect_version(item, body.version)
    before = item.snapshot()
    given = body.model_fields_set
    for name in ("label", "required", "order", "enabled"):
        if name in given and getattr(body, name) is not None:
            setattr(item, name, getattr(body, name))
    for name in ("description", "dictionary"):
        if name in given:
            setattr(item, name, getattr(body, name))
    if "default" in given:
        item.default = {"value": body.default} if body.default is not None else None
    if "validation" in given:
        item.validation = (_tidy(body.validation.rules(), item.type) if body.validation else None) or None
    _check(scope, definition_of(item))
    if item.snapshot() != before:
        repository.save(actor, item, before=before)
    return definition_of(item)


def delete(actor: Actor, field_id: str, version: int | None) -> None:
    item = _find(actor.scope, field_id)
    expect_version(item, version)
    repository.delete(actor, item)


def schemas(actor: Actor, entity: str, language: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON Schema and the Formily schema of an entity type's custom fields (404: no such type)."""
    if entity not in ENTITIES:
        raise NotFoundError(f"no entity type '{entity}'")
    scope = actor.scope
    return custom_fields.json_schema(scope, entity), custom_fields.formily_schema(scope, entity, language)
