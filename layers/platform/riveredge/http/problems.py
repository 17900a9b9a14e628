"""The one place where errors become HTTP answers: application/problem+json (RFC 9457)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.event_handler import Response

from riveredge.errors import BadRequestError, DomainError, FieldProblem, ThrottledError
from riveredge.i18n import problem_title

PROBLEM_JSON = "application/problem+json"

_PYDANTIC_MESSAGES = {
    "extra_forbidden": "unknown field",
    "missing": "field required",
}


def problem(
    status: int,
    type_: str,
    title: str,
    detail: str,
    *,
    errors: Sequence[FieldProblem] = (),
    request_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    """A problem answer; its title in the caller's Accept-Language where a shipped bundle translates it."""
    title, language = problem_title(type_, title)
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    if request_id:
        body["request_id"] = request_id
    headers = {"Content-Language": language, "Vary": "Accept-Language", **(headers or {})}
    return Response(status_code=status, content_type=PROBLEM_JSON, body=json.dumps(body), headers=headers)


def from_domain_error(error: DomainError, request_id: str | None) -> Response[str]:
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, ThrottledError) else None
    return problem(
        error.status,
        error.type,
        error.title,
        error.detail,
        errors=error.errors,
        request_id=request_id,
        headers=headers,
    )


def _field_name(location: Sequence[Any]) -> str:
    parts = [str(p) for p in location[1:] if not isinstance(p, int) or len(location) > 2]
    return ".".join(parts) if parts else str(location[0]) if location else "body"


class MalformedJsonError(BadRequestError):
    """A body that is not JSON at all: bad syntax, or bytes that are not UTF-8."""

    type = "/problems/malformed-json"
    title = "Request body is not valid JSON"

    def __init__(self) -> None:
        super().__init__("the body could not be parsed as JSON", errors=[FieldProblem("body", "not valid JSON")])


def malformed_json(request_id: str | None) -> Response[str]:
    return from_domain_error(MalformedJsonError(), request_id)


def from_validation_errors(raw: Sequence[dict[str, Any]], request_id: str | None) -> Response[str]:
    """Powertools / pydantic validation errors as 400 (JSON, query, path, header) or 422 (body)."""
    if any(e.get("type") == "json_invalid" for e in raw):
        return malformed_json(request_id)
    if any(e.get("type") == "unsupported_content_type" for e in raw):
        return problem(
            415,
            "/problems/unsupported-media-type",
            "Unsupported content type",
            "send the body as application/json",
            request_id=request_id,
        )
    problems = [
        FieldProblem(_field_name(e.get("loc", ())), _PYDANTIC_MESSAGES.get(str(e.get("type")), str(e.get("msg"))))
        for e in raw
    ]
    in_body = all((e.get("loc") or ("body",))[0] == "body" for e in raw)
    count = len(problems)
    detail = f"{count} field{'s' if count != 1 else ''} {'is' if count == 1 else 'are'} not valid"
    if in_body:
        return problem(
            422,
            "/problems/validation-error",
            "Request body is not valid",
            detail,
            errors=problems,
            request_id=request_id,
        )
    return problem(
        400,
        "/problems/bad-parameter",
        "Request parameters are not valid",
        detail,
        errors=problems,
        request_id=request_id,
    )
