"""Domain errors. Services raise these; one place (riveredge.http.problems) maps them to HTTP."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    """One invalid field of a request: where it is and what is wrong with it."""

    field: str
    message: str


class DomainError(Exception):
    """Base of every error a service raises on purpose.

    `status`, `type` and `title` are stable: clients switch on `type`.
    """

    status = 500
    type = "/problems/internal-error"
    title = "Internal error"

    def __init__(self, detail: str = "", *, errors: list[FieldProblem] | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors or []


class BadRequestError(DomainError):
    status = 400
    type = "/problems/bad-request"
    title = "Request is malformed"


class UnauthorizedError(DomainError):
    status = 401
    type = "/problems/unauthorized"
    title = "Authentication is required"


class ForbiddenError(DomainError):
    status = 403
    type = "/problems/forbidden"
    title = "Permission denied"


class AppDisabledError(ForbiddenError):
    """A route of an app the caller's organisation has switched off (or its tier does not offer)."""

    type = "/problems/app-disabled"
    title = "App disabled"

    def __init__(self, app: str, name: str) -> None:
        super().__init__(f"the app '{name}' ({app}) is switched off for your organisation")
        self.app = app


class PasswordExpiredError(ForbiddenError):
    """The right password, older than the tenant's policy allows: it must be changed before a session opens."""

    type = "/problems/password-expired"
    title = "Password expired"


class NotFoundError(DomainError):
    status = 404
    type = "/problems/not-found"
    title = "Not found"


class MethodNotAllowedError(DomainError):
    status = 405
    type = "/problems/method-not-allowed"
    title = "Method not allowed"


class ConflictError(DomainError):
    status = 409
    type = "/problems/conflict"
    title = "Conflict with the current state"


class PreconditionFailedError(DomainError):
    status = 412
    type = "/problems/stale-version"
    title = "The object has changed since it was read"


class PayloadTooLargeError(DomainError):
    status = 413
    type = "/problems/payload-too-large"
    title = "Request body is too large"


class UnsupportedMediaTypeError(DomainError):
    status = 415
    type = "/problems/unsupported-media-type"
    title = "Unsupported content type"


class ValidationError(DomainError):
    status = 422
    type = "/problems/validation-error"
    title = "Request body is not valid"


class IdempotencyKeyReusedError(DomainError):
    status = 422
    type = "/problems/idempotency-key-reused"
    title = "Idempotency-Key was used with a different request"


class ThrottledError(DomainError):
    status = 429
    type = "/problems/throttled"
    title = "Too many requests"

    def __init__(self, detail: str = "", *, retry_after: int = 60) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class TenantIsolationError(DomainError):
    """A data access whose keys do not belong to the current scope. Always our fault."""

    status = 500
    type = "/problems/internal-error"
    title = "Internal error"
