"""Dictionary and parameter rules.

System dictionaries (riveredge.dictionaries.SYSTEM) are the platform's: listed for every organisation,
never changed or deleted here. A type is deleted only once it has no items; an item only once no item
lies under it; an item's parent is another item of its type, never itself or one of its own descendants.
A parameter's value always matches its type (and schema); a parameter that is not editable keeps the
value it was created (or imported) with; a secret one is masked on every read.
"""

from __future__ import annotations

from typing import Any

from riveredge import dictionaries, parameters
from riveredge.actor import Actor
from riveredge.db.changes import expect_version
from riveredge.db.config import DictionaryItem, DictionaryType, Parameter
from riveredge.dictionaries import Entry, Kind
from riveredge.errors import ConflictError, FieldProblem, NotFoundError, ValidationError
from riveredge.scope import Scope

from dictionaries import repository
from dictionaries.models import (
    BatchUpdateRequest,
    CreateDictionaryRequest,
    CreateItemRequest,
    CreateParameterRequest,
    ParameterDocument,
    ParameterExport,
    ParameterImportResponse,
    ParameterResponse,
    UpdateDictionaryRequest,
    UpdateItemRequest,
    UpdateParameterRequest,
)

MAX_ITEMS = 1000  # items of one type: every form loads them all


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError(f"{field} {message}", errors=[FieldProblem(field, message)])


def _system_refusal(code: str) -> ConflictError:
    return ConflictError(f"'{code}' is a system dictionary: the platform maintains it")


# -- dictionaries -----------------------------------------------------------------------
def list_types(actor: Actor) -> tuple[Kind, ...]:
    return dictionaries.types(actor.scope)


def get_type(actor: Actor, code: str) -> Kind:
    kind = dictionaries.kind(actor.scope, code)
    if kind is None:
        raise NotFoundError(f"no dictionary '{code}'")
    return kind


def _own_type(scope: Scope, code: str) -> DictionaryType:
    if code in dictionaries.SYSTEM:
        raise _system_refusal(code)
    found = repository.find_type(scope, code)
    if found is None:
        raise NotFoundError(f"no dictionary '{code}'")
    return found


def create_type(actor: Actor, body: CreateDictionaryRequest) -> Kind:
    if body.code in dictionaries.SYSTEM:
        raise ConflictError(f"dictionary '{body.code}' already exists (a system dictionary)")
    kind = DictionaryType.new(
        actor.scope, body.code, name=body.name, description=body.description, enabled=body.enabled
    )
    repository.create_type(actor, kind)
    return dictionaries.kind_of(kind)


def update_type(actor: Actor, code: str, body: UpdateDictionaryRequest) -> Kind:
    kind = _own_type(actor.scope, code)
    expect_version(kind, body.version)
    before = kind.snapshot()
    for name in ("name", "description", "enabled"):
        if name in body.model_fields_set and getattr(body, name) is not None:
            setattr(kind, name, getattr(body, name))
    if kind.snapshot() != before:
        repository.save_type(actor, kind, before=before)
    return dictionaries.kind_of(kind)


def delete_type(actor: Actor, code: str, version: int | None) -> None:
    kind = _own_type(actor.scope, code)
    expect_version(kind, version)
    if repository.has_items(actor.scope, code):
        raise ConflictError(f"dictionary '{code}' still has items: delete them first")
    repository.delete_type(actor, kind)


def list_items(
    actor: Actor, type_code: str, *, language: str | None, parent: str | None, enabled_only: bool
) -> tuple[Entry, ...]:
    """A type's items for a form: one cached read (the stamps) on a warm container."""
    found = dictionaries.items(actor.scope, type_code)
    if found is None:
        raise NotFoundError(f"no dictionary '{type_code}'")
    return tuple(e for e in found if (e.enabled or not enabled_only) and (parent is None or (e.parent or "") == parent))


def _writable_items(scope: Scope, type_code: str) -> tuple[Entry, ...]:
    if type_code in dictionaries.SYSTEM:
        raise _system_refusal(type_code)
    found = dictionaries.items(scope, type_code)
    if found is None:
        raise NotFoundError(f"no dictionary '{type_code}'")
    return found


def _check_parent(entries: tuple[Entry, ...], code: str, parent: str | None) -> None:
    """`parent` names another item of the type, and `code` is not above it (no cycle)."""
    if parent is None:
        return
    by_code = {e.code: e for e in entries}
    if parent not in by_code:
        raise _invalid("parent", f"no item '{parent}' in this dictionary")
    seen: set[str] = set()
    at: str | None = parent
    while at is not None and at not in seen:
        if at == code:
            raise _invalid("parent", "an item cannot lie under itself or one of its own items")
        seen.add(at)
        at = by_code[at].parent if at in by_code else None


def create_item(actor: Actor, type_code: str, body: CreateItemRequest) -> Entry:
    entries = _writable_items(actor.scope, type_code)
    if len(entries) >= MAX_ITEMS:
        raise ConflictError(f"dictionary '{type_code}' holds {MAX_ITEMS} items, the most one may")
    _check_parent(entries, body.code, body.parent)
    item = DictionaryItem.new(
        actor.scope,
        type_code,
        body.code,
        label=body.label,
        value=body.value if body.value is not None else body.code,
        order=body.order,
        enabled=body.enabled,
        translations=dict(body.translations) or None,
        parent=body.parent,
    )
    repository.create_item(actor, item)
    return dictionaries.entry_of(item)


def _own_item(scope: Scope, type_code: str, code: str) -> DictionaryItem:
    item = repository.find_item(scope, type_code, code)
    if item is None:
        raise NotFoundError(f"no item '{code}' in dictionary '{type_code}'")
    return item


def update_item(actor: Actor, type_code: str, code: str, body: UpdateItemRequest) -> Entry:
    entries = _writable_items(actor.scope, type_code)
    item = _own_item(actor.scope, type_code, code)
    expect_version(item, body.version)
    before = item.snapshot()
    for name in ("label", "value", "order", "enabled"):
        if getattr(body, name) is not None:
            setattr(item, name, getattr(body, name))
    if body.translations is not None:
        item.translations = dict(body.translations) or None
    if "parent" in body.model_fields_set:
        _check_parent(entries, code, body.parent)
        item.parent = body.parent
    if item.snapshot() != before:
        repository.save_item(actor, item, before=before)
    return dictionaries.entry_of(item)


def delete_item(actor: Actor, type_code: str, code: str, version: int | None) -> None:
    entries = _writable_items(actor.scope, type_code)
    item = _own_item(actor.scope, type_code, code)
    expect_version(item, version)
    under = [e.code for e in entries if e.parent == code]
    if under:
        raise ConflictError(f"items {', '.join(sorted(under))} lie under '{code}': move or delete them first")
    repository.delete_item(actor, item)


# -- parameters -------------------------------------------------------------------------
def response(parameter: Parameter) -> ParameterResponse:
    return ParameterResponse(
        key=parameter.key,
        type=parameter.type,
        value=parameters.MASK if parameter.secret else parameter.value,
        description=parameter.description,
        editable=bool(parameter.editable),
        secret=bool(parameter.secret),
        json_schema=parameter.json_schema,
        version=int(parameter.version or 0),
    )


def _check_value(kind: str, value: Any, schema: dict[str, Any] | None, field: str) -> None:
    if schema is not None and kind != "json":
        raise _invalid("json_schema", "applies to json parameters only")
    if schema is not None and (why := parameters.schema_problem(schema)):
        raise _invalid("json_schema", why)
    if why := parameters.problem(kind, value, schema):
        raise _invalid(field, why)


def list_parameters(actor: Actor) -> list[Parameter]:
    return repository.all_parameters(actor.scope)


def get_parameter(actor: Actor, key: str) -> Parameter:
    found = repository.find_parameter(actor.scope, key)
    if found is None:
        raise NotFoundError(f"no parameter '{key}'")
    return found


def create_parameter(actor: Actor, body: CreateParameterRequest) -> Parameter:
    schema = dict(body.json_schema) if body.json_schema is not None else None
    _check_value(body.type, body.value, schema, "value")
    parameter = Parameter.new(
        actor.scope,
        body.key,
        type=body.type,
        value=body.value,
        description=body.description,
        editable=body.editable,
        secret=body.secret,
        json_schema=schema,
    )
    repository.create_parameter(actor, parameter)
    return parameter


def _not_editable(key: str) -> ConflictError:
    return ConflictError(f"parameter '{key}' is not editable")


def update_parameter(actor: Actor, key: str, body: UpdateParameterRequest) -> Parameter:
    parameter = get_parameter(actor, key)
    expect_version(parameter, body.version)
    before = parameter.snapshot()
    value = body.value if "value" in body.model_fields_set else parameter.value
    schema = dict(body.json_schema) if body.json_schema is not None else parameter.json_schema
    if not parameter.editable and (value != parameter.value or schema != parameter.json_schema):
        raise _not_editable(key)
    _check_value(parameter.type, value, schema, "value")
    description = body.description if body.description is not None else parameter.description
    if (value, schema, description) != (parameter.value, parameter.json_schema, parameter.description):
        parameter.value, parameter.json_schema, parameter.description = value, schema, description
        repository.save_parameter(actor, parameter, before=before)
    return parameter


def delete_parameter(actor: Actor, key: str, version: int | None) -> None:
    parameter = get_parameter(actor, key)
    expect_version(parameter, version)
    if not parameter.editable:
        raise _not_editable(key)
    repository.delete_parameter(actor, parameter)


def batch_update(actor: Actor, body: BatchUpdateRequest) -> list[Parameter]:
    """New values for several parameters: every one checked first, then one transaction (all or none)."""
    current = {p.key: p for p in repository.all_parameters(actor.scope)}
    problems: list[FieldProblem] = []
    changed: list[tuple[Parameter, dict[str, Any]]] = []
    for key, value in body.values.items():
        parameter = current.get(key)
        if parameter is None:
            problems.append(FieldProblem(f"values.{key}", "no such parameter"))
        elif not parameter.editable and value != parameter.value:
            problems.append(FieldProblem(f"values.{key}", "is not editable"))
        elif why := parameters.problem(parameter.type, value, parameter.json_schema):
            problems.append(FieldProblem(f"values.{key}", why))
        elif value != parameter.value:
            before = parameter.snapshot()
            parameter.value = value
            changed.append((parameter, before))
    if problems:
        raise ValidationError(f"{len(problems)} value(s) not valid; nothing was saved", errors=problems)
    if changed:
        repository.save_parameters(actor, "parameter.update", [], changed)
    return [current[key] for key in body.values]


def export(actor: Actor) -> ParameterDocument:
    """Every parameter as an importable document; a secret one without its value."""
    return ParameterDocument(
        parameters=[
            ParameterExport(
                key=p.key,
                type=p.type,  # type: ignore[arg-type]
                value=None if p.secret else p.value,
                description=p.description,
                editable=bool(p.editable),
                secret=bool(p.secret),
                json_schema=p.json_schema,
            )
            for p in repository.all_parameters(actor.scope)
        ]
    )


def _import_problem(given: ParameterExport, existing: Parameter | None, value: Any) -> str | None:
    if existing is not None and existing.type != given.type:
        return f"is a {existing.type} parameter, not {given.type}"
    if given.json_schema is not None and (given.type != "json" or parameters.schema_problem(given.json_schema)):
        return "has a json_schema that is not a valid JSON Schema of a json parameter"
    if existing is None and value is None and given.secret:
        return "is a new secret parameter without a value"
    if existing is not None and not existing.editable and value != existing.value:
        return "is not editable"
    return parameters.problem(given.type, value, given.json_schema)


def import_document(actor: Actor, document: ParameterDocument) -> ParameterImportResponse:
    """Create the parameters the document adds and update those it changes: all in one transaction.

    A secret parameter exported without its value keeps the value it has.
    """
    current = {p.key: p for p in repository.all_parameters(actor.scope)}
    problems: list[FieldProblem] = []
    created: list[Parameter] = []
    changed: list[tuple[Parameter, dict[str, Any]]] = []
    keys_seen: set[str] = set()
    for n, given in enumerate(document.parameters):
        existing = current.get(given.key)
        value = existing.value if existing is not None and given.secret and given.value is None else given.value
        schema = dict(given.json_schema) if given.json_schema is not None else None
        why = "appears twice" if given.key in keys_seen else _import_problem(given, existing, value)
        keys_seen.add(given.key)
        if why:
            problems.append(FieldProblem(f"parameters.{n}.{given.key}", why))
            continue
        fields = {
            "type": given.type,
            "value": value,
            "description": given.description,
            "editable": given.editable,
            "secret": given.secret,
            "json_schema": schema,
        }
        if existing is None:
            created.append(Parameter.new(actor.scope, given.key, **fields))
            continue
        before = existing.snapshot()
        was = existing.value
        for name, new in fields.items():
            setattr(existing, name, new)
        if existing.snapshot() != before or was != value:
            changed.append((existing, before))
    if problems:
        raise ValidationError(f"{len(problems)} parameter(s) not valid; nothing was imported", errors=problems)
    if created or changed:
        repository.save_parameters(actor, "parameter.import", created, changed)
    unchanged = len(document.parameters) - len(created) - len(changed)
    return ParameterImportResponse(created=len(created), updated=len(changed), unchanged=unchanged)
