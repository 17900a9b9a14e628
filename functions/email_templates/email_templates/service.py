"""Template types and global variables: the metadata is shipped (and registered by modules); the
organisation sets the static global variables and adds its own."""

from __future__ import annotations

from riveredge import mail_templates
from riveredge.actor import Actor
from riveredge.clock import utcnow
from riveredge.db.changes import expect_version
from riveredge.db.config import MailGlobal
from riveredge.errors import ConflictError, NotFoundError
from riveredge.mail_templates import TemplateType
from riveredge.mail_templates.global_variables import (
    BUILT_IN,
    BUILT_IN_KEYS,
    GlobalVariable,
    definitions,
    value_of,
    variable_of,
)

from email_templates import repository
from email_templates.models import CreateGlobalVariableRequest, UpdateGlobalVariableRequest

MAX_OWN = 100  # an organisation's own global variables


def template_types(category: str | None) -> list[TemplateType]:
    return [t for t in mail_templates.types() if category is None or t.category == category]


def template_type(code: str) -> TemplateType:
    found = mail_templates.get(code)
    if found is None:
        raise NotFoundError(f"no template type '{code}'")
    return found


def valued(actor: Actor, variable: GlobalVariable) -> tuple[GlobalVariable, str]:
    return variable, value_of(actor.scope, variable)


def global_variables(actor: Actor) -> list[tuple[GlobalVariable, str]]:
    """Every variable with its value now (one moment for all of them)."""
    now = utcnow()
    return [(v, value_of(actor.scope, v, now)) for v in definitions(actor.scope)]


def _one(actor: Actor, key: str) -> GlobalVariable:
    found = next((v for v in definitions(actor.scope) if v.key == key), None)
    if found is None:
        raise NotFoundError(f"no global variable '{key}'")
    return found


def create(actor: Actor, body: CreateGlobalVariableRequest) -> GlobalVariable:
    if body.key in BUILT_IN_KEYS:
        raise ConflictError(f"'{body.key}' is a built-in global variable; change its value with PUT")
    if sum(1 for v in definitions(actor.scope) if not v.system) >= MAX_OWN:
        raise ConflictError(f"the organisation has {MAX_OWN} global variables of its own already")
    item = MailGlobal.new(actor.scope, body.key, label=body.label, value=body.value, description=body.description)
    repository.create(actor, item)
    return variable_of(item)


def update(actor: Actor, key: str, body: UpdateGlobalVariableRequest) -> GlobalVariable:
    variable = _one(actor, key)
    if not variable.editable:
        raise ConflictError(
            f"'{key}' is computed when a mail is rendered ({variable.value_type}); it has no value to set"
        )
    stored = repository.find(actor.scope, key)
    built_in = next((v for v in BUILT_IN if v.key == key), None)
    if stored is None:  # a built-in static variable's first value (version 0)
        label = built_in.labels["en-US"] if built_in else key
        item = MailGlobal.new(actor.scope, key, label=label, value="", description=None)
        expect_version(item, body.version)
        before = None
    else:
        expect_version(stored, body.version)
        before = stored.snapshot()
        item = stored
    given = body.model_fields_set
    if "value" in given and body.value is not None:
        item.value = body.value
    if built_in is None:
        if "label" in given and body.label is not None:
            item.label = body.label
        if "description" in given:
            item.description = body.description
    if before is None or item.snapshot() != before:
        repository.save(actor, item, before=before)
    return variable_of(item)


def delete(actor: Actor, key: str, version: int | None) -> None:
    if key in BUILT_IN_KEYS:
        raise ConflictError(f"'{key}' is a built-in global variable and cannot be deleted")
    stored = repository.find(actor.scope, key)
    if stored is None:
        raise NotFoundError(f"no global variable '{key}'")
    expect_version(stored, version)
    repository.delete(actor, stored)
