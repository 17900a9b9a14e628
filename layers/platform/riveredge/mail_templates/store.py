"""A tenant's mail templates as senders and previews use them: :func:`compose` picks, checks and renders.

A tenant's template of a system type's code overrides the shipped default in its language; a template of
the organisation's own code declares its variables. :func:`compose` picks what a mail of `code` is built
from, language by language (the one asked for, then the tenant's default language, then any)::

    1. the tenant's active template in that language (or in a language of the same base: en-GB -> en-US)
    2. the system type's shipped default in that language

so an inactive override falls back to the shipped default, and an inactive template of an own code is
not sendable (NotFoundError). The global variables (:mod:`riveredge.mail_templates.global_variables`)
are merged under the caller's context, every part is checked against the type's variables and the global
ones, and rendered by :mod:`riveredge.rendering` (HTML autoescaped, subjects one line of text), compiled
once per container under ``<template id>:<version>`` (``system:<code>:<language>`` for a default).

Reads: the tenant's templates (no bodies) come from the per-container cache (kind ``email_templates``,
bumped by every change), a version's content from an LRU of its own (a version never changes). A warm
compose costs the request's stamp Query and the tenant item's GetItem (``company_name``), nothing more.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from threading import Lock
from types import MappingProxyType
from typing import Any

from riveredge import config_cache, keys, mail_templates, rendering, site
from riveredge.db.mail_templates import EmailTemplate, EmailTemplateVersion
from riveredge.errors import FieldProblem, NotFoundError, ValidationError
from riveredge.mail_templates import Body, TemplateType, Variable
from riveredge.mail_templates.global_variables import definitions, values
from riveredge.scope import Scope

KIND = "email_templates"  # the config stamp every template change bumps
CONTENT_CACHE_SIZE = 256
# the request field each rendering kind is checked under
FIELDS: dict[rendering.Kind, str] = {"subject": "subject", "html": "html_body", "text": "text_body"}


@dataclass(frozen=True)
class Composed:
    """A mail built from a template: what it is, which template and version made it, and its three parts."""

    code: str
    category: str  # auth | notification | collaboration | marketing
    language: str
    template_id: str | None  # None: the system default
    version: int | None  # None: the system default
    subject: str
    html: str
    text: str


@dataclass(frozen=True)
class Head:
    """A tenant template's current state without its bodies (what the cache holds; never a live model)."""

    template_id: str
    code: str
    language: str
    name: str
    category: str
    is_active: bool
    is_system: bool
    version: int
    variables: tuple[Variable, ...]  # a custom code's declared ones (empty for an override)


@dataclass(frozen=True)
class Content:
    """One version's parts and fields, as saved."""

    template_id: str
    number: int
    name: str
    category: str
    description: str | None
    is_active: bool
    variables: tuple[Variable, ...]
    body: Body
    action: str
    source_version: int | None


def variables_of(raw: Iterable[Mapping[str, Any]] | None) -> tuple[Variable, ...]:
    """Declared variables from their stored shape ({key, label, type, example, required})."""
    return tuple(
        Variable(
            str(v["key"]),
            MappingProxyType({"en-US": str(v.get("label") or v["key"])}),
            str(v.get("type") or "string"),
            v.get("example"),
            bool(v.get("required")),
        )
        for v in raw or ()
    )


def head_of(item: EmailTemplate) -> Head:
    return Head(
        template_id=item.template_id,
        code=item.code,
        language=item.language,
        name=item.name,
        category=item.category,
        is_active=bool(item.is_active),
        is_system=bool(item.is_system),
        version=int(item.version or 0),
        variables=variables_of(item.variables),
    )


def content_of(item: EmailTemplateVersion) -> Content:
    return Content(
        template_id=item.template_id,
        number=int(item.number),
        name=item.name,
        category=item.category,
        description=item.description,
        is_active=bool(item.is_active),
        variables=variables_of(item.variables),
        body=Body(item.subject, item.html_body, item.text_body or ""),
        action=item.action,
        source_version=None if item.source_version is None else int(item.source_version),
    )


# -- reads --------------------------------------------------------------------------------------


def _load_heads(scope: Scope) -> tuple[Head, ...]:
    found = EmailTemplate.query(keys.email_templates(scope), consistent_read=True)
    return tuple(head_of(t) for t in found if isinstance(t, EmailTemplate))


def heads(scope: Scope) -> tuple[Head, ...]:
    """Every template of the tenant (current state, no bodies), from the per-container cache."""
    return config_cache.cached(scope, KIND, "heads", lambda: _load_heads(scope))


_contents: OrderedDict[tuple[str, str, int], Content] = OrderedDict()
_lock = Lock()


def content(scope: Scope, template_id: str, number: int) -> Content:
    """Version `number` of a template (NotFoundError if there is none), cached: versions never change."""
    key = (scope.prefix, template_id, number)
    with _lock:
        hit = _contents.get(key)
        if hit is not None:
            _contents.move_to_end(key)
            return hit
    item = EmailTemplateVersion.get_or_404(
        keys.email_template_version(scope, template_id, number), missing=f"the template has no version {number}"
    )
    found = content_of(item)
    with _lock:
        _contents[key] = found
        while len(_contents) > CONTENT_CACHE_SIZE:
            _contents.popitem(last=False)
    return found


def forget() -> None:
    """Drop this container's cached versions (tests that count DynamoDB calls start cold)."""
    with _lock:
        _contents.clear()


# -- checking and rendering ---------------------------------------------------------------------


def known_variables(scope: Scope, variables: Iterable[Variable]) -> tuple[str, ...]:
    """What a template may use: its own variables and every global variable of the tenant."""
    return (*(v.key for v in variables), *(g.key for g in definitions(scope)))


def check(scope: Scope, body: Body, variables: Iterable[Variable]) -> list[FieldProblem]:
    """Everything wrong with a template's parts before it is saved (fields subject / html_body / text_body)."""
    known = known_variables(scope, variables)
    problems: list[FieldProblem] = []
    for kind, source in _parts(body):
        problems.extend(rendering.check(source, field=FIELDS[kind], kind=kind, variables=known))
    return problems


def render(
    scope: Scope,
    body: Body,
    context: Mapping[str, Any],
    variables: Sequence[Variable],
    *,
    key: str | None,
) -> tuple[str, str, str]:
    """(subject, html, text) of `body` with the global variables under `context`; ValidationError naming the
    part (subject / html_body / text_body) and the problem: syntax, unknown variable or filter, missing
    required variable, a limit. Every part is checked before any is rendered, so all problems come at once."""
    known = known_variables(scope, variables)
    merged = {**values(scope), **context}
    errors = [
        FieldProblem(f"variables.{v.key}", f"missing required variable '{v.key}'")
        for v in variables
        if v.required and (merged.get(v.key) is None or merged.get(v.key) == "")
    ]
    parts: list[str] = []
    for kind, source in _parts(body):
        try:
            parts.append(rendering.render(source, merged, field=FIELDS[kind], kind=kind, variables=known, key=key))
        except ValidationError as error:
            errors.extend(error.errors)
    if errors:
        raise ValidationError("the template cannot be rendered", errors=errors)
    return parts[0], parts[1], parts[2]


def _parts(body: Body) -> tuple[tuple[rendering.Kind, str], ...]:
    return (("subject", body.subject), ("html", body.html), ("text", body.text))


# -- picking ------------------------------------------------------------------------------------


def language_match(available: Iterable[str], wanted: str) -> str | None:
    """`wanted` if available, else an available language of the same base (en-GB -> en-US), else None."""
    offered = sorted(available)
    if wanted in offered:
        return wanted
    base = wanted.split("-", maxsplit=1)[0].lower()
    return next((code for code in offered if code.split("-")[0].lower() == base), None)


def _system_default(kind: TemplateType, language: str) -> tuple[str, Body] | None:
    chosen = language_match(kind.defaults, language)
    return None if chosen is None else (chosen, kind.defaults[chosen])


def pick(scope: Scope, code: str, language: str | None = None) -> tuple[Head | None, str, Body | None]:
    """What a mail of `code` is built from: (the tenant's template, its language, None) or (None, language,
    the shipped default). NotFoundError for an unknown code, or an own code without an active template."""
    kind = mail_templates.get(code)
    mine = [h for h in heads(scope) if h.code == code]
    active = {h.language: h for h in mine if h.is_active}
    if kind is None and not mine:
        raise NotFoundError(f"no mail template '{code}'")
    if kind is None and not active:
        raise NotFoundError(f"the mail template '{code}' is not active")
    wanted = [w for w in dict.fromkeys((language, site.default_language(scope))) if w]
    for asked in wanted:
        chosen = language_match(active, asked)
        if chosen is not None:
            return active[chosen], chosen, None
        shipped = _system_default(kind, asked) if kind is not None else None
        if shipped is not None:
            return None, shipped[0], shipped[1]
    if active:
        chosen = sorted(active)[0]
        return active[chosen], chosen, None
    default = kind.default(None) if kind is not None else None
    if kind is None or default is None:
        raise NotFoundError(f"the mail template '{code}' has no body to send")
    return None, next(c for c, b in kind.defaults.items() if b is default), default


def compose(scope: Scope, code: str, context: Mapping[str, Any], language: str | None = None) -> Composed:
    """The mail of `code` for `context` in `language` (see the module's docstring for the choice).

    Raises NotFoundError for an unknown code or an own code without an active template, ValidationError
    naming the part and the problem (missing required variable, syntax error, unknown variable) otherwise.
    """
    head, chosen, default = pick(scope, code, language)
    if head is None:
        kind = mail_templates.get(code)
        assert kind is not None and default is not None  # pick() answers a default only for a known type
        subject, html, text = render(scope, default, context, kind.variables, key=f"system:{code}:{chosen}")
        return Composed(code, kind.category, chosen, None, None, subject, html, text)
    found = content(scope, head.template_id, head.version)
    variables = variables_for(head.code, found.variables)
    subject, html, text = render(scope, found.body, context, variables, key=f"{head.template_id}:{head.version}")
    return Composed(code, head.category, chosen, head.template_id, head.version, subject, html, text)


def variables_for(code: str, declared: Sequence[Variable]) -> tuple[Variable, ...]:
    """A template's variables: its system type's (an override), else the ones it declares."""
    kind = mail_templates.get(code)
    return kind.variables if kind is not None else tuple(declared)


def examples(variables: Iterable[Variable]) -> dict[str, Any]:
    """The variables' example values (what a preview renders with unless the caller sends others)."""
    return {v.key: v.example for v in variables if v.example is not None}


def preview(
    scope: Scope,
    body: Body,
    variables: Sequence[Variable],
    given: Mapping[str, Any],
    *,
    key: str | None = None,
) -> tuple[str, str, str]:
    """`body` rendered with the variables' examples under what the caller `given` (globals under both)."""
    return render(scope, body, {**examples(variables), **given}, variables, key=key)
