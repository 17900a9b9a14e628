"""HTTP: the resolver factory, permission-declaring routers, problem+json."""

from riveredge.http.app import (
    AUTHENTICATED,
    PUBLIC,
    ApiRouter,
    CustomFieldQuery,
    VersionQuery,
    actor_of,
    api_function,
    caller,
    create_app,
    created,
    current_principal,
    expected_version,
    openapi_spec,
    with_if_match,
)

__all__ = [
    "AUTHENTICATED",
    "PUBLIC",
    "ApiRouter",
    "CustomFieldQuery",
    "VersionQuery",
    "actor_of",
    "api_function",
    "caller",
    "create_app",
    "created",
    "current_principal",
    "expected_version",
    "openapi_spec",
    "with_if_match",
]
