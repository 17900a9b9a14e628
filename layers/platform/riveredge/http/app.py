"""The resolver every domain function uses, and routers whose routes each name a permission.

``create_app`` gives an APIGatewayRestResolver with validation on, CORS, the
problem+json error mapping, a body-size limit, and a middleware that turns the
authorizer context into a :class:`Principal` and runs the route inside that
principal's tenancy scope. ``ApiRouter`` routes must declare ``permission``:
a ``module.action`` code, ``AUTHENTICATED`` (any signed-in caller) or
``PUBLIC`` (no token). The code shows in the OpenAPI as ``x-permission``.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, Router
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel

from riveredge import config_cache, idempotency
from riveredge.actor import Actor
from riveredge.apps import App, app_of_path
from riveredge.auth.principal import Principal
from riveredge.authz import declare
from riveredge.errors import (
    AppDisabledError,
    DomainError,
    ForbiddenError,
    PayloadTooLargeError,
    PreconditionFailedError,
    UnauthorizedError,
    UnsupportedMediaTypeError,
)
from riveredge.http import problems
from riveredge.i18n import first_language, use_request_language
from riveredge.observability import bind_request, logger
from riveredge.scope import use_scope
from riveredge.settings import get_settings

PUBLIC = "public"
AUTHENTICATED = "authenticated"

_PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
_PROBLEM_CONTENT = {problems.PROBLEM_JSON: {"schema": _PROBLEM_SCHEMA}}
_ERROR_STATUSES = {
    400: "Malformed request (bad JSON, cursor or parameter)",
    401: "No valid token",
    403: "Missing permission",
    404: "No such object for this tenant",
    409: "Conflict with the current state",
    412: "Stale version",
    413: "Body too large",
    415: "Unsupported content type",
    422: "Body is not valid",
    429: "Throttled",
}
BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def _error_responses() -> dict[int, Any]:
    return {status: {"description": text, "content": _PROBLEM_CONTENT} for status, text in _ERROR_STATUSES.items()}


def _success_response(status_code: int, given: dict[int, Any] | None) -> dict[int, Any]:
    """The route's success answer: Powertools leaves it out of the OpenAPI once a route names any `responses`."""
    response = {"description": HTTPStatus(status_code).phrase, **(given or {}).get(status_code, {})}
    if status_code == HTTPStatus.NO_CONTENT:
        response["content"] = {}  # no body, so no media type to document
    return {status_code: response}


def current_principal(app: APIGatewayRestResolver | Router) -> Principal:
    """The caller of the route being served (set by the principal middleware)."""
    principal = app.context.get("principal")
    if not isinstance(principal, Principal):
        raise UnauthorizedError("authentication is required")
    return principal


@dataclass(frozen=True)
class RouteRule:
    """What a route requires of its caller."""

    permission: str
    platform_only: bool = False
    app: App | None = None  # the app the route belongs to (refused while the caller's tenant has it off)
    form_body: bool = False  # takes an HTML form's body (RFC 8058's one-click unsubscribe POST) besides JSON

    def refusal(self, principal: Principal | None) -> DomainError | None:
        """Why `principal` may not call the route (None: it may)."""
        if self.permission == PUBLIC:
            return None
        if principal is None:
            return UnauthorizedError("authentication is required")
        if self.platform_only and not principal.is_platform:
            return ForbiddenError("only platform operators may do this")
        if self.app is not None and self.app.code in principal.apps_off:
            return AppDisabledError(self.app.code, self.app.name)
        if self.permission != AUTHENTICATED and not principal.can(self.permission):
            return ForbiddenError(f"permission {self.permission} is required")
        return None


class ApiRouter(Router):
    """A Router whose routes must each name the permission they require."""

    def __init__(self, tag: str) -> None:
        super().__init__()
        self.tag = tag
        self.rules: dict[tuple[str, str], RouteRule] = {}

    def secure(
        self,
        method: str,
        rule: str,
        *,
        permission: str,
        summary: str,
        platform_only: bool = False,
        status_code: int = 200,
        permission_name: str | None = None,
        responses: dict[int, Any] | None = None,
        idempotent: bool | None = None,
        versioned: bool | None = None,
        middlewares: list[Callable[..., Any]] | None = None,
        form_body: bool = False,
        **kwargs: Any,
    ) -> Callable[[Any], Any]:
        """Declare a route. `idempotent` (default: a POST answering 201 or 202 for a signed-in caller) replays
        the first answer to a repeated ``Idempotency-Key``; `versioned` (default: PUT and DELETE) documents
        ``If-Match``, which the route reads with :func:`expected_version`; `form_body` lets a body of an HTML
        form (``application/x-www-form-urlencoded``, ``multipart/form-data``) through the gate, for a route
        that reads it itself."""
        if idempotent is None:
            idempotent = method.upper() == "POST" and status_code in (201, 202) and permission != PUBLIC
        if idempotent and permission == PUBLIC:
            raise ValueError(f"{method} {rule}: an anonymous route has no caller to bind an Idempotency-Key to")
        if versioned is None:
            versioned = method.upper() in ("PUT", "DELETE")
        if permission not in (PUBLIC, AUTHENTICATED):
            declare(permission, permission_name or summary, platform_only=platform_only)
        description = f"Permission: `{permission}`" + (" (platform operators only)" if platform_only else "")
        resource = re.sub(r"<(\w+)>", r"{\1}", rule)  # API Gateway's form of the path
        self.rules[(method.upper(), resource)] = RouteRule(
            permission, platform_only, app_of_path(resource), form_body=form_body
        )
        return self.route(
            rule,
            method,
            summary=summary,
            description=description,
            tags=[self.tag],
            status_code=status_code,
            responses={**_error_responses(), **(responses or {}), **_success_response(status_code, responses)},
            security=None if permission == PUBLIC else BEARER,
            openapi_extensions={
                "x-permission": permission,
                "x-platform-only": platform_only,
                "x-idempotent": idempotent,
                "x-versioned": versioned,
            },
            middlewares=[*(middlewares or []), *([_idempotency_middleware] if idempotent else [])],
            **kwargs,
        )

    def get(self, rule: str, *args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        return self.secure("GET", rule, *args, **kwargs)

    def post(self, rule: str, *args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        return self.secure("POST", rule, *args, **kwargs)

    def put(self, rule: str, *args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        return self.secure("PUT", rule, *args, **kwargs)

    def delete(self, rule: str, *args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        return self.secure("DELETE", rule, *args, **kwargs)


def actor_of(app: APIGatewayRestResolver | Router) -> Actor:
    """The author of the changes the route being served makes."""
    return Actor(current_principal(app), caller(app).request_id)


def requested_language(app: APIGatewayRestResolver | Router, asked: str | None) -> str | None:
    """The language of texts the caller asked for: `?lang=` (`asked`), else the first tag of Accept-Language."""
    if asked:
        return asked
    headers = {k.lower(): v for k, v in (app.current_event.headers or {}).items()}
    return first_language(headers.get("accept-language"))


def _if_match(app: APIGatewayRestResolver | Router) -> str | None:
    headers = {k.lower(): v for k, v in (app.current_event.headers or {}).items()}
    value = headers.get("if-match")
    return None if value is None or value.strip() == "*" else value.strip()


VersionQuery = Annotated[int | None, Query(ge=0, description="The version you read (or send If-Match)")]
CustomFieldQuery = Annotated[
    list[str] | None,
    Query(
        max_length=10,
        description="`<key>:<value>` of a custom field (a multi-select: holds that option); repeat to narrow",
    ),
]


def expected_version(app: APIGatewayRestResolver | Router, version: int | None = None) -> int | None:
    """The version the caller read: `version` (from the body or ``?version=``) or the ``If-Match`` header.

    None when the caller sent neither (the write then checks only the version it read itself). An If-Match
    that names no version we ever issued, or one that disagrees with `version`, is stale: a 412.
    """
    header = _if_match(app)
    if header is None:
        return version
    try:
        named = int(header.removeprefix("W/").strip('"'))
    except ValueError:
        raise PreconditionFailedError("If-Match names no version of this object") from None
    if version is not None and version != named:
        raise PreconditionFailedError("If-Match and version name different versions")
    return named


def with_if_match[Body: BaseModel](app: APIGatewayRestResolver | Router, body: Body) -> Body:
    """An update's body whose ``version`` is checked against If-Match (they must name the same version)."""
    version = expected_version(app, getattr(body, "version", None))
    return body.model_copy(update={"version": version}) if version is not None else body


_SECRET_FIELDS = {"password", "new_password", "current_password", "secret"}


def _without_secrets(value: Any) -> Any:
    """The body as the idempotency record fingerprints it: no password goes into a stored hash."""
    if isinstance(value, dict):
        return {k: _without_secrets(v) for k, v in value.items() if k not in _SECRET_FIELDS}
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    return value


def _idempotency_middleware(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """The first answer to an ``Idempotency-Key`` again for a repeat (same caller, path and body); 422 when the
    body differs, 409 while the first still runs. Failures are not stored: a repeat of a refused request runs."""
    headers = {k.lower(): v for k, v in (app.current_event.headers or {}).items()}
    key = headers.get("idempotency-key")
    if key is None:
        return next_middleware(app)
    event = app.current_event

    def run() -> dict[str, Any]:
        response = next_middleware(app)
        return {
            "status": response.status_code,
            "content_type": response.content_type,
            "headers": dict(response.headers),
            "body": response.body,
        }

    body = event.body
    stored = idempotency.once(
        key,
        operation=f"{event.http_method} {event.path}",
        principal=current_principal(app).user_id,
        payload=_without_secrets(event.json_body) if body else None,
        action=run,
        lambda_context=app.lambda_context,
    )
    return Response(
        status_code=int(stored["status"]),
        content_type=stored.get("content_type"),
        body=stored.get("body"),
        headers=stored.get("headers") or {},
    )


DELETED: dict[int | str, dict[str, Any]] = {204: {"description": "Deleted"}}  # `responses=` of a 204 route


def created_as(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a route answering 201 with a `model` (what :func:`created` answers)."""
    return {201: {"description": "Created", "content": {"application/json": {"model": model}}}}


def no_content() -> Response[str]:
    """A 204 answer."""
    return Response(status_code=204, body="")


def created(body: BaseModel, location: str) -> Response[dict[str, Any]]:
    """A 201 answer with the created object and its Location."""
    return Response(
        status_code=201,
        content_type="application/json",
        body=body.model_dump(mode="json"),
        headers={"Location": location},
    )


@dataclass(frozen=True)
class Caller:
    """Where a request comes from, as API Gateway tells it."""

    request_id: str | None
    ip: str | None
    user_agent: str | None


def caller(app: APIGatewayRestResolver | Router) -> Caller:
    """The request id, source IP and user agent of the request being served."""
    context = app.current_event.raw_event.get("requestContext") or {}
    identity = context.get("identity") or {}
    headers = {k.lower(): v for k, v in (app.current_event.headers or {}).items()}
    return Caller(context.get("requestId"), identity.get("sourceIp"), headers.get("user-agent"))


def _request_id(app: APIGatewayRestResolver) -> str | None:
    context = app.current_event.raw_event.get("requestContext") or {}
    return context.get("requestId")


_JSON_TYPES = ("application/json",)


def _proxy(response: Response[str]) -> dict[str, Any]:
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": problems.PROBLEM_JSON, **response.headers},
        "body": response.body,
        "isBase64Encoded": False,
    }


_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def _body_refusal(event: dict[str, Any], *, form: bool = False) -> DomainError | None:
    body = event.get("body") or ""
    limit = get_settings().max_body_bytes
    size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode())
    if size > limit:
        return PayloadTooLargeError(f"the body may be at most {limit} bytes")
    if body:
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if form and media_type in _FORM_TYPES:
            return None
        if media_type not in _JSON_TYPES and not (
            media_type.startswith("application/") and media_type.endswith("+json")
        ):
            return UnsupportedMediaTypeError("send the body as application/json")
        if event.get("isBase64Encoded") and not _is_utf8(body):
            return problems.MalformedJsonError()  # JSON is UTF-8; Powertools would fail decoding it (a 500)
    return None


def _is_utf8(base64_body: str) -> bool:
    try:
        base64.b64decode(base64_body, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    return True


class RiverEdgeResolver(APIGatewayRestResolver):
    """APIGatewayRestResolver with a gate in front of validation.

    Before a body is parsed, the gate answers 413 / 415 for a body we will not
    read, 401 without a principal and 403 without the route's permission, so
    that a caller who may not call a route learns nothing from its validation.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rules: dict[tuple[str, str], RouteRule] = {}

    @staticmethod
    def _compile_regex(rule: str, base_regex: str = "") -> re.Pattern[str]:
        """A route's pattern, matched to the end of the path: `$` would also match before a final newline,
        so `/api/departments/%0A` would be served as `/api/departments`."""
        return ApiGatewayResolver._compile_regex(rule, r"^{}/*\Z")  # type: ignore[no-any-return]

    def include_router(self, router: Router, prefix: str | None = None) -> None:
        super().include_router(router, prefix)
        if isinstance(router, ApiRouter):
            self.rules.update(router.rules)

    def gate(self, event: dict[str, Any]) -> DomainError | None:
        rule = self.rules.get((str(event.get("httpMethod", "")).upper(), str(event.get("resource", ""))))
        refusal = _body_refusal(event, form=rule is not None and rule.form_body)
        if refusal is not None:
            return refusal
        if rule is None:
            return None  # not one of ours: the resolver answers 404
        context = (event.get("requestContext") or {}).get("authorizer")
        return rule.refusal(Principal.from_context(context))

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        with use_request_language(headers.get("accept-language")):  # problem titles in the caller's language
            refusal = self.gate(dict(event))
            if refusal is not None:
                request_id = (event.get("requestContext") or {}).get("requestId")
                return _proxy(problems.from_domain_error(refusal, request_id))
            return super().resolve(event, context)


def _principal_middleware(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Run the route in the caller's tenancy scope, with the caller in the logs."""
    context = (app.current_event.raw_event.get("requestContext") or {}).get("authorizer")
    principal = Principal.from_context(context)
    bind_request(
        tenant_id=principal.tenant_id if principal else None,
        user_id=principal.user_id if principal else None,
        request_id=_request_id(app),
    )
    if principal is None:
        with config_cache.request():
            return next_middleware(app)
    app.append_context(principal=principal)
    with use_scope(principal.scope), config_cache.request():
        return next_middleware(app)


def create_app(*routers: ApiRouter) -> RiverEdgeResolver:
    """The resolver of one domain function, with its routers included."""
    allow_origin = os.environ.get("CORS_ALLOW_ORIGIN", "*")
    app = RiverEdgeResolver(
        enable_validation=True,
        cors=CORSConfig(
            allow_origin=allow_origin,
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match"],
            expose_headers=["Location", "Retry-After"],
            max_age=600,
        ),
    )
    app.use(middlewares=[_principal_middleware])
    for router in routers:
        app.include_router(router)

    @app.exception_handler(DomainError)
    def handle_domain_error(error: DomainError) -> Response[str]:
        if error.status >= 500:
            logger.exception("internal error", extra={"problem": error.type})
        return problems.from_domain_error(error, _request_id(app))

    @app.exception_handler([RequestValidationError, RequestUnsupportedContentType])
    def handle_validation_error(error: RequestValidationError | RequestUnsupportedContentType) -> Response[str]:
        return problems.from_validation_errors(error.errors(), _request_id(app))

    @app.not_found
    def handle_not_found(_: Exception) -> Response[str]:
        return problems.problem(404, "/problems/not-found", "Not found", "no such route", request_id=_request_id(app))

    @app.exception_handler(Exception)
    def handle_unexpected(error: Exception) -> Response[str]:
        logger.exception("unhandled error")
        return problems.problem(
            500,
            "/problems/internal-error",
            "Internal error",
            "an unexpected error occurred",
            request_id=_request_id(app),
        )

    return app


def openapi_spec(app: APIGatewayRestResolver, title: str) -> dict[str, Any]:
    """This function's OpenAPI document (the local stack merges them)."""
    # Only the local stack and tooling build the document; Lambda never loads these models.
    import json

    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

    spec = json.loads(
        app.get_openapi_json_schema(
            title=title,
            version="1.0.0",
            servers=[Server(url="/")],
            security_schemes={"bearerAuth": HTTPBearer(bearerFormat="JWT")},
        )
    )
    for path in spec.get("paths", {}).values():
        for operation in path.values():
            if isinstance(operation, dict):
                _document_headers(operation)
    return dict(spec)


_HEADERS = {
    "x-idempotent": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "Repeat the request safely: the same key and body answer the first result again "
        "(kept 24 hours); the same key with another body is a 422",
        "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_LENGTH},
    },
    "x-versioned": {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "description": "The version you read (or send `version`); a stale one is a 412 and nothing changes",
        "schema": {"type": "string"},
    },
}


def _document_headers(operation: dict[str, Any]) -> None:
    """The headers the router applies to every route of a kind, in the operation's parameters."""
    parameters = operation.setdefault("parameters", [])
    named = {(p.get("in"), str(p.get("name", "")).lower()) for p in parameters}
    for extension, header in _HEADERS.items():
        if operation.get(extension) and ("header", str(header["name"]).lower()) not in named:
            parameters.append(dict(header))
    if not parameters:
        del operation["parameters"]


def api_function(
    title: str, *routers: ApiRouter
) -> tuple[RiverEdgeResolver, Callable[[dict[str, Any], Any], dict[str, Any]], Callable[[], dict[str, Any]]]:
    """Everything a domain function's app.py exports: the resolver, the Lambda handler, its OpenAPI builder."""
    from aws_lambda_powertools.logging import correlation_paths

    from riveredge.observability import metrics

    app = create_app(*routers)

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.resolve(event, context)

    def openapi() -> dict[str, Any]:
        return openapi_spec(app, title)

    return app, lambda_handler, openapi
