"""Template types and global variables: the metadata is shipped (and registered by modules); the
organisation sets the static global variables and adds its own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pynamodb.expressions.condition import Condition
from riveredge import cursors, keys, mail, mail_templates, site
from riveredge.actor import Actor
from riveredge.clock import new_id, utcnow
from riveredge.db.changes import expect_version
from riveredge.db.config import MailGlobal
from riveredge.db.mail_templates import MAX_HTML_BYTES, MAX_TEXT_BYTES, EmailTemplate, EmailTemplateVersion
from riveredge.db.models import User
from riveredge.errors import ConflictError, FieldProblem, ForbiddenError, NotFoundError, ValidationError
from riveredge.mail_templates import Body, TemplateType, Variable, store
from riveredge.mail_templates.global_variables import (
    BUILT_IN,
    BUILT_IN_KEYS,
    GlobalVariable,
    definitions,
    value_of,
    variable_of,
)

from email_templates import repository
from email_templates.models import (
    CreateEmailTemplateRequest,
    CreateGlobalVariableRequest,
    PreviewRequest,
    ResetRequest,
    RollbackRequest,
    TestSendRequest,
    UpdateEmailTemplateRequest,
    UpdateGlobalVariableRequest,
    VariableDeclaration,
)

MAX_OWN = 100  # an organisation's own global variables
MAX_TEMPLATES = 1000  # an organisation's templates (every code and language; the senders' cache holds them all)
SEND_TO_OTHERS = "mail.send"  # a test to an address other than the caller's own


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


# -- templates ---------------------------------------------------------------------------------

_STALE = "the template has changed since it was read; read it again"


def _bytes(text: str | None) -> int:
    return len((text or "").encode("utf-8", "surrogatepass"))


def _checked(actor: Actor, body: Body, variables: Sequence[Variable]) -> None:
    """Refuse (422, naming subject / html_body / text_body) a template that could not be sent as saved."""
    problems = []
    for name, text, limit in (("html_body", body.html, MAX_HTML_BYTES), ("text_body", body.text, MAX_TEXT_BYTES)):
        size = _bytes(text)
        if size > limit:
            problems.append(FieldProblem(name, f"the template is {size:,} bytes; at most {limit:,} are allowed"))
    if not problems:
        problems = store.check(actor.scope, body, variables)
    if problems:
        raise ValidationError("the template cannot be saved", errors=problems)


def _declared(given: Sequence[VariableDeclaration] | None) -> list[dict[str, Any]] | None:
    if given is None:
        return None
    seen: set[str] = set()
    for n, variable in enumerate(given):
        if variable.key in seen:
            raise ValidationError(
                "variables are not valid",
                errors=[FieldProblem(f"variables.{n}.key", f"'{variable.key}' is declared twice")],
            )
        seen.add(variable.key)
    return [v.model_dump(mode="json") for v in given]


def _system_fields(kind: TemplateType, category: str | None, variables: object) -> None:
    """A system type's template takes its category and variables from the type."""
    problems = []
    if category is not None and category != kind.category:
        problems.append(FieldProblem("category", f"'{kind.code}' is a system type of category {kind.category}"))
    if variables is not None:
        problems.append(FieldProblem("variables", f"'{kind.code}' is a system type: its variables are its metadata's"))
    if problems:
        raise ValidationError("the template is not valid", errors=problems)


def list_templates(
    actor: Actor,
    *,
    code: str | None,
    category: str | None,
    language: str | None,
    is_active: bool | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[EmailTemplate], str | None]:
    """A page of the organisation's templates, oldest first, filtered (a page may hold fewer than `limit`)."""
    wanted = {"code": code, "category": category, "language": language, "is_active": is_active}
    query = cursors.fingerprint({"route": "email-templates", **wanted})
    start = cursors.decode(actor.scope, query, cursor)
    condition: Condition | None = None
    for attribute, value in (
        (EmailTemplate.code, code),
        (EmailTemplate.category, category),
        (EmailTemplate.language, language),
        (EmailTemplate.is_active, is_active),
    ):
        if value is not None:
            term = attribute == value
            condition = term if condition is None else condition & term
    items, last = repository.templates_page(actor.scope, condition, limit, start)
    return items, cursors.encode(actor.scope, query, last)


def get_template(actor: Actor, template_id: str) -> tuple[EmailTemplate, store.Content]:
    item = repository.template(actor.scope, template_id)
    return item, store.content(actor.scope, template_id, int(item.version or 0))


def effective_variables(item: EmailTemplate) -> tuple[Variable, ...]:
    return store.variables_for(item.code, store.variables_of(item.variables))


def _version(
    actor: Actor, item: EmailTemplate, number: int, body: Body, action: str, source: int | None = None
) -> EmailTemplateVersion:
    """Version `number` of `item` as it is now (its fields) with `body`."""
    return EmailTemplateVersion.new(
        actor.scope,
        item.template_id,
        number,
        action=action,
        source_version=source,
        name=item.name,
        category=item.category,
        description=item.description,
        is_active=item.is_active,
        variables=item.variables,
        subject=body.subject,
        html_body=body.html,
        text_body=body.text,
        created_by=actor.user_id,
    )


def _sized(item: EmailTemplate, body: Body) -> None:
    item.html_bytes = _bytes(body.html)
    item.text_bytes = _bytes(body.text)


def create_template(actor: Actor, request: CreateEmailTemplateRequest) -> tuple[EmailTemplate, store.Content]:
    if len(store.heads(actor.scope)) >= MAX_TEMPLATES:
        raise ConflictError(f"the organisation has {MAX_TEMPLATES} mail templates already")
    kind = mail_templates.get(request.code)
    language = request.language or site.default_language(actor.scope)
    declared = _declared(request.variables)
    if kind is not None:
        _system_fields(kind, request.category, request.variables)
        name = request.name or kind.name(language)
        category = kind.category
    else:
        if request.name is None:
            raise ValidationError(
                "the template is not valid", errors=[FieldProblem("name", "an own code's template needs a name")]
            )
        name, category = request.name, request.category or "notification"
    item = EmailTemplate.new(
        actor.scope,
        new_id(),
        code=request.code,
        language=language,
        name=name,
        category=category,
        description=request.description,
        is_active=request.is_active,
        is_system=kind is not None,
        variables=declared,
        created_by=actor.user_id,
    )
    body = Body(request.subject, request.html_body, request.text_body)
    _checked(actor, body, effective_variables(item))
    _sized(item, body)
    item.updated_by = actor.user_id
    first = _version(actor, item, 1, body, "create")
    repository.create_template(actor, item, first)
    return item, store.content_of(first)


def _write(
    actor: Actor, item: EmailTemplate, before: dict[str, Any], body: Body, action: str, source: int | None = None
) -> tuple[EmailTemplate, store.Content]:
    _checked(actor, body, effective_variables(item))
    _sized(item, body)
    item.updated_by = actor.user_id
    following = _version(actor, item, int(item.version or 0) + 1, body, action, source)
    repository.save_template(actor, item, following, before=before, action=action)
    return item, store.content_of(following)


def update_template(
    actor: Actor, template_id: str, request: UpdateEmailTemplateRequest
) -> tuple[EmailTemplate, store.Content]:
    item, current = get_template(actor, template_id)
    expect_version(item, request.version)
    kind = mail_templates.get(item.code) if item.is_system else None
    given = request.model_fields_set
    if kind is not None:
        _system_fields(kind, request.category, request.variables)
    before = item.snapshot()
    if request.name is not None:
        item.name = request.name
    if "description" in given:
        item.description = request.description
    if request.category is not None:
        item.category = request.category
    if request.is_active is not None:
        item.is_active = request.is_active
    if request.variables is not None:
        item.variables = _declared(request.variables)
    old = current.body
    body = Body(
        request.subject if request.subject is not None else old.subject,
        request.html_body if request.html_body is not None else old.html,
        request.text_body if request.text_body is not None else old.text,
    )
    return _write(actor, item, before, body, "update")


def rollback(actor: Actor, template_id: str, request: RollbackRequest) -> tuple[EmailTemplate, store.Content]:
    """A new version with the content (fields and bodies) of `to_version`; whether it is active stays."""
    item = repository.template(actor.scope, template_id)
    expect_version(item, request.version)
    current = int(item.version or 0)
    if request.to_version == current:
        raise ValidationError(
            "nothing to roll back", errors=[FieldProblem("to_version", f"{current} is the current version")]
        )
    if request.to_version > current:
        raise ValidationError(
            "no such version", errors=[FieldProblem("to_version", f"the template's latest version is {current}")]
        )
    old = store.content(actor.scope, template_id, request.to_version)
    before = item.snapshot()
    item.name, item.description = old.name, old.description
    if not item.is_system:
        item.category = old.category
        item.variables = [
            {"key": v.key, "label": v.label(), "type": v.type, "example": v.example, "required": v.required}
            for v in old.variables
        ] or None
    return _write(actor, item, before, old.body, "rollback", request.to_version)


def reset(actor: Actor, template_id: str, request: ResetRequest) -> tuple[EmailTemplate, store.Content]:
    """A system type's template back to the shipped default of its language (a new version)."""
    item = repository.template(actor.scope, template_id)
    expect_version(item, request.version)
    kind = mail_templates.get(item.code) if item.is_system else None
    if kind is None:
        raise ConflictError(f"'{item.code}' is not a system type: there is no default to reset to (delete it)")
    chosen = store.language_match(kind.defaults, item.language)
    default = kind.defaults[chosen] if chosen is not None else kind.default(None)
    if default is None:
        raise ConflictError(f"the system type '{item.code}' ships no default body")
    before = item.snapshot()
    item.name = kind.name(item.language)
    item.description = None
    return _write(actor, item, before, default, "reset")


def delete_template(actor: Actor, template_id: str, version: int | None) -> None:
    item = repository.template(actor.scope, template_id)
    expect_version(item, version)
    if item.is_system:
        raise ConflictError(
            f"'{item.code}' is a system template: it cannot be deleted; reset it to its default or switch it off"
        )
    repository.delete_template(actor, item)


def versions(
    actor: Actor, template_id: str, limit: int, cursor: str | None
) -> tuple[list[EmailTemplateVersion], str | None]:
    repository.template(actor.scope, template_id)  # 404 for a template the organisation does not have
    query = cursors.fingerprint({"route": "email-template-versions", "template_id": template_id})
    start = cursors.decode(actor.scope, query, cursor)
    items, last = repository.versions_page(actor.scope, template_id, limit, start)
    return items, cursors.encode(actor.scope, query, last)


def version(actor: Actor, template_id: str, number: int) -> tuple[EmailTemplate, EmailTemplateVersion]:
    item = repository.template(actor.scope, template_id)
    return item, repository.version(actor.scope, template_id, number)


# -- preview and test send -----------------------------------------------------------------------


def _draft(saved: Body, request: PreviewRequest) -> tuple[Body, bool]:
    """The parts to render (the saved ones, or the caller's unsaved draft of any of them) and whether any is new."""
    draft = Body(
        request.subject if request.subject is not None else saved.subject,
        request.html_body if request.html_body is not None else saved.html,
        request.text_body if request.text_body is not None else saved.text,
    )
    return draft, draft != saved


def preview(actor: Actor, template_id: str, request: PreviewRequest) -> tuple[EmailTemplate, tuple[str, str, str]]:
    item, current = get_template(actor, template_id)
    body, drafted = _draft(current.body, request)
    key = None if drafted else f"{item.template_id}:{int(item.version or 0)}"
    variables = effective_variables(item)
    return item, store.preview(actor.scope, body, variables, request.variables, key=key)


def _default(code: str, language: str | None, actor: Actor) -> tuple[TemplateType, str, Body]:
    kind = template_type(code)
    wanted = language or site.default_language(actor.scope)
    chosen = store.language_match(kind.defaults, wanted)
    body = kind.defaults[chosen] if chosen is not None else kind.default(None)
    if body is None:
        raise NotFoundError(f"the template type '{code}' ships no default body")
    return kind, chosen or next(c for c, b in kind.defaults.items() if b is body), body


def preview_default(
    actor: Actor, code: str, language: str | None, request: PreviewRequest
) -> tuple[str, tuple[str, str, str]]:
    """A system type's shipped default (or a draft of a new override of it) rendered with its examples."""
    kind, chosen, saved = _default(code, language, actor)
    body, drafted = _draft(saved, request)
    key = None if drafted else f"system:{code}:{chosen}"
    return chosen, store.preview(actor.scope, body, kind.variables, request.variables, key=key)


def _recipient(actor: Actor, to: str | None) -> str:
    """Who a test goes to: the caller (default), or another address for a caller who may send mail."""
    own = User.find(keys.user(actor.scope, actor.user_id))
    mine = own.email if own is not None else None
    if to is None or (mine is not None and to.lower() == mine.lower()):
        if mine is None:
            raise ValidationError("say where to send it", errors=[FieldProblem("to", "the caller has no address")])
        return mine
    if not actor.principal.can(SEND_TO_OTHERS):
        raise ForbiddenError(f"permission {SEND_TO_OTHERS} is required to send a test to another address")
    return to


def send_test(actor: Actor, template_id: str, request: TestSendRequest) -> tuple[str, str, EmailTemplate, str]:
    """Render the saved template with its examples under `variables`; queue it as a test (even inactive)."""
    repository.template(actor.scope, template_id)  # another organisation's template: 404 whatever is asked
    to = _recipient(actor, request.to)
    item, rendered = preview(actor, template_id, PreviewRequest(variables=request.variables))
    subject, html, text = rendered
    delivery_id = mail.send_raw(
        actor.scope,
        [to],
        subject,
        html,
        text,
        kind=item.code,
        category=item.category,
        test=True,
        template_id=item.template_id,
        template_version=int(item.version or 0),
        language=item.language,
    )
    return delivery_id, to, item, subject


def send_default_test(
    actor: Actor, code: str, language: str | None, request: TestSendRequest
) -> tuple[str, str, str, str]:
    """A test of a system type's shipped default: (delivery id, recipient, language, subject)."""
    kind, chosen, body = _default(code, language, actor)
    to = _recipient(actor, request.to)
    subject, html, text = store.preview(
        actor.scope, body, kind.variables, request.variables, key=f"system:{code}:{chosen}"
    )
    delivery_id = mail.send_raw(
        actor.scope, [to], subject, html, text, kind=code, category=kind.category, test=True, language=chosen
    )
    return delivery_id, to, chosen, subject
