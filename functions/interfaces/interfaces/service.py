"""API registry rules: an interface is checked whole when saved (its path, its parameters against the path's
templates, every JSON Schema, its auth type against its integration); a test call's values are checked
against those schemas before the call is made through the SSRF guard; the registry exports as OpenAPI 3.1."""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.parse
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from http import HTTPStatus
from typing import Any

from pynamodb.expressions.condition import Condition
from riveredge import cursors, integrations, json_schemas
from riveredge.actor import Actor
from riveredge.clock import iso, new_id, utcnow
from riveredge.db.changes import expect_version
from riveredge.db.config import Integration
from riveredge.db.interfaces import MAX_TEST_BODY_BYTES, TEST_RUN_DAYS, Interface, InterfaceTestRun
from riveredge.errors import ConflictError, FieldProblem, NotFoundError, ValidationError
from riveredge.outbound import OutboundError

from interfaces import repository
from interfaces.models import CreateInterfaceRequest, InterfaceTestRequest, UpdateInterfaceRequest

# One path segment's characters (RFC 3986 pchar), percent-escapes, and {name} templates.
_SEGMENT = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2}|\{[A-Za-z0-9_.\-]+\})*"
_PATH = re.compile(rf"^(?:/{_SEGMENT})+$")
_TEMPLATE = re.compile(r"\{([A-Za-z0-9_.\-]+)\}")
# Headers a parameter cannot be: HTTP's own, and those the auth type, request body and responses describe.
_RESERVED_HEADERS = frozenset(
    {"host", "content-length", "content-type", "accept", "authorization", "cookie", "transfer-encoding", "connection"}
)
_NO_BODY = frozenset({"GET", "HEAD"})
DEFAULT_API_KEY_HEADER = "X-API-Key"
MAX_SCHEMAS_BYTES = 16 * 1024  # each of parameters, request_body and responses, as JSON
MAX_EXPORT_BYTES = 4 * 1024 * 1024  # one OpenAPI document (a Lambda answer is at most 6 MB)
_KEPT_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "content-encoding",
        "content-language",
        "cache-control",
        "etag",
        "last-modified",
        "location",
        "retry-after",
        "date",
        "server",
        "www-authenticate",
        "x-request-id",
        "request-id",
        "x-correlation-id",
    }
)
_KEPT_PREFIXES = ("ratelimit-", "x-ratelimit-")


def _refuse(problems: list[FieldProblem], what: str = "the interface is not valid") -> None:
    if problems:
        raise ValidationError(what, errors=problems)


# -- the interface as saved -----------------------------------------------------------------------------
@dataclass
class Draft:
    """Every field of an interface, as the caller wants it saved (a create's body, or an update merged in)."""

    name: str
    method: str
    path: str
    group: str = "default"
    description: str | None = None
    integration_id: str | None = None
    parameters: list[dict[str, Any]] = field(default_factory=list)
    request_body: dict[str, Any] | None = None
    responses: dict[str, dict[str, Any]] = field(default_factory=dict)
    auth_type: str = "none"
    api_key_header: str | None = None
    tags: list[str] = field(default_factory=list)

    @classmethod
    def of_item(cls, item: Interface) -> Draft:
        return cls(
            name=item.name,
            method=item.method,
            path=item.path,
            group=item.group,
            description=item.description,
            integration_id=item.integration_id,
            parameters=list(item.parameters or []),
            request_body=item.request_body,
            responses=dict(item.responses or {}),
            auth_type=item.auth_type,
            api_key_header=item.api_key_header,
            tags=sorted(item.tags or []),
        )

    def attributes(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["tags"] = set(self.tags) or None
        values["parameters"] = self.parameters or None
        values["responses"] = self.responses or None
        values["name_search"] = self.name.casefold()
        return values


def _parameters(given: list[Any]) -> list[dict[str, Any]]:
    return [p.model_dump(by_alias=True, mode="json") for p in given]


def _responses(given: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {code: spec.model_dump(by_alias=True, mode="json") for code, spec in given.items()}


def _draft(body: CreateInterfaceRequest) -> Draft:
    return Draft(
        name=body.name,
        method=body.method,
        path=body.path,
        group=body.group,
        description=body.description,
        integration_id=body.integration_id,
        parameters=_parameters(body.parameters),
        request_body=body.request_body,
        responses=_responses(body.responses),
        auth_type=body.auth_type,
        api_key_header=body.api_key_header,
        tags=sorted(set(body.tags)),
    )


_NULLABLE = ("description", "integration_id", "request_body", "api_key_header")


def _merged(item: Interface, body: UpdateInterfaceRequest) -> Draft:
    """The interface as it would be with the update's fields (a field sent as null clears a nullable one)."""
    draft = Draft.of_item(item)
    given = body.model_fields_set - {"version"}
    changes: dict[str, Any] = {}
    for name in given:
        value = getattr(body, name)
        if name in _NULLABLE:
            changes[name] = value
        elif value is None:
            continue
        elif name == "parameters":
            changes[name] = _parameters(value)
        elif name == "responses":
            changes[name] = _responses(value)
        elif name == "tags":
            changes[name] = sorted(set(value))
        else:
            changes[name] = value
    if "auth_type" in changes and changes["auth_type"] != "api_key" and "api_key_header" not in given:
        changes["api_key_header"] = None  # it went with the auth type it was for
    return replace(draft, **changes)


def split_path(path: str) -> tuple[str | None, str]:
    """(the origin of an absolute URL, or None) and the path the OpenAPI export keys the operation by."""
    if "://" not in path:
        return None, path
    try:
        parts = urllib.parse.urlsplit(path)
    except ValueError:  # not a URL at all (its check says so, naming the field)
        return None, ""
    return f"{parts.scheme}://{parts.netloc}", parts.path or "/"


def route_of(path: str) -> str:
    """The claim's path: template names left out, since `/users/{id}` and `/users/{uid}` are one path."""
    return _TEMPLATE.sub("{}", split_path(path)[1])


def _place_problems(actor: Actor, draft: Draft, integration: Integration | None) -> list[FieldProblem]:
    """Where the path is: an absolute URL (checked as integrations check theirs, no DNS), or a path on the
    base URL of an api integration."""
    if "://" in draft.path:
        try:
            integrations.check_url(actor.scope, draft.path, field="path")
        except ValidationError as error:
            return list(error.errors)
        if "?" in draft.path or "#" in draft.path:
            return [FieldProblem("path", "must not carry a query or fragment: declare query parameters instead")]
    elif not draft.path.startswith("/"):
        return [FieldProblem("path", "must be an absolute http(s) URL, or a path starting with / on an integration")]
    elif draft.integration_id is None:
        return [FieldProblem("path", "a path needs an integration_id: the integration's base URL it is called on")]
    elif integration is not None and integration.type != "api":
        return [FieldProblem("path", f"a {integration.type} integration has no base URL: write an absolute URL")]
    return []


def _path_problems(actor: Actor, draft: Draft, integration: Integration | None) -> list[FieldProblem]:
    problems = _place_problems(actor, draft, integration)
    if problems:
        return problems
    path = split_path(draft.path)[1]
    segments = path.split("/")[1:]
    if not _PATH.match(path) or "" in segments[:-1]:
        problems.append(
            FieldProblem("path", "must be / and segments of URL characters, %XX escapes and {name} templates")
        )
    elif any(s in {".", ".."} for s in segments):
        problems.append(FieldProblem("path", "must not have . or .. segments"))
    elif len(names := _TEMPLATE.findall(path)) != len(set(names)):
        problems.append(FieldProblem("path", "names a template twice"))
    return problems


def _parameter_problems(draft: Draft) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    templates = _TEMPLATE.findall(split_path(draft.path)[1])
    seen: set[tuple[str, str]] = set()
    declared: set[str] = set()
    for n, parameter in enumerate(draft.parameters):
        where, name, location = f"parameters.{n}", str(parameter["name"]), str(parameter["in"])
        identity = (location, name.lower() if location == "header" else name)
        if identity in seen:
            problems.append(FieldProblem(f"{where}.name", f"the {location} parameter '{name}' is declared twice"))
        seen.add(identity)
        if location == "header" and not re.fullmatch(r"[A-Za-z0-9-]+", name):
            problems.append(FieldProblem(f"{where}.name", "a header name is letters, digits and -"))
        elif location == "header" and name.lower() in _RESERVED_HEADERS:
            problems.append(
                FieldProblem(f"{where}.name", f"{name} is described by the auth type, request body or responses")
            )
        if location == "path":
            declared.add(name)
            if name not in templates:
                problems.append(FieldProblem(f"{where}.name", f"is not in the path (write {{{name}}} in it)"))
            if not parameter["required"]:
                problems.append(FieldProblem(f"{where}.required", "a path parameter is always required"))
        problems += json_schemas.problems(parameter["schema"], f"{where}.schema")
    problems += [
        FieldProblem("path", f"{{{name}}} has no path parameter declared") for name in templates if name not in declared
    ]
    return problems


def _schema_problems(draft: Draft) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if draft.request_body is not None:
        if draft.method in _NO_BODY:
            problems.append(FieldProblem("request_body", f"a {draft.method} request has no body"))
        else:
            problems += json_schemas.problems(draft.request_body, "request_body")
    for code, spec in draft.responses.items():
        if spec.get("schema") is not None:
            problems += json_schemas.problems(spec["schema"], f"responses.{code}.schema")
    for name, value in (("parameters", draft.parameters), ("request_body", draft.request_body)):
        if len(json.dumps(value)) > MAX_SCHEMAS_BYTES:
            problems.append(FieldProblem(name, f"is over {MAX_SCHEMAS_BYTES // 1024} KiB as JSON"))
    if len(json.dumps(draft.responses)) > MAX_SCHEMAS_BYTES:
        problems.append(FieldProblem("responses", f"is over {MAX_SCHEMAS_BYTES // 1024} KiB as JSON"))
    return problems


def _auth_problems(draft: Draft, integration: Integration | None) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if draft.auth_type == "integration":
        if draft.integration_id is None:
            problems.append(FieldProblem("integration_id", "auth type integration needs the integration it uses"))
        elif integration is not None and integration.type == "api" and not integration.secret_arn:
            problems.append(FieldProblem("auth_type", "the integration has no key to send"))
    if draft.api_key_header is not None and draft.auth_type != "api_key":
        problems.append(FieldProblem("api_key_header", "is only for auth type api_key"))
    return problems


def _integration(actor: Actor, draft: Draft) -> tuple[Integration | None, list[FieldProblem]]:
    if draft.integration_id is None:
        return None, []
    found = repository.integration(actor.scope, draft.integration_id)
    if found is None:
        return None, [FieldProblem("integration_id", "no such integration")]
    if found.type == "webhook":
        return None, [FieldProblem("integration_id", "is a webhook: it receives calls, it describes no API")]
    return found, []


def _checked(actor: Actor, draft: Draft, interface_id: str) -> str:
    """Refuse (422, naming every field at fault) an interface that cannot be saved; answers its route."""
    integration, problems = _integration(actor, draft)
    problems += _path_problems(actor, draft, integration)
    problems += _parameter_problems(draft)
    problems += _schema_problems(draft)
    problems += _auth_problems(draft, integration)
    _refuse(problems)
    route = route_of(draft.path)
    names = _TEMPLATE.findall(split_path(draft.path)[1])
    for other in repository.holders(actor.scope, route, interface_id):
        theirs = _TEMPLATE.findall(split_path(other.path)[1])
        if other.method != draft.method and theirs != names:
            spelled = ", ".join(f"{{{n}}}" for n in theirs)
            message = f"{other.method} {other.path} is this path: name its parameters {spelled} as it does"
            _refuse([FieldProblem("path", message)])
    return route


# -- routes' services -------------------------------------------------------------------------------------
_ID = re.compile(r"^[0-9A-Za-z]{1,64}$")  # ids are ULIDs: anything else is no id of ours (and no key to ask for)


def get(actor: Actor, interface_id: str) -> Interface:
    found = repository.find(actor.scope, interface_id) if _ID.fullmatch(interface_id) else None
    if found is None:
        raise NotFoundError("no such interface")
    return found


def create(actor: Actor, body: CreateInterfaceRequest) -> Interface:
    draft = _draft(body)
    interface_id = new_id()
    route = _checked(actor, draft, interface_id)
    item = Interface.new(
        actor.scope,
        interface_id,
        **draft.attributes(),
        route=route,
        created_by=actor.user_id,
        updated_by=actor.user_id,
    )
    repository.create(actor, item)
    return item


def update(actor: Actor, interface_id: str, body: UpdateInterfaceRequest) -> Interface:
    item = get(actor, interface_id)
    expect_version(item, body.version)
    before, old = item.snapshot(), Draft.of_item(item)
    old_method, old_route = item.method, item.route
    draft = _merged(item, body)
    if draft == old:
        return item
    route = _checked(actor, draft, interface_id)
    for name, value in draft.attributes().items():
        setattr(item, name, value)
    item.route = route
    item.updated_by = actor.user_id
    repository.save(actor, item, before=before, old_method=old_method, old_route=old_route)
    return item


def delete(actor: Actor, interface_id: str, version: int | None) -> None:
    item = get(actor, interface_id)
    expect_version(item, version)
    repository.delete(actor, item)


def _filter(group: str | None, tag: str | None, method: str | None, q: str | None) -> Condition | None:
    condition: Condition | None = None
    terms = [
        Interface.group == group if group is not None else None,
        Interface.tags.contains(tag) if tag is not None else None,
        Interface.method == method if method is not None else None,
        Interface.name_search.contains(q.casefold()) if q else None,
    ]
    for term in terms:
        if term is not None:
            condition = term if condition is None else condition & term
    return condition


def list_interfaces(
    actor: Actor,
    *,
    group: str | None,
    tag: str | None,
    method: str | None,
    q: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Interface], str | None]:
    """A page of the tenant's interfaces, oldest first, filtered (a page may hold fewer than `limit`)."""
    query = cursors.fingerprint({"route": "interfaces", "group": group, "tag": tag, "method": method, "q": q})
    start = cursors.decode(actor.scope, query, cursor)
    items, last = repository.page(actor.scope, _filter(group, tag, method, q), limit, start)
    return items, cursors.encode(actor.scope, query, last)


# -- test calls -----------------------------------------------------------------------------------------
def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _read(schema: Any, value: Any) -> Any:
    """A parameter's text as its schema's integer, number or boolean (as a server reads `?limit=5`), else as is."""
    kinds = schema.get("type") if isinstance(schema, dict) else None
    kinds = [kinds] if isinstance(kinds, str) else kinds or []
    if not isinstance(value, str) or "string" in kinds:
        return value
    if "boolean" in kinds and value in ("true", "false"):
        return value == "true"
    for kind, parse in (("integer", int), ("number", float)):
        if kind in kinds:
            try:
                return parse(value)
            except ValueError:
                continue
    return value


def _credential_header(item: Interface) -> str | None:
    """The header a bearer / basic / api_key interface's tester sends the credential in."""
    if item.auth_type in ("bearer", "basic"):
        return "Authorization"
    if item.auth_type == "api_key":
        return item.api_key_header or DEFAULT_API_KEY_HEADER
    return None


@dataclass
class _Values:
    """A test call's values, checked."""

    problems: list[FieldProblem] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)


def _declared(item: Interface, location: str) -> dict[str, dict[str, Any]]:
    found = [p for p in item.parameters or [] if p["in"] == location]
    return {(str(p["name"]).lower() if location == "header" else str(p["name"])): p for p in found}


def _section(
    item: Interface, location: str, section: str, given: dict[str, Any], credential: str | None = None
) -> list[FieldProblem]:
    """The problems of one section of a test call (path_params, query, headers) against the declared ones."""
    declared = _declared(item, location)
    problems: list[FieldProblem] = []
    for name, value in given.items():
        key = name.lower() if location == "header" else name
        parameter = declared.get(key)
        if parameter is None:
            if key != (credential or "").lower():
                problems.append(FieldProblem(f"{section}.{name}", f"is not a {location} parameter of the interface"))
            continue
        schema = parameter["schema"]
        problems += json_schemas.errors(schema, _read(schema, value), f"{section}.{name}")
        if location == "path" and _text(value) in {"", ".", ".."}:
            problems.append(FieldProblem(f"{section}.{name}", "must not be empty, . or .."))
    sent = {n.lower() if location == "header" else n for n in given}
    problems += [
        FieldProblem(f"{section}.{p['name']}", "is required")
        for key, p in declared.items()
        if (p["required"] or location == "path") and key not in sent
    ]
    return problems


def _checked_call(item: Interface, body: InterfaceTestRequest) -> _Values:
    checked = _Values()
    credential = _credential_header(item)
    checked.problems += _section(item, "path", "path_params", body.path_params)
    checked.problems += _section(item, "query", "query", body.query)
    checked.problems += _section(item, "header", "headers", body.headers, credential)
    if credential is not None and credential.lower() not in {n.lower() for n in body.headers}:
        checked.problems.append(
            FieldProblem(
                f"headers.{credential}",
                f"is required: an interface of auth type {item.auth_type} is tested with its credential here",
            )
        )
    if body.body is not None:
        if item.method in _NO_BODY:
            checked.problems.append(FieldProblem("body", f"a {item.method} request has no body"))
        elif item.request_body is None:
            checked.problems.append(FieldProblem("body", "the interface documents no request body"))
        else:
            checked.problems += json_schemas.errors(item.request_body, body.body, "body")
    checked.headers = {name: _text(value) for name, value in body.headers.items()}
    return checked


def _url(item: Interface, integration: Integration | None, body: InterfaceTestRequest) -> str:
    """The URL of the call: the path's templates filled in (each value escaped whole) and the query added."""
    filled = _TEMPLATE.sub(lambda m: urllib.parse.quote(_text(body.path_params[m.group(1)]), safe=""), item.path)
    pairs = [
        (name, _text(one))
        for name, value in body.query.items()
        for one in (value if isinstance(value, list) else [value])
    ]
    if integration is None or split_path(item.path)[0] is not None:  # an absolute URL
        base = urllib.parse.urlsplit(filled)
        query = urllib.parse.urlencode(pairs)
        return urllib.parse.urlunsplit((base.scheme, base.netloc, base.path, query, ""))
    base = urllib.parse.urlsplit(str(integration.config["base_url"]))
    query = "&".join(q for q in (base.query, urllib.parse.urlencode(pairs)) if q)
    return urllib.parse.urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + filled, query, ""))


class _CallFailed(Exception):
    """The call could not be made as described (the integration's token could not be had): a failed run."""


def _token(actor: Actor, integration: Integration, secret: str | None) -> str:
    """A client-credentials access token of an OAuth 2 integration, asked for through the guard."""
    config = dict(integration.config or {})
    form = {"grant_type": "client_credentials"}
    if config.get("scopes"):
        form["scope"] = " ".join(config["scopes"])
    basic = base64.b64encode(f"{config['client_id']}:{secret or ''}".encode()).decode()
    headers = {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"}
    answer = integrations.call(
        actor.scope,
        "POST",
        str(config["token_url"]),
        headers=headers,
        body=urllib.parse.urlencode(form).encode(),
        field="integration_id",
    )
    if not 200 <= answer.status < 300:
        raise _CallFailed(f"the integration's token endpoint answered {answer.status}")
    try:
        token = json.loads(answer.body).get("access_token")
    except (ValueError, AttributeError):
        token = None
    if not isinstance(token, str) or not token:
        raise _CallFailed("the integration's token endpoint answered without an access_token")
    return token


def _credentials(actor: Actor, item: Interface, integration: Integration | None) -> dict[str, str]:
    """The headers that carry the integration's credentials (auth type integration)."""
    if item.auth_type != "integration" or integration is None:
        return {}
    secret = integrations.read_secret(integration.secret_arn) if integration.secret_arn else None
    if integration.type == "oauth2":
        return {"Authorization": f"Bearer {_token(actor, integration, secret)}"}
    config = dict(integration.config or {})
    scheme = str(config.get("auth_scheme") or "")
    return {str(config.get("auth_header") or "Authorization"): f"{scheme} {secret or ''}".strip()}


def _integration_of(actor: Actor, item: Interface) -> Integration | None:
    if item.integration_id is None:
        return None
    found = repository.integration(actor.scope, item.integration_id)
    if found is None:
        raise ConflictError("the interface's integration no longer exists: name another one")
    if not found.enabled:
        raise ConflictError("the interface's integration is switched off")
    return found


def _kept_headers(headers: dict[str, str] | Any) -> dict[str, str]:
    return {
        name: str(value)[:256]
        for name, value in sorted(dict(headers).items())
        if name in _KEPT_HEADERS or name.startswith(_KEPT_PREFIXES)
    }


def _body_text(raw: bytes) -> tuple[str, str]:
    """At most MAX_TEST_BODY_BYTES of the body: as text when it is UTF-8 (a character cut at the end dropped),
    else in base64."""
    head = raw[:MAX_TEST_BODY_BYTES]
    try:
        return head.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as error:
        if len(raw) > len(head) and error.start >= len(head) - 3:
            return head[: error.start].decode("utf-8"), "utf-8"
        return base64.b64encode(head).decode(), "base64"


def _documented(item: Interface, status: int) -> dict[str, Any] | None:
    responses = item.responses or {}
    return responses.get(str(status)) or responses.get(f"{status // 100}XX") or responses.get("default")


def _schema_check(item: Interface, status: int, raw: bytes) -> tuple[bool | None, list[FieldProblem]]:
    """Whether the body matched the schema documented for `status` (None: none is documented, or HEAD)."""
    spec = _documented(item, status)
    schema = spec.get("schema") if spec else None
    if schema is None or item.method == "HEAD":
        return None, []
    try:
        value = json.loads(raw)
    except ValueError:
        return False, [FieldProblem("body", "is not JSON")]
    problems = json_schemas.errors(schema, value, "body")
    return not problems, problems


def test(actor: Actor, interface_id: str, body: InterfaceTestRequest) -> InterfaceTestRun:
    """Make one call of the interface through the guard with the values sent (checked first: 422 naming the
    field) and record how it went (a refused URL is a 422 and records nothing: no connection was made)."""
    item = get(actor, interface_id)
    integration = _integration_of(actor, item)
    checked = _checked_call(item, body)
    _refuse(checked.problems, "the test call is not valid")
    url = _url(item, integration, body)
    headers = {"Accept": "application/json", **checked.headers}
    payload = None
    if body.body is not None:
        payload = json.dumps(body.body).encode()
        headers["Content-Type"] = "application/json"
    run = InterfaceTestRun.new(
        actor.scope,
        item.interface_id,
        new_id(),
        method=item.method,
        url=url,
        created_by=actor.user_id,
        ttl=utcnow().replace(microsecond=0) + timedelta(days=TEST_RUN_DAYS),  # as stored: epoch seconds
    )
    started = time.monotonic()
    try:
        headers.update(_credentials(actor, item, integration))
        answer = integrations.call(actor.scope, item.method, url, headers=headers, body=payload, field="path")
    except (OutboundError, _CallFailed) as error:
        run.error = error.detail if isinstance(error, OutboundError) else str(error)
        run.latency_ms = round((time.monotonic() - started) * 1000, 1)
        repository.record_test(actor, run)
        return run
    matched, problems = _schema_check(item, answer.status, answer.body)
    run.url = answer.url
    run.status = answer.status
    run.latency_ms = round(answer.elapsed * 1000, 1)
    run.response_headers = _kept_headers(answer.headers)
    run.body, run.body_encoding = _body_text(answer.body)
    run.body_bytes = len(answer.body)
    run.body_truncated = len(answer.body) > MAX_TEST_BODY_BYTES
    run.schema_matched = matched
    run.schema_errors = [{"field": p.field, "message": p.message} for p in problems] or None
    run.ok = 200 <= answer.status < 300 and matched is not False
    repository.record_test(actor, run)
    return run


def runs_of(
    actor: Actor, interface_id: str, limit: int, cursor: str | None
) -> tuple[list[InterfaceTestRun], str | None]:
    get(actor, interface_id)
    query = cursors.fingerprint({"route": "interface-tests", "interface_id": interface_id})
    start = cursors.decode(actor.scope, query, cursor)
    items, last = repository.runs_page(actor.scope, interface_id, limit, start)
    return items, cursors.encode(actor.scope, query, last)


def run_of(actor: Actor, interface_id: str, test_id: str) -> InterfaceTestRun:
    get(actor, interface_id)
    found = repository.run_of(actor.scope, interface_id, test_id) if _ID.fullmatch(test_id) else None
    if found is None:
        raise NotFoundError("no such test run")
    return found


# -- the registry as OpenAPI 3.1 --------------------------------------------------------------------------
_RANGES = {
    "1XX": "Informational",
    "2XX": "Success",
    "3XX": "Redirection",
    "4XX": "Client error",
    "5XX": "Server error",
    "default": "Any other answer",
}


def _phrase(code: str) -> str:
    if code in _RANGES:
        return _RANGES[code]
    try:
        return HTTPStatus(int(code)).phrase
    except ValueError:
        return "Response"


def _responses_of(item: Interface) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for code, spec in sorted((item.responses or {}).items()):
        answer: dict[str, Any] = {"description": spec.get("description") or _phrase(code)}
        if spec.get("schema") is not None:
            answer["content"] = {"application/json": {"schema": spec["schema"]}}
        answers[code] = answer
    return answers or {"default": {"description": "Not documented"}}


def _security_of(item: Interface, integration: Integration | None) -> tuple[list[dict[str, list[str]]], dict[str, Any]]:
    """The operation's security requirement and the scheme it names (`{}` for none)."""
    if item.auth_type in ("bearer", "basic"):
        return [{item.auth_type: []}], {item.auth_type: {"type": "http", "scheme": item.auth_type}}
    if item.auth_type == "api_key":
        header = item.api_key_header or DEFAULT_API_KEY_HEADER
        name = f"apiKey_{header}"
        return [{name: []}], {name: {"type": "apiKey", "in": "header", "name": header}}
    if item.auth_type != "integration" or integration is None:
        return [], {}
    name, config = f"integration_{integration.integration_id}", dict(integration.config or {})
    described = f"The credentials of the integration '{integration.name}'"
    if integration.type == "oauth2":
        scopes = [str(s) for s in config.get("scopes") or []]
        flow = {"tokenUrl": str(config["token_url"]), "scopes": {s: s for s in scopes}}
        return [{name: scopes}], {
            name: {"type": "oauth2", "description": described, "flows": {"clientCredentials": flow}}
        }
    header, scheme = str(config.get("auth_header") or "Authorization"), str(config.get("auth_scheme") or "")
    if header.lower() == "authorization" and scheme.lower() in ("bearer", "basic"):
        return [{name: []}], {name: {"type": "http", "scheme": scheme.lower(), "description": described}}
    return [{name: []}], {name: {"type": "apiKey", "in": "header", "name": header, "description": described}}


def _server_of(item: Interface, integration: Integration | None) -> dict[str, str]:
    origin, _ = split_path(item.path)
    if origin is not None:
        return {"url": origin}
    if integration is None:
        return {"url": "/", "description": f"the integration {item.integration_id} no longer exists"}
    base = urllib.parse.urlsplit(str(integration.config["base_url"]))
    url = urllib.parse.urlunsplit((base.scheme, base.netloc, base.path.rstrip("/"), "", ""))
    return {"url": url, "description": integration.name}


def _operation(item: Interface, integration: Integration | None) -> tuple[dict[str, Any], dict[str, Any]]:
    parameters = [
        {
            "name": p["name"],
            "in": p["in"],
            "required": bool(p["required"]) or p["in"] == "path",
            **({"description": p["description"]} if p.get("description") else {}),
            "schema": p["schema"],
        }
        for p in item.parameters or []
    ]
    security, schemes = _security_of(item, integration)
    operation: dict[str, Any] = {
        "operationId": item.interface_id,
        "summary": item.name,
        **({"description": item.description} if item.description else {}),
        "tags": list(dict.fromkeys([item.group, *sorted(item.tags or [])])),
        "servers": [_server_of(item, integration)],
        **({"parameters": parameters} if parameters else {}),
        **(
            {"requestBody": {"content": {"application/json": {"schema": item.request_body}}}}
            if item.request_body is not None
            else {}
        ),
        "responses": _responses_of(item),
        "security": security,
    }
    return operation, schemes


def openapi_document(actor: Actor, *, group: str | None, tag: str | None) -> dict[str, Any]:
    """The registry (or one group / tag of it) as an OpenAPI 3.1 document: operations by path and method, each
    with the server it is called on (an integration's base URL, or the absolute URL's origin)."""
    by_id = repository.integrations_of(actor.scope)
    paths: dict[str, dict[str, Any]] = {}
    schemes: dict[str, Any] = {}
    servers: dict[str, dict[str, str]] = {}
    tags: set[str] = set()
    size, latest, count = 0, "", 0
    for item in sorted(
        repository.every(actor.scope, _filter(group, tag, None, None)), key=lambda i: (i.route, i.method)
    ):
        size += len(json.dumps([item.parameters, item.request_body, item.responses]))
        if size > MAX_EXPORT_BYTES:
            raise ConflictError("the registry is too large for one document: export one group or tag (?group=, ?tag=)")
        integration = by_id.get(item.integration_id or "")
        operation, named = _operation(item, integration)
        schemes.update(named)
        server = operation["servers"][0]
        if server["url"] != "/":
            servers.setdefault(server["url"], server)
        tags.update(operation["tags"])
        paths.setdefault(split_path(item.path)[1], {})[item.method.lower()] = operation
        latest = max(latest, iso(item.updated_at) if item.updated_at else "")
        count += 1
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "API registry",
            "version": latest or "0",
            "description": f"{count} interface{'s' if count != 1 else ''} described in RiverEdge's API registry",
        },
        "servers": [servers[url] for url in sorted(servers)] or [{"url": "/"}],
        "tags": [{"name": t} for t in sorted(tags)],
        "paths": paths,
    }
    if schemes:
        document["components"] = {"securitySchemes": dict(sorted(schemes.items()))}
    return document
